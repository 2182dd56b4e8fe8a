// AVX-512 GEMV for bf16 weights on pair-split activations (gemv_bf16.h).
#include "kernels/cpu/gemv_bf16.h"

#include <immintrin.h>

#include "base/check.h"
#include "kernels/cpu/const_dispatch.h"

namespace ocular::kernels::cpu {
namespace {

// bf16 weights widened to f32: the even-position values of 32 (the low halves of the 32-bit
// lanes) by one shift, the odd ones (the high halves) by one mask.
inline __m512 EvenBf16(__m512i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); }
inline __m512 OddBf16(__m512i v) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(v, _mm512_set1_epi32(static_cast<int32_t>(0xffff0000u))));
}

// a[0..3] += the 64 weights of `row` from column c against the pair-split activations: the
// one-row step of both loops below (a[0] and a[2] the even halves, a[1] and a[3] the odd).
inline void Fma64(const uint16_t* row, const float* xs, int64_t c, __m512* a) {
  const __m512i v0 = _mm512_loadu_si512(row + c);
  const __m512i v1 = _mm512_loadu_si512(row + c + 32);
  a[0] = _mm512_fmadd_ps(EvenBf16(v0), _mm512_loadu_ps(xs + c), a[0]);
  a[1] = _mm512_fmadd_ps(OddBf16(v0), _mm512_loadu_ps(xs + c + 16), a[1]);
  a[2] = _mm512_fmadd_ps(EvenBf16(v1), _mm512_loadu_ps(xs + c + 32), a[2]);
  a[3] = _mm512_fmadd_ps(OddBf16(v1), _mm512_loadu_ps(xs + c + 48), a[3]);
}

inline float Sum4(const __m512* a) {
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])));
}

// One activation row against long rows (k >= kHalvedRowCols, k % 64 == 0): groups of
// kHalvedRows rows, each row in two halves, the group's first halves before its second
// halves, so the activation half they share (<= 16 KiB of f32 at 8,192 columns) stays in the
// L1 while a whole row (12 KiB of bf16) and the whole activation (24 KiB) at 6,144 columns
// would not. The weights are then read in runs of half a row; each run's lines are
// prefetched into L2 while the run before it is read (the hardware prefetcher would start
// over at every run). Each row's four accumulators continue across its halves in column
// order: the same bits as the row-at-a-time loop. Returns the first row not done (fewer
// than kHalvedRows left). The [2048 x 6144] down product, alternated pass by pass with the
// row-at-a-time loop: 32.7 against 29.0 GB/s in the slow bandwidth level, 40.2 against 29.9
// in the fast one (half-row runs of 2,048 columns instead: 35.6 against 30.5 fast; without
// the software prefetch the runs read slower than whole rows, 25.7 against 29.9). Whole bf16
// decode steps alternated step by step: ahead in 5 of 5 runs, +5-9%.
constexpr int64_t kHalvedRowCols = 4096;
constexpr int kHalvedRows = 4;
int64_t GemvBf16HalvedRows(const float* xs, const WeightMatrix& w, int64_t row_begin,
                           int64_t row_end, const float* bias, float* y) {
  const int64_t k = w.cols;
  const int64_t half = (k / 2 + 63) / 64 * 64;
  const int64_t stride = w.Stride();
  const auto* base = static_cast<const uint8_t*>(w.data);
  auto row_at = [&](int64_t j) { return reinterpret_cast<const uint16_t*>(base + j * stride); };
  int64_t j = row_begin;
  for (; j + kHalvedRows <= row_end; j += kHalvedRows) {
    __m512 a[kHalvedRows][4];
    for (auto& ar : a) ar[0] = ar[1] = ar[2] = ar[3] = _mm512_setzero_ps();
    for (int64_t c0 = 0; c0 < k; c0 += half) {
      const int64_t c1 = c0 + half < k ? c0 + half : k;
      for (int r = 0; r < kHalvedRows; ++r) {
        const uint16_t* row = row_at(j + r);
        // The next run: this half of the next row, the next half of the group's first row,
        // or the next group's first row.
        const uint16_t* next = r + 1 < kHalvedRows ? row_at(j + r + 1) + c0
                               : c1 < k            ? row_at(j) + c1
                                                   : row_at(j + kHalvedRows);
        for (int64_t c = c0; c < c1; c += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(next + (c - c0)), _MM_HINT_T1);
          _mm_prefetch(reinterpret_cast<const char*>(next + (c - c0) + 32), _MM_HINT_T1);
          Fma64(row, xs, c, a[r]);
        }
      }
    }
    for (int r = 0; r < kHalvedRows; ++r) y[j + r] = Sum4(a[r]) + (bias ? bias[j + r] : 0.0f);
  }
  return j;
}

// Weight rows [row_begin, row_end) for M activation rows. One row at a time: the core's
// hardware prefetcher follows one sequential stream (two rows at once, two streams, measured
// slower). M == 1 keeps four accumulators (two per 64 weights) for independent FMA chains.
template <int M>
void GemvBf16SplitM(const float* xs, int64_t xs_stride, const WeightMatrix& w,
                    int64_t row_begin, int64_t row_end, const float* bias, float* y,
                    int64_t y_stride) {
  const int64_t k = w.cols;
  const int64_t stride = w.Stride();
  const auto* base = static_cast<const uint8_t*>(w.data);
  int64_t j = row_begin;
  if constexpr (M == 1) {
    if (k >= kHalvedRowCols && k % 64 == 0) j = GemvBf16HalvedRows(xs, w, j, row_end, bias, y);
  }
  for (; j < row_end; ++j) {
    const auto* row = reinterpret_cast<const uint16_t*>(base + j * stride);
    if constexpr (M == 1) {
      __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
      int64_t c = 0;
      for (; c + 64 <= k; c += 64) Fma64(row, xs, c, a);
      if (c < k) {  // k % 64 == 32
        const __m512i v0 = _mm512_loadu_si512(row + c);
        a[0] = _mm512_fmadd_ps(EvenBf16(v0), _mm512_loadu_ps(xs + c), a[0]);
        a[1] = _mm512_fmadd_ps(OddBf16(v0), _mm512_loadu_ps(xs + c + 16), a[1]);
      }
      y[j] = Sum4(a) + (bias ? bias[j] : 0.0f);
    } else {
      __m512 acc[M][2];
      for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
      for (int64_t c = 0; c < k; c += 32) {
        const __m512i v = _mm512_loadu_si512(row + c);
        const __m512 we = EvenBf16(v), wo = OddBf16(v);
        for (int i = 0; i < M; ++i) {
          const float* xi = xs + i * xs_stride + c;
          acc[i][0] = _mm512_fmadd_ps(we, _mm512_loadu_ps(xi), acc[i][0]);
          acc[i][1] = _mm512_fmadd_ps(wo, _mm512_loadu_ps(xi + 16), acc[i][1]);
        }
      }
      for (int i = 0; i < M; ++i) {
        y[i * y_stride + j] =
            _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1])) + (bias ? bias[j] : 0.0f);
      }
    }
  }
}

}  // namespace

void SplitPairs(const float* x, int64_t x_stride, int64_t m, int64_t k, float* out) {
  CHECK_EQ(k % 32, 0);
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * x_stride;
    float* oi = out + i * k;
    for (int64_t c = 0; c < k; c += 32) {
      for (int t = 0; t < 16; ++t) {
        oi[c + t] = xi[c + 2 * t];
        oi[c + 16 + t] = xi[c + 2 * t + 1];
      }
    }
  }
}

void GemvBf16SplitAvx512(const float* xs, int64_t xs_stride, int64_t m, const WeightMatrix& w,
                         int64_t row_begin, int64_t row_end, const float* bias, float* y,
                         int64_t y_stride) {
  CHECK(w.dtype == DType::kBF16 && w.cols % 32 == 0);
  WithGemvRows(m, [&](auto rows) {
    GemvBf16SplitM<decltype(rows)::value>(xs, xs_stride, w, row_begin, row_end, bias, y, y_stride);
  });
}

}  // namespace ocular::kernels::cpu
