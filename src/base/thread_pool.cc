#include "base/thread_pool.h"

#include <algorithm>

#include "base/check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define OCULAR_PAUSE() _mm_pause()
#else
#define OCULAR_PAUSE() (void)0
#endif

namespace ocular {
namespace {
// Marks threads that are executing pool tasks, so nested ParallelFor calls run inline.
thread_local bool tls_in_pool_task = false;
constexpr int kSpinIterations = 20000;  // ~ tens of microseconds before sleeping
}  // namespace

int ThreadPool::DefaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads > 0 ? num_threads : DefaultThreadCount()) {
  CHECK_GE(num_threads_, 1);
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::DrainTasks(int thread_index) {
  for (;;) {
    int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= job_num_tasks_) break;
    job_fn_(job_ctx_, task, thread_index);
  }
}

void ThreadPool::Run(int64_t num_tasks, TaskFn fn, void* ctx) {
  if (tls_in_pool_task || workers_.empty() || num_tasks == 1) {
    bool was = tls_in_pool_task;
    tls_in_pool_task = true;
    for (int64_t i = 0; i < num_tasks; ++i) fn(ctx, i, 0);
    tls_in_pool_task = was;
    return;
  }
  std::lock_guard<std::mutex> lock(run_mutex_);
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_num_tasks_ = num_tasks;
  next_task_.store(0, std::memory_order_relaxed);
  workers_pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> sleep_lock(sleep_mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  work_cv_.notify_all();

  tls_in_pool_task = true;
  DrainTasks(0);
  tls_in_pool_task = false;

  for (int spin = 0; workers_pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpinIterations) {
      OCULAR_PAUSE();
    } else {
      std::unique_lock<std::mutex> sleep_lock(sleep_mutex_);
      done_cv_.wait(sleep_lock,
                    [&] { return workers_pending_.load(std::memory_order_acquire) == 0; });
    }
  }
}

void ThreadPool::WorkerLoop(int thread_index) {
  tls_in_pool_task = true;
  uint64_t seen = 0;  // generation_ at construction; a late-starting worker must not skip job 1
  for (;;) {
    uint64_t g;
    for (int spin = 0;; ++spin) {
      g = generation_.load(std::memory_order_acquire);
      if (g != seen) break;
      if (spin < kSpinIterations) {
        OCULAR_PAUSE();
      } else {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        work_cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    DrainTasks(thread_index);
    if (workers_pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      done_cv_.notify_all();
    }
  }
}

}  // namespace ocular
