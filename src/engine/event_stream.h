// EventStream: the per-request channel from the engine thread to the caller (thread-safe).
// The engine pushes; the caller pops with a timeout (so a server thread can notice a client
// disconnect while waiting). Closed after the finish event.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "engine/engine_types.h"

namespace ocular::engine {

class EventStream {
 public:
  void Push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (e.type == Event::Type::kFinish) finished_ = true;
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  // Waits up to `timeout` for an event. False on timeout.
  bool Pop(Event* out, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
    *out = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  bool finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool finished_ = false;
};

}  // namespace ocular::engine
