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
    stop_.store(true, std::memory_order_seq_cst);
    // An empty job with a new sequence number wakes the spinning workers.
    const uint64_t seq = (SeqOf(state_.load(std::memory_order_relaxed)) + 1) & 0xffff;
    state_.store(seq << (2 * kIndexBits), std::memory_order_seq_cst);
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

uint64_t ThreadPool::DrainTasks(int thread_index) {
  for (;;) {
    const uint64_t s = state_.fetch_add(1, std::memory_order_acq_rel);
    if (IndexOf(s) >= CountOf(s)) return SeqOf(s);
    // The claimed task keeps its job current: the caller cannot publish the next job, and
    // so rewrite job_fn_ / job_ctx_, before this task is counted done.
    job_fn_(job_ctx_, IndexOf(s), thread_index);
    if (tasks_done_.fetch_add(1, std::memory_order_seq_cst) + 1 == CountOf(s) &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      done_cv_.notify_all();
    }
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
  if (num_tasks <= kMaxJobTasks) {
    RunJob(num_tasks, fn, ctx);
    return;
  }
  // More tasks than one job word can count: run them as consecutive jobs.
  struct Offset {
    TaskFn fn;
    void* ctx;
    int64_t base;
  } off{fn, ctx, 0};
  TaskFn shifted = [](void* c, int64_t task, int thread) {
    const Offset* o = static_cast<const Offset*>(c);
    o->fn(o->ctx, o->base + task, thread);
  };
  for (; off.base < num_tasks; off.base += kMaxJobTasks) {
    RunJob(std::min(kMaxJobTasks, num_tasks - off.base), shifted, &off);
  }
}

void ThreadPool::RunJob(int64_t num_tasks, TaskFn fn, void* ctx) {
  job_fn_ = fn;
  job_ctx_ = ctx;
  tasks_done_.store(0, std::memory_order_relaxed);
  const uint64_t seq = (SeqOf(state_.load(std::memory_order_relaxed)) + 1) & 0xffff;
  park_.store(false, std::memory_order_relaxed);  // published with the job
  state_.store((seq << (2 * kIndexBits)) | (static_cast<uint64_t>(num_tasks) << kIndexBits),
               std::memory_order_seq_cst);
  if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
    // The mutex orders this notify after a sleeper's predicate check (no lost wake-up).
    { std::lock_guard<std::mutex> sleep_lock(sleep_mutex_); }
    work_cv_.notify_all();
  }

  tls_in_pool_task = true;
  DrainTasks(0);
  tls_in_pool_task = false;

  for (int spin = 0; tasks_done_.load(std::memory_order_acquire) != num_tasks; ++spin) {
    if (spin < kSpinIterations) {
      OCULAR_PAUSE();
      continue;
    }
    std::unique_lock<std::mutex> sleep_lock(sleep_mutex_);
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    done_cv_.wait(sleep_lock, [&] {
      return tasks_done_.load(std::memory_order_seq_cst) == num_tasks;
    });
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }
}

void ThreadPool::WorkerLoop(int thread_index) {
  tls_in_pool_task = true;
  // The sequence at construction; a late-starting worker must not skip job 1. The
  // constructor publishes nothing, so state_ is still 0 here or already holds a new job.
  uint64_t seen = 0;
  // stop_ is checked with the sequence: a worker draining the last job can claim (and so
  // "see") the destructor's empty stop job inside DrainTasks, and would then wait forever
  // for a sequence change that never comes.
  for (;;) {
    for (int spin = 0; SeqOf(state_.load(std::memory_order_acquire)) == seen &&
                       !stop_.load(std::memory_order_acquire);
         ++spin) {
      if (spin < kSpinIterations && !park_.load(std::memory_order_relaxed)) {
        OCULAR_PAUSE();
        continue;
      }
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
      work_cv_.wait(lock, [&] {
        return SeqOf(state_.load(std::memory_order_seq_cst)) != seen || stop_.load(std::memory_order_seq_cst);
      });
      sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = DrainTasks(thread_index);
  }
}

}  // namespace ocular
