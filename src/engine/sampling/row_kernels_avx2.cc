// AVX2 bodies of row_kernels.h. Compiled with -mavx2 -mfma (see CMakeLists.txt); reached only
// through the dispatch in row_kernels.cc after a CPU check. Each body mirrors its scalar
// reference exactly except SumExp, whose exp is a polynomial with ~2 ulp error (tested).
#include <immintrin.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "base/check.h"
#include "engine/sampling/row_kernels.h"

namespace ocular::sampling::internal {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// exp(t) for t <= 0 (Cephes expf range reduction and polynomial); 0 for t < -87 and -inf.
inline __m256 ExpNonPositive(__m256 t) {
  const __m256 underflow = _mm256_cmp_ps(t, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
  t = _mm256_max_ps(t, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i pow2n =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(y, _mm256_castsi256_ps(pow2n));
  return _mm256_andnot_ps(underflow, result);
}

inline double HorizontalSum(__m256 v) {
  const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(lo, hi));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

}  // namespace

int64_t ArgmaxAvx2(const float* values, int64_t n) {
  CHECK_LT(n, int64_t{1} << 31);
  constexpr int kAcc = 4;  // independent accumulators hide the compare+blend latency
  __m256 best[kAcc];
  __m256 best_id[kAcc];  // int32 ids carried in float registers for blendv
  for (int a = 0; a < kAcc; ++a) {
    best[a] = _mm256_set1_ps(kNegInf);
    best_id[a] = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  int64_t i = 0;
  for (; i + 8 * kAcc <= n; i += 8 * kAcc) {
    for (int a = 0; a < kAcc; ++a) {
      const __m256 x = _mm256_loadu_ps(values + i + 8 * a);
      const __m256 gt = _mm256_cmp_ps(x, best[a], _CMP_GT_OQ);  // NaN -> false
      const __m256i ids =
          _mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int32_t>(i + 8 * a)));
      best[a] = _mm256_blendv_ps(best[a], x, gt);
      best_id[a] = _mm256_blendv_ps(best_id[a], _mm256_castsi256_ps(ids), gt);
    }
  }
  // Combine the lanes: within a lane ids only grow, so the lane keeps its first maximum;
  // across lanes the lowest id among equal maxima wins.
  float best_value = kNegInf;
  int64_t best_index = -1;
  for (int a = 0; a < kAcc; ++a) {
    alignas(32) float v[8];
    alignas(32) int32_t id[8];
    _mm256_store_ps(v, best[a]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(id), _mm256_castps_si256(best_id[a]));
    for (int l = 0; l < 8; ++l) {
      if (id[l] < 0) continue;
      if (v[l] > best_value || (v[l] == best_value && id[l] < best_index)) {
        best_value = v[l];
        best_index = id[l];
      }
    }
  }
  for (; i < n; ++i) {  // tail ids exceed every vector id: strict > keeps ties on the lower id
    if (values[i] > best_value) {
      best_value = values[i];
      best_index = i;
    }
  }
  return best_index;
}

float SanitizeCopyAvx2(const float* src, float* dst, int64_t n) {
  const __m256 neg_inf = _mm256_set1_ps(kNegInf);
  const __m256 flt_max = _mm256_set1_ps(FLT_MAX);
  __m256 max0 = neg_inf, max1 = neg_inf;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 x0 = _mm256_loadu_ps(src + i);
    __m256 x1 = _mm256_loadu_ps(src + i + 8);
    x0 = _mm256_min_ps(_mm256_blendv_ps(x0, neg_inf, _mm256_cmp_ps(x0, x0, _CMP_UNORD_Q)), flt_max);
    x1 = _mm256_min_ps(_mm256_blendv_ps(x1, neg_inf, _mm256_cmp_ps(x1, x1, _CMP_UNORD_Q)), flt_max);
    _mm256_storeu_ps(dst + i, x0);
    _mm256_storeu_ps(dst + i + 8, x1);
    max0 = _mm256_max_ps(max0, x0);
    max1 = _mm256_max_ps(max1, x1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(max0, max1));
  float max_value = kNegInf;
  for (float v : lanes) max_value = std::max(max_value, v);
  for (; i < n; ++i) {
    float v = src[i];
    if (std::isnan(v)) v = kNegInf;
    if (v > FLT_MAX) v = FLT_MAX;
    dst[i] = v;
    max_value = std::max(max_value, v);
  }
  return max_value;
}

void TopKAvx2(const float* values, int64_t n, int64_t k, std::vector<Candidate>* heap) {
  int64_t i = 0;
  // Fill the heap with the first k eligible elements.
  for (; i < n && static_cast<int64_t>(heap->size()) < k; ++i) {
    if (values[i] > kNegInf) HeapOffer(heap, k, {values[i], static_cast<int32_t>(i)});
  }
  if (static_cast<int64_t>(heap->size()) < k) return;  // fewer than k eligible in the row
  // From here on only elements strictly above the current worst can enter (a later id with an
  // equal value loses the tie), so whole blocks below the threshold are skipped.
  for (; i + 16 <= n; i += 16) {
    const __m256 thr = _mm256_set1_ps(heap->front().value);
    const __m256 x0 = _mm256_loadu_ps(values + i);
    const __m256 x1 = _mm256_loadu_ps(values + i + 8);
    const int mask = _mm256_movemask_ps(_mm256_cmp_ps(x0, thr, _CMP_GT_OQ)) |
                     (_mm256_movemask_ps(_mm256_cmp_ps(x1, thr, _CMP_GT_OQ)) << 8);
    if (mask == 0) continue;
    for (int bits = mask; bits != 0; bits &= bits - 1) {
      const int64_t j = i + __builtin_ctz(static_cast<unsigned>(bits));
      HeapOffer(heap, k, {values[j], static_cast<int32_t>(j)});
    }
  }
  for (; i < n; ++i) {
    if (values[i] > kNegInf) HeapOffer(heap, k, {values[i], static_cast<int32_t>(i)});
  }
}

void CollectAtLeastAvx2(const float* values, int64_t n, float threshold,
                        std::vector<Candidate>* out) {
  const __m256 thr = _mm256_set1_ps(threshold);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int mask =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(values + i), thr, _CMP_GE_OQ)) |
        (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(values + i + 8), thr, _CMP_GE_OQ)) << 8);
    for (int bits = mask; bits != 0; bits &= bits - 1) {
      const int64_t j = i + __builtin_ctz(static_cast<unsigned>(bits));
      out->push_back({values[j], static_cast<int32_t>(j)});
    }
  }
  for (; i < n; ++i) {
    if (values[i] >= threshold) out->push_back({values[i], static_cast<int32_t>(i)});
  }
}

double SumExpAvx2(const float* values, int64_t n, float shift, float scale,
                  std::vector<double>* block_sums) {
  static_assert(kSumExpBlock == 64, "the loop below handles 8 vectors per block");
  const __m256 vshift = _mm256_set1_ps(shift);
  const __m256 vscale = _mm256_set1_ps(scale);
  double total = 0.0;
  int64_t i = 0;
  for (; i + kSumExpBlock <= n; i += kSumExpBlock) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int v = 0; v < 8; v += 2) {
      const __m256 t0 =
          _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(values + i + 8 * v), vshift), vscale);
      const __m256 t1 =
          _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(values + i + 8 * v + 8), vshift), vscale);
      acc0 = _mm256_add_ps(acc0, ExpNonPositive(t0));
      acc1 = _mm256_add_ps(acc1, ExpNonPositive(t1));
    }
    const double block = HorizontalSum(_mm256_add_ps(acc0, acc1));
    if (block_sums != nullptr) block_sums->push_back(block);
    total += block;
  }
  if (i < n) {
    double block = 0.0;
    for (; i < n; ++i) block += std::exp(static_cast<double>(values[i] - shift) * scale);
    if (block_sums != nullptr) block_sums->push_back(block);
    total += block;
  }
  return total;
}

}  // namespace ocular::sampling::internal
