// Scalar reference bodies and the per-call ISA dispatch of row_kernels.h.
#include "engine/sampling/row_kernels.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace ocular::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t ArgmaxScalar(const float* values, int64_t n) {
  int64_t best = -1;
  float best_value = kNegInf;
  for (int64_t i = 0; i < n; ++i) {
    if (values[i] > best_value) {  // strict: ties keep the lower id; NaN compares false
      best_value = values[i];
      best = i;
    }
  }
  return best;
}

float SanitizeCopyScalar(const float* src, float* dst, int64_t n) {
  float max_value = kNegInf;
  for (int64_t i = 0; i < n; ++i) {
    float v = src[i];
    if (std::isnan(v)) v = kNegInf;
    if (v > FLT_MAX) v = FLT_MAX;
    dst[i] = v;
    max_value = std::max(max_value, v);
  }
  return max_value;
}

void TopKScalar(const float* values, int64_t n, int64_t k, std::vector<Candidate>* heap) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = values[i];
    if (!(v > kNegInf)) continue;
    // Once full, only a strictly larger value can enter (a later id loses ties).
    if (static_cast<int64_t>(heap->size()) == k && !(v > heap->front().value)) continue;
    internal::HeapOffer(heap, k, {v, static_cast<int32_t>(i)});
  }
}

void CollectAtLeastScalar(const float* values, int64_t n, float threshold,
                          std::vector<Candidate>* out) {
  for (int64_t i = 0; i < n; ++i) {
    if (values[i] >= threshold) out->push_back({values[i], static_cast<int32_t>(i)});
  }
}

double SumExpScalar(const float* values, int64_t n, float shift, float scale,
                    std::vector<double>* block_sums) {
  double total = 0.0;
  for (int64_t begin = 0; begin < n; begin += kSumExpBlock) {
    const int64_t end = std::min(n, begin + kSumExpBlock);
    double block = 0.0;
    for (int64_t i = begin; i < end; ++i) {
      block += std::exp(static_cast<double>(values[i] - shift) * scale);
    }
    if (block_sums != nullptr) block_sums->push_back(block);
    total += block;
  }
  return total;
}

}  // namespace

namespace internal {

void HeapOffer(std::vector<Candidate>* heap, int64_t k, Candidate c) {
  // The heap's front is its worst element (std heaps put the comparator's maximum first, and
  // with CandidateBetter as "less" the maximum is the element better than no other).
  if (static_cast<int64_t>(heap->size()) < k) {
    heap->push_back(c);
    std::push_heap(heap->begin(), heap->end(), CandidateBetter);
  } else if (CandidateBetter(c, heap->front())) {
    std::pop_heap(heap->begin(), heap->end(), CandidateBetter);
    heap->back() = c;
    std::push_heap(heap->begin(), heap->end(), CandidateBetter);
  }
}

}  // namespace internal

RowIsa BestRowIsa() {
  static_assert(sizeof(Candidate) == 8);
  return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? RowIsa::kAvx2
                                                                           : RowIsa::kScalar;
}

int64_t ArgmaxRow(const float* values, int64_t n, RowIsa isa) {
  CHECK_GE(n, 0);
  return isa == RowIsa::kAvx2 ? internal::ArgmaxAvx2(values, n) : ArgmaxScalar(values, n);
}

float SanitizeCopyRow(const float* src, float* dst, int64_t n, RowIsa isa) {
  CHECK_GE(n, 0);
  return isa == RowIsa::kAvx2 ? internal::SanitizeCopyAvx2(src, dst, n)
                              : SanitizeCopyScalar(src, dst, n);
}

void TopKRow(const float* values, int64_t n, int64_t k, RowIsa isa, std::vector<Candidate>* out) {
  CHECK_GE(n, 0);
  out->clear();
  if (k <= 0) return;
  out->reserve(static_cast<size_t>(std::min(k, n)));
  if (isa == RowIsa::kAvx2) {
    internal::TopKAvx2(values, n, k, out);
  } else {
    TopKScalar(values, n, k, out);
  }
  std::sort(out->begin(), out->end(), internal::CandidateBetter);
}

void CollectAtLeastRow(const float* values, int64_t n, float threshold, RowIsa isa,
                       std::vector<Candidate>* out) {
  CHECK_GE(n, 0);
  if (isa == RowIsa::kAvx2) {
    internal::CollectAtLeastAvx2(values, n, threshold, out);
  } else {
    CollectAtLeastScalar(values, n, threshold, out);
  }
}

double SumExpRow(const float* values, int64_t n, float shift, float scale, RowIsa isa,
                 std::vector<double>* block_sums) {
  CHECK_GE(n, 0);
  CHECK(scale > 0.0f) << "scale " << scale;
  if (block_sums != nullptr) block_sums->clear();
  return isa == RowIsa::kAvx2 ? internal::SumExpAvx2(values, n, shift, scale, block_sums)
                              : SumExpScalar(values, n, shift, scale, block_sums);
}

}  // namespace ocular::sampling
