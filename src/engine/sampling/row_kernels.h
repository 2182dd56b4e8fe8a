// Single-pass kernels over one logits row ([vocab], f32) used by the sampler. Each has a scalar
// body (the reference) and an AVX2 body; the ISA is chosen once per call (STYLE.md rule 13).
// Ordering used everywhere: a larger value wins, equal values go to the lower id, NaN loses to
// everything (it is never selected) and +inf wins.
#pragma once

#include <cstdint>
#include <vector>

namespace ocular::sampling {

enum class RowIsa { kScalar, kAvx2 };

// The best ISA this CPU supports (checked once per call site, cheap).
RowIsa BestRowIsa();

// One selection candidate: a token id and its (possibly transformed) logit.
struct Candidate {
  float value;
  int32_t id;
};

// Index of the largest value (ties -> lowest index; NaN never wins). Returns -1 when n == 0 or
// no element is greater than -inf.
int64_t ArgmaxRow(const float* values, int64_t n, RowIsa isa);

// dst[i] = src[i] with NaN -> -inf and +inf -> FLT_MAX (so that differences stay finite);
// returns the largest dst value (-inf when n == 0 or every element is NaN / -inf).
float SanitizeCopyRow(const float* src, float* dst, int64_t n, RowIsa isa);

// The k best candidates (value desc, then id asc) among elements with value > -inf, written
// sorted to *out (fewer than k when fewer qualify). Requires: no NaN in `values`.
void TopKRow(const float* values, int64_t n, int64_t k, RowIsa isa, std::vector<Candidate>* out);

// Appends to *out, in increasing id order, every element with value >= threshold.
void CollectAtLeastRow(const float* values, int64_t n, float threshold, RowIsa isa,
                       std::vector<Candidate>* out);

// Returns sum_i exp((values[i] - shift) * scale), accumulated in double. Requires
// values[i] <= shift (so every term is in [0, 1]), no NaN, scale > 0. When block_sums is not
// null it receives one partial sum per kSumExpBlock consecutive elements (for inverse-CDF
// sampling over the full row without a second exp pass over the whole row).
constexpr int64_t kSumExpBlock = 64;
double SumExpRow(const float* values, int64_t n, float shift, float scale, RowIsa isa,
                 std::vector<double>* block_sums);

namespace internal {
// AVX2 bodies (row_kernels_avx2.cc); only called when the CPU supports AVX2 and FMA.
int64_t ArgmaxAvx2(const float* values, int64_t n);
float SanitizeCopyAvx2(const float* src, float* dst, int64_t n);
void TopKAvx2(const float* values, int64_t n, int64_t k, std::vector<Candidate>* heap);
void CollectAtLeastAvx2(const float* values, int64_t n, float threshold,
                        std::vector<Candidate>* out);
double SumExpAvx2(const float* values, int64_t n, float shift, float scale,
                  std::vector<double>* block_sums);
// Heap helpers shared by both bodies: a min-heap of the k best seen so far (front = worst).
// A function object (not a function pointer) so std heap algorithms inline the comparison.
struct CandidateBetterFn {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.value > b.value || (a.value == b.value && a.id < b.id);
  }
};
inline constexpr CandidateBetterFn CandidateBetter{};
void HeapOffer(std::vector<Candidate>* heap, int64_t k, Candidate c);
}  // namespace internal

}  // namespace ocular::sampling
