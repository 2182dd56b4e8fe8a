#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace ocular {
namespace {

// The pool's two task loops, as one callable each: run(pool, n, fn).
constexpr auto kParallelFor = [](ThreadPool& pool, int64_t n, auto&& fn) { pool.ParallelFor(n, fn); };
constexpr auto kInRuns = [](ThreadPool& pool, int64_t n, auto&& fn) {
  pool.ParallelForInRuns(n, fn);
};

// Every task runs exactly once, on a valid thread index, for 1 to 4 threads.
template <typename Run>
void ExpectEveryTaskOnce(Run run) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 17, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      run(pool, n, [&](int64_t task, int thread) {
        ASSERT_GE(thread, 0);
        ASSERT_LT(thread, threads);
        hits[task].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "task " << i;
    }
  }
}

// A loop issued from inside a task runs inline on the calling worker (no deadlock).
template <typename Run>
void ExpectNestedCallsRunInline(Run run) {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.ParallelFor(4, [&](int64_t, int) { run(pool, 3, [&](int64_t, int) { total.fetch_add(1); }); });
  EXPECT_EQ(total.load(), 12);
}

TEST(ThreadPoolTest, RunsEveryTaskOnce) { ExpectEveryTaskOnce(kParallelFor); }

TEST(ThreadPoolTest, ParallelRangeCoversExactly) {
  ThreadPool pool(3);
  for (int64_t n : {1, 5, 64, 1001}) {
    for (int64_t grain : {1, 8, 64}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelRange(n, grain, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1);
    }
  }
}

TEST(ThreadPoolTest, InRunsRunsEveryTaskOnce) { ExpectEveryTaskOnce(kInRuns); }

// Each thread starts at the front of its own run and walks it in order. The worker takes the
// second half's tasks first: whichever thread claims first, the caller cannot reach them
// before the worker has run two (it is held in task 0 until then, and it takes task 0 before
// anything of the second half). The caller, if it runs task 0 at all, runs it first (on a
// loaded host the worker may have taken the whole first half before the caller claims).
TEST(ThreadPoolTest, InRunsEachThreadWalksItsOwnRunInOrder) {
  ThreadPool pool(2);
  constexpr int64_t kTasks = 10;
  std::mutex mu;
  std::vector<int64_t> order[2];
  std::atomic<int> worker_done{0};
  pool.ParallelForInRuns(kTasks, [&](int64_t task, int thread) {
    {
      std::lock_guard<std::mutex> lock(mu);
      order[thread].push_back(task);
    }
    if (thread == 1) worker_done.fetch_add(1);
    if (thread == 0 && task == 0) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (worker_done.load() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
  });
  ASSERT_GE(order[1].size(), 2u);
  if (std::find(order[0].begin(), order[0].end(), 0) != order[0].end()) {
    EXPECT_EQ(order[0].front(), 0);
  }
  EXPECT_EQ(order[1][0], kTasks / 2);
  EXPECT_EQ(order[1][1], kTasks / 2 + 1);
  for (const auto& o : order) {
    for (size_t i = 1; i < o.size(); ++i) {
      // Within one run, claims are in order (a thread may move on to another run).
      if ((o[i] < kTasks / 2) == (o[i - 1] < kTasks / 2)) {
        EXPECT_GT(o[i], o[i - 1]);
      }
    }
  }
  EXPECT_EQ(order[0].size() + order[1].size(), static_cast<size_t>(kTasks));
}

TEST(ThreadPoolTest, InRunsNestedInATaskRunsInline) { ExpectNestedCallsRunInline(kInRuns); }

TEST(ThreadPoolTest, NestedCallsRunInline) { ExpectNestedCallsRunInline(kParallelFor); }

TEST(ThreadPoolTest, ConcurrentCallersAreSerialised) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 50; ++r) pool.ParallelFor(10, [&](int64_t t, int) { sum += t; });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(sum.load(), 4 * 50 * 45);
}


// Many short jobs back to back: a worker that wakes late for one job must neither run a task
// twice nor run one of a job that has already returned (the caller's frame is gone by then).
TEST(ThreadPoolTest, ManyShortJobsRunEachTaskOnce) {
  ThreadPool pool(3);
  for (int r = 0; r < 20000; ++r) {
    const int64_t n = 1 + r % 5;
    std::vector<int> hits(static_cast<size_t>(n), 0);  // [n] per-job, on this frame
    pool.ParallelFor(n, [&](int64_t task, int) { ++hits[static_cast<size_t>(task)]; });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)], 1) << "job " << r;
  }
}

// Workers that went to sleep (idle pool) still wake for the next job: of two tasks, the one
// the caller runs waits for a worker to have run the other.
// Runs a two-task job in which the caller's task waits (up to 20 s) for a worker to run the
// other one; returns whether a worker did, and counts the tasks run.
bool WorkerRunsATask(ThreadPool& pool, int* tasks_run = nullptr) {
  std::atomic<bool> worker_ran{false};
  std::atomic<int> tasks{0};
  pool.ParallelFor(2, [&](int64_t, int thread) {
    tasks.fetch_add(1);
    if (thread != 0) {
      worker_ran.store(true);
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!worker_ran.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  if (tasks_run != nullptr) *tasks_run = tasks.load();
  return worker_ran.load();
}

TEST(ThreadPoolTest, WakesSleepingWorkers) {
  ThreadPool pool(2);
  for (int r = 0; r < 3; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the spin phase
    EXPECT_TRUE(WorkerRunsATask(pool)) << "round " << r;
  }
}

// Park() sends idle workers to sleep at once; the next job wakes them and clears it (the
// worker must run a task of each later job, which it could not if it stayed asleep).
TEST(ThreadPoolTest, ParkedWorkersWakeForTheNextJob) {
  ThreadPool pool(2);
  for (int r = 0; r < 50; ++r) {
    pool.ParallelFor(4, [](int64_t, int) {});
    pool.Park();
    if (r % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    int tasks = 0;
    EXPECT_TRUE(WorkerRunsATask(pool, &tasks)) << "round " << r;
    EXPECT_EQ(tasks, 2);
  }
}

// Regression: a worker still draining the last job could claim the destructor's stop job
// and then wait forever, hanging the destructor (seen under ThreadSanitizer's timing).
TEST(ThreadPoolTest, DestroyRightAfterAJobNeverHangs) {
  for (int i = 0; i < 300; ++i) {
    std::atomic<int> runs{0};
    {
      ThreadPool pool(3);
      pool.ParallelFor(2, [&](int64_t, int) { runs.fetch_add(1); });
    }  // ~ThreadPool joins every worker
    ASSERT_EQ(runs.load(), 2);
  }
}

}  // namespace
}  // namespace ocular
