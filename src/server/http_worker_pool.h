// HttpWorkerPool: the HTTP server's connection workers (an httplib::TaskQueue).
//
// Every open connection (a keep-alive client, a stream) holds one worker, so the pool must be
// allowed to reach `max_threads` (1,024 by default). httplib's own ThreadPool starts them all
// up front and wakes whichever waits on its shared condition variable; over a long run every
// one of the 1,024 threads ends up serving some connection, and each keeps its touched stack
// pages, its malloc thread cache and its share of the malloc arenas. The soak measured that
// as RSS growing 10-30 KiB per request until all threads had run (about 180 KiB per thread).
//
// This pool keeps the number of threads that ever run close to the peak number of open
// connections instead:
//   - threads start on demand, only when no idle one is left (up to `max_threads`);
//   - the most recently idle thread takes the next connection (LIFO), so a steady load
//     reuses the same few hot threads;
//   - a thread idle for `idle_timeout` exits (its thread cache goes back to the allocator);
//   - past `max_threads` connections wait in FIFO order, as in httplib's pool.
// shutdown() runs the queued work, then joins every thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ocular::server {

class HttpWorkerPool : public httplib::TaskQueue {
 public:
  HttpWorkerPool(size_t max_threads, std::chrono::milliseconds idle_timeout);
  ~HttpWorkerPool() override;
  HttpWorkerPool(const HttpWorkerPool&) = delete;
  HttpWorkerPool& operator=(const HttpWorkerPool&) = delete;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // Threads alive now / idle now / started since construction (for tests and metrics).
  size_t threads_alive() const;
  size_t threads_idle() const;
  size_t threads_started() const;

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable wake;
    std::function<void()> job;  // handed over by enqueue() while idle
    bool exited = false;
  };

  void Run(Worker* self);
  // Joins the threads that retired; called without mu_ held.
  void JoinRetired(std::vector<std::unique_ptr<Worker>> retired);
  std::vector<std::unique_ptr<Worker>> TakeRetiredLocked();

  const size_t max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::list<std::unique_ptr<Worker>> workers_;  // alive or retired, not yet joined
  std::vector<Worker*> idle_;                   // LIFO: back() is the most recently idle
  std::deque<std::function<void()>> queue_;     // work waiting for a free thread
  size_t alive_ = 0;
  size_t started_ = 0;
  bool shutdown_ = false;
};

}  // namespace ocular::server
