#include "server/http_worker_pool.h"

#include <algorithm>
#include <system_error>
#include <utility>

namespace ocular::server {

HttpWorkerPool::HttpWorkerPool(size_t max_threads, std::chrono::milliseconds idle_timeout)
    : max_threads_(std::max<size_t>(1, max_threads)), idle_timeout_(idle_timeout) {}

HttpWorkerPool::~HttpWorkerPool() { shutdown(); }

void HttpWorkerPool::enqueue(std::function<void()> fn) {
  std::vector<std::unique_ptr<Worker>> retired;
  bool run_here = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    retired = TakeRetiredLocked();
    if (shutdown_) {
      // httplib stops accepting before it shuts the queue down; should a connection still
      // arrive, serving it here closes its socket instead of leaking it.
      run_here = true;
    } else if (!idle_.empty()) {
      Worker* w = idle_.back();  // the most recently idle thread: its stack and caches are warm
      idle_.pop_back();
      w->job = std::move(fn);
      w->wake.notify_one();
    } else if (alive_ < max_threads_) {
      auto w = std::make_unique<Worker>();
      Worker* raw = w.get();
      raw->job = std::move(fn);
      try {
        // Run() takes mu_ before it reads anything, so starting it under the lock is safe.
        raw->thread = std::thread(&HttpWorkerPool::Run, this, raw);
        workers_.push_back(std::move(w));
        ++alive_;
        ++started_;
      } catch (const std::system_error&) {
        // Out of threads: the connection waits for a running worker, or is served here.
        fn = std::move(raw->job);
        if (alive_ > 0) {
          queue_.push_back(std::move(fn));
        } else {
          run_here = true;
        }
      }
    } else {
      queue_.push_back(std::move(fn));
    }
  }
  JoinRetired(std::move(retired));
  if (run_here && fn) fn();
}

void HttpWorkerPool::Run(Worker* self) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    std::function<void()> job = std::move(self->job);
    self->job = nullptr;
    l.unlock();
    job();
    job = nullptr;  // the connection's captured state goes outside the lock
    l.lock();
    if (!queue_.empty()) {
      self->job = std::move(queue_.front());
      queue_.pop_front();
      continue;
    }
    if (shutdown_) break;
    idle_.push_back(self);
    self->wake.wait_for(l, idle_timeout_, [&] { return self->job != nullptr || shutdown_; });
    if (self->job) continue;  // enqueue() handed this thread a connection (and took it off idle_)
    // Idle too long, or shutting down: leave the idle list and exit.
    idle_.erase(std::find(idle_.begin(), idle_.end(), self));
    break;
  }
  --alive_;
  self->exited = true;  // joined by the next enqueue() or by shutdown()
}

std::vector<std::unique_ptr<HttpWorkerPool::Worker>> HttpWorkerPool::TakeRetiredLocked() {
  std::vector<std::unique_ptr<Worker>> retired;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if ((*it)->exited) {
      retired.push_back(std::move(*it));
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return retired;
}

void HttpWorkerPool::JoinRetired(std::vector<std::unique_ptr<Worker>> retired) {
  for (auto& w : retired) w->thread.join();  // already past its last use of the pool
}

void HttpWorkerPool::shutdown() {
  std::list<std::unique_ptr<Worker>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_ = true;
    for (Worker* w : idle_) w->wake.notify_one();
    // No thread starts after shutdown_ is set, so this is every thread there will be.
    all.swap(workers_);
  }
  // Busy threads finish their connection and the queued ones, then exit.
  for (auto& w : all) w->thread.join();
}

size_t HttpWorkerPool::threads_alive() const {
  std::lock_guard<std::mutex> l(mu_);
  return alive_;
}

size_t HttpWorkerPool::threads_idle() const {
  std::lock_guard<std::mutex> l(mu_);
  return idle_.size();
}

size_t HttpWorkerPool::threads_started() const {
  std::lock_guard<std::mutex> l(mu_);
  return started_;
}

}  // namespace ocular::server
