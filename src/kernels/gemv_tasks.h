// The weight-row tasks of a GEMV over one or more matrices that read the same activations
// (MatMul, MatMulMulti). The pool's ParallelForInRuns hands thread r the run of tasks
// [count * r / threads, count * (r + 1) / threads) and lets a thread that finishes its run
// take the next task of another's; a task already started cannot be shared, so a run that is
// a task longer than the others costs the product up to a task of time. Tasks are cut by
// bytes of weights, not by rows: the task count is a multiple of the thread count and task t
// starts at the 16-row group nearest to byte total * t / count of the matrices laid end to
// end, so every run holds the same bytes to within a group per boundary whatever the
// matrices' shapes and dtypes. The earlier fixed 224-row q4_0 tasks cut a [2048 x 2048]
// matrix (the attention output) into runs of 1120 and 928 rows; against that split, call by
// call in one process from DRAM, the even one read 30.4-30.8 GB/s against 29.5-30.3 (the
// thread left alone meanwhile takes more of the bandwidth, so less than the 9% of rows).
// Task size: 256 KiB and 1 MiB measured within noise of each other on decode
// (docs/performance.md).
#pragma once

#include <cstdint>
#include <span>

#include "kernels/kernels.h"

namespace ocular::kernels {

class GemvTasks {
 public:
  // Tasks of ~`task_bytes` (for a prefill-sized m the int8 GEMV re-reads a task's weights
  // for every 8 activation rows, so they should fit a core's L2).
  static constexpr int64_t kTaskBytes = int64_t{256} << 10;
  static constexpr int kMaxParts = 8;

  GemvTasks(std::span<const WeightMatrix* const> ws, int threads, int64_t task_bytes = kTaskBytes);
  explicit GemvTasks(const WeightMatrix& w, int threads, int64_t task_bytes = kTaskBytes);

  int64_t count() const { return count_; }

  // fn(part, row_begin, row_end) for each matrix's rows in task t: one call, or one per
  // matrix where the task crosses into the next; none for an empty task. Boundaries are
  // multiples of 16 rows (or a matrix's end), as the packed layout's groups need.
  template <typename Fn>
  void ForRows(int64_t t, Fn&& fn) const {
    const Cut a = CutAt(t), b = CutAt(t + 1);
    for (int p = a.part; p <= b.part && p < num_parts_; ++p) {
      const int64_t begin = p == a.part ? a.row : 0;
      const int64_t end = p == b.part ? b.row : rows_[p];
      if (begin < end) fn(p, begin, end);
    }
  }

 private:
  struct Cut {
    int part;     // num_parts_ at the end
    int64_t row;  // a multiple of 16 below rows_[part]
  };
  void AddPart(const WeightMatrix& w);
  void Init(int threads, int64_t task_bytes);
  Cut CutAt(int64_t t) const;

  int num_parts_ = 0;
  int64_t rows_[kMaxParts] = {};
  int64_t group_bytes_[kMaxParts] = {};  // bytes of 16 rows
  int64_t total_bytes_ = 0;
  int64_t count_ = 0;
};

}  // namespace ocular::kernels
