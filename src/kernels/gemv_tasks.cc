#include "kernels/gemv_tasks.h"

#include <algorithm>

#include "base/check.h"

namespace ocular::kernels {
namespace {

// Bytes a GEMV reads for 16 rows of w.
int64_t GroupBytes(const WeightMatrix& w) {
  return w.packed() ? GemvGroupBytes(w.dtype, w.cols) : 16 * w.Stride();
}

}  // namespace

GemvTasks::GemvTasks(std::span<const WeightMatrix* const> ws, int threads, int64_t task_bytes) {
  CHECK_LE(ws.size(), static_cast<size_t>(kMaxParts)) << "too many matrices for one GEMV";
  for (const WeightMatrix* w : ws) AddPart(*w);
  Init(threads, task_bytes);
}

GemvTasks::GemvTasks(const WeightMatrix& w, int threads, int64_t task_bytes) {
  AddPart(w);
  Init(threads, task_bytes);
}

void GemvTasks::AddPart(const WeightMatrix& w) {
  rows_[num_parts_] = w.rows;
  group_bytes_[num_parts_] = std::max<int64_t>(1, GroupBytes(w));
  ++num_parts_;
}

void GemvTasks::Init(int threads, int64_t task_bytes) {
  CHECK_GE(threads, 1);
  CHECK_GE(task_bytes, 1);
  int64_t groups = 0;
  for (int p = 0; p < num_parts_; ++p) {
    const int64_t g = (rows_[p] + 15) / 16;
    groups += g;
    total_bytes_ += g * group_bytes_[p];
  }
  if (groups == 0) return;  // no rows: no tasks
  const int64_t by_bytes = std::max<int64_t>(1, (total_bytes_ + task_bytes - 1) / task_bytes);
  count_ = (by_bytes + threads - 1) / threads * threads;
  // Fewer groups than tasks would leave tasks empty; a single group is a single task.
  if (count_ > groups) count_ = groups >= threads ? groups / threads * threads : groups;
}

GemvTasks::Cut GemvTasks::CutAt(int64_t t) const {
  if (t >= count_) return {num_parts_, 0};
  // The byte offset where task t starts; products of 64-bit values stay far from overflow
  // (total_bytes_ < 2^40, count_ < 2^24).
  const int64_t target = total_bytes_ / count_ * t + total_bytes_ % count_ * t / count_;
  int64_t start = 0;  // the part's first byte
  for (int p = 0; p < num_parts_; ++p) {
    const int64_t groups = (rows_[p] + 15) / 16;
    const int64_t bytes = groups * group_bytes_[p];
    if (target < start + bytes) {
      const int64_t g = (target - start + group_bytes_[p] / 2) / group_bytes_[p];
      if (g < groups) return {p, g * 16};
      return {p + 1, 0};  // nearest to this part's end: the next part's start
    }
    start += bytes;
  }
  return {num_parts_, 0};
}

}  // namespace ocular::kernels
