// ThreadPool: a persistent pool of compute threads for data-parallel kernels.
//
// Low latency on few cores: workers spin briefly before sleeping, the calling thread takes part
// in the work, and there is exactly one pool per process context (created in apps/, passed
// down; STYLE.md rule 12), so our threads never oversubscribe the cores.
//
// Thread-safety: ParallelFor may be called from any thread; concurrent calls are serialised.
// A ParallelFor issued from inside a task runs inline on the calling worker (no deadlock).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace ocular {

class ThreadPool {
 public:
  // `num_threads` counts the caller: 1 means no worker threads. 0 picks the number of cores.
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs fn(task, thread_index) for every task in [0, num_tasks) and returns when all are
  // done. thread_index is in [0, num_threads()) and unique among concurrently running tasks.
  template <typename Fn>
  void ParallelFor(int64_t num_tasks, Fn&& fn) {
    if (num_tasks <= 0) return;
    using F = std::remove_reference_t<Fn>;
    Run(num_tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Runs fn(task, thread_index) for every task in [0, num_tasks), like ParallelFor, but
  // hands the tasks out in runs: the tasks are split into num_threads() contiguous runs, each
  // thread takes the tasks of its own run in order, then helps with the others' (from their
  // fronts). Where consecutive tasks read consecutive memory (a matrix's rows), each thread
  // then reads one sequential stream, which the hardware prefetcher follows across task
  // boundaries; ParallelFor's shared counter interleaves the threads' tasks, so every task
  // starts a new stream. A descheduled thread's tasks are still taken by the others.
  template <typename Fn>
  void ParallelForInRuns(int64_t num_tasks, Fn&& fn) {
    if (num_tasks <= 0) return;
    if (num_tasks == 1 || num_threads_ == 1) {
      for (int64_t t = 0; t < num_tasks; ++t) fn(t, 0);
      return;
    }
    std::vector<TaskRun> runs(static_cast<size_t>(num_threads_));
    for (int64_t r = 0; r < num_threads_; ++r) {
      runs[r].next.store(num_tasks * r / num_threads_, std::memory_order_relaxed);
      runs[r].end = num_tasks * (r + 1) / num_threads_;
    }
    ParallelFor(num_threads_, [&](int64_t, int thread) {
      for (int64_t t = ClaimInRuns(runs, thread); t >= 0; t = ClaimInRuns(runs, thread)) {
        fn(t, thread);
      }
    });
  }

  // Splits [0, n) into about num_threads() contiguous ranges (multiples of `grain`) and runs
  // fn(begin, end, thread_index) on each.
  template <typename Fn>
  void ParallelRange(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t chunks = (n + grain - 1) / grain;
    int64_t parts = std::min<int64_t>(chunks, num_threads_);
    int64_t per = (chunks + parts - 1) / parts * grain;
    ParallelFor(parts, [&](int64_t p, int t) {
      int64_t b = p * per, e = std::min(n, b + per);
      if (b < e) fn(b, e, t);
    });
  }

  // Idle workers stop spinning and sleep until the next job. For a caller about to hand the
  // cores to another runtime (oneDNN's OpenMP threads): a worker spinning meanwhile takes a
  // core from one of those threads, and a statically split product waits for its slowest.
  // Cleared by the next job.
  void Park() { park_.store(true, std::memory_order_relaxed); }

  static int DefaultThreadCount();

 private:
  // ParallelForInRuns' runs of tasks, one cache line each.
  struct alignas(64) TaskRun {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  // The next task for `thread`: its own run first, then the others'; -1 when all are taken.
  static int64_t ClaimInRuns(std::vector<TaskRun>& runs, int thread) {
    const size_t n = runs.size();
    for (size_t i = 0; i < n; ++i) {
      TaskRun& run = runs[(static_cast<size_t>(thread) + i) % n];
      if (run.next.load(std::memory_order_relaxed) >= run.end) continue;
      const int64_t t = run.next.fetch_add(1, std::memory_order_relaxed);
      if (t < run.end) return t;
    }
    return -1;
  }

  using TaskFn = void (*)(void* ctx, int64_t task, int thread);
  void Run(int64_t num_tasks, TaskFn fn, void* ctx);
  // Publishes one job of at most kMaxJobTasks tasks and returns when all of them are done.
  void RunJob(int64_t num_tasks, TaskFn fn, void* ctx);
  void WorkerLoop(int thread_index);
  // Claims and runs tasks until the claimed index is past the job's end; returns the job
  // sequence number it last saw.
  uint64_t DrainTasks(int thread_index);

  // The job state packs (sequence, task count, next task) into one word, so a worker that
  // claims a task learns in the same atomic step which job the task belongs to and whether
  // it exists: a worker that wakes late can never run a task of a finished job, and the
  // caller joins on completed tasks, not on every worker checking in (on a loaded host a
  // descheduled worker would otherwise hold up every join for a scheduler time slice).
  static constexpr int kIndexBits = 24;
  static constexpr int64_t kMaxJobTasks = (int64_t{1} << (kIndexBits - 1));
  static uint64_t SeqOf(uint64_t s) { return s >> (2 * kIndexBits); }
  static int64_t CountOf(uint64_t s) {
    return static_cast<int64_t>((s >> kIndexBits) & ((uint64_t{1} << kIndexBits) - 1));
  }
  static int64_t IndexOf(uint64_t s) {
    return static_cast<int64_t>(s & ((uint64_t{1} << kIndexBits) - 1));
  }

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // serialises ParallelFor callers

  // The current job: fields written by the caller before it publishes state_, read by a
  // worker only after it claimed a task of that job (so they are stable until it finishes).
  TaskFn job_fn_ = nullptr;
  void* job_ctx_ = nullptr;
  std::atomic<uint64_t> state_{0};   // [seq:16 | num_tasks:24 | next_task:24]
  std::atomic<int64_t> tasks_done_{0};
  std::atomic<bool> stop_{false};
  // Sleeping after the spin phase: std::atomic::wait in libstdc++ 12 can lose wake-ups for
  // 64-bit atomics, so waits use a mutex and condition variables. The counters let the
  // common case (everyone spinning) skip the mutex and the notify system calls.
  std::atomic<bool> park_{false};  // set: idle workers sleep instead of spinning
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::mutex sleep_mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
};

}  // namespace ocular
