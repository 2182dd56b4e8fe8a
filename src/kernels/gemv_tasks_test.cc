// GemvTasks: the tasks cover every row of every matrix once, in order, on 16-row boundaries,
// and each thread's run of tasks holds the same bytes to within one 16-row group per end.
#include "kernels/gemv_tasks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace ocular::kernels {
namespace {

// A matrix's shape only (GemvTasks never reads data).
WeightMatrix Shape(DType dtype, int64_t rows, int64_t cols, bool packed) {
  WeightMatrix w;
  w.dtype = dtype;
  w.rows = rows;
  w.cols = cols;
  w.layout = packed ? WeightLayout::kGemvPacked : WeightLayout::kRowMajor;
  return w;
}

int64_t GroupBytes(const WeightMatrix& w) {
  return w.packed() ? GemvGroupBytes(w.dtype, w.cols) : 16 * w.Stride();
}

// Checks coverage and the balance of ParallelForInRuns' runs (thread r: tasks
// [count * r / threads, count * (r + 1) / threads)).
void ExpectEvenRuns(const std::vector<WeightMatrix>& ws, int threads) {
  std::vector<const WeightMatrix*> ptrs;
  for (const WeightMatrix& w : ws) ptrs.push_back(&w);
  const GemvTasks tasks(ptrs, threads);
  int64_t groups = 0, total = 0, max_group = 0;
  for (const WeightMatrix& w : ws) {
    groups += (w.rows + 15) / 16;
    total += (w.rows + 15) / 16 * GroupBytes(w);
    max_group = std::max(max_group, GroupBytes(w));
  }
  if (groups == 0) {
    EXPECT_EQ(tasks.count(), 0);
    return;
  }
  ASSERT_GE(tasks.count(), 1);
  if (groups >= threads) {
    EXPECT_EQ(tasks.count() % threads, 0) << "runs of unequal task counts";
  }
  // Coverage: the rows of part p come in order, each once.
  std::vector<int64_t> next(ws.size(), 0);
  std::vector<int64_t> task_bytes(static_cast<size_t>(tasks.count()), 0);
  int last_part = 0;
  for (int64_t t = 0; t < tasks.count(); ++t) {
    tasks.ForRows(t, [&](int p, int64_t b, int64_t e) {
      ASSERT_GE(p, last_part) << "task " << t;
      last_part = p;
      for (int q = 0; q < p; ++q) ASSERT_EQ(next[q], ws[q].rows) << "part " << q << " left rows";
      ASSERT_EQ(b, next[p]) << "task " << t << " part " << p;
      ASSERT_LT(b, e);
      ASSERT_LE(e, ws[p].rows);
      ASSERT_EQ(b % 16, 0);
      ASSERT_TRUE(e % 16 == 0 || e == ws[p].rows);
      next[p] = e;
      task_bytes[t] += (e - b + 15) / 16 * GroupBytes(ws[p]);
    });
    if (::testing::Test::HasFatalFailure()) return;
  }
  for (size_t p = 0; p < ws.size(); ++p) EXPECT_EQ(next[p], ws[p].rows) << "part " << p;
  // Balance: every run within one group of the even share (one half group at each end).
  const int runs = static_cast<int>(std::min<int64_t>(threads, tasks.count()));
  for (int r = 0; r < runs; ++r) {
    int64_t bytes = 0;
    for (int64_t t = tasks.count() * r / runs; t < tasks.count() * (r + 1) / runs; ++t) {
      bytes += task_bytes[t];
    }
    EXPECT_LE(std::llabs(bytes * runs - total), max_group * runs)
        << "run " << r << " of " << runs << ": " << bytes << " bytes of " << total;
  }
  // Tasks near the requested size: none more than twice it (plus a group).
  if (groups >= 2 * threads) {
    for (int64_t t = 0; t < tasks.count(); ++t) {
      EXPECT_LE(task_bytes[t], 2 * GemvTasks::kTaskBytes + max_group) << "task " << t;
    }
  }
}

TEST(GemvTasks, OneMatrixSplitsEvenlyBetweenThreads) {
  // The [2048 x 2048] q4_0 attention output: fixed 224-row tasks made runs of 1120 / 928 rows.
  ExpectEvenRuns({Shape(DType::kQ4_0, 2048, 2048, true)}, 2);
  ExpectEvenRuns({Shape(DType::kQ8_0, 2048, 2048, true)}, 2);
  ExpectEvenRuns({Shape(DType::kQ4_0, 2048, 6144, true)}, 2);
  ExpectEvenRuns({Shape(DType::kBF16, 2048, 2048, false)}, 2);
  ExpectEvenRuns({Shape(DType::kQ6_K, 151936, 2048, true)}, 2);
  ExpectEvenRuns({Shape(DType::kQ4_0, 2048, 2048, true)}, 3);
  ExpectEvenRuns({Shape(DType::kF32, 1000, 96, false)}, 4);
}

TEST(GemvTasks, MatricesOfDifferentDtypesShareTheRunsByBytes) {
  // Q4_K_M-like q / k / v: q4_k, q4_k and a q6_k v (1.46x the bytes per row).
  ExpectEvenRuns({Shape(DType::kQ4_K, 2048, 2048, true), Shape(DType::kQ4_K, 1024, 2048, true),
                  Shape(DType::kQ6_K, 1024, 2048, true)},
                 2);
  ExpectEvenRuns({Shape(DType::kQ8_0, 130, 96, false), Shape(DType::kF16, 41, 96, false),
                  Shape(DType::kQ4_0, 0, 96, false), Shape(DType::kQ4_0, 77, 96, false)},
                 2);
  ExpectEvenRuns({Shape(DType::kQ4_0, 6144, 2048, true), Shape(DType::kQ4_0, 6144, 2048, true)}, 2);
}

TEST(GemvTasks, SmallAndEmptyShapes) {
  ExpectEvenRuns({Shape(DType::kQ4_0, 0, 64, true)}, 2);
  ExpectEvenRuns({Shape(DType::kQ4_0, 5, 64, true)}, 2);   // one group: one task
  ExpectEvenRuns({Shape(DType::kQ4_0, 40, 64, true)}, 2);  // three groups, two threads
  ExpectEvenRuns({Shape(DType::kQ4_0, 33, 64, false)}, 1);
  ExpectEvenRuns({Shape(DType::kF32, 17, 8, false), Shape(DType::kF32, 0, 8, false)}, 8);
}

}  // namespace
}  // namespace ocular::kernels
