// AVX-512 GEMV for bf16 weights on pair-split activations (gemv_bf16.h).
#include "kernels/cpu/gemv_bf16.h"

#include <immintrin.h>

#include "base/check.h"
#include "kernels/cpu/const_dispatch.h"

namespace ocular::kernels::cpu {
namespace {

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
  const __m512i high = _mm512_set1_epi32(static_cast<int32_t>(0xffff0000u));
  auto even = [](__m512i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); };
  auto odd = [&](__m512i v) { return _mm512_castsi512_ps(_mm512_and_si512(v, high)); };
  for (int64_t j = row_begin; j < row_end; ++j) {
    const auto* row = reinterpret_cast<const uint16_t*>(base + j * stride);
    if constexpr (M == 1) {
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      int64_t c = 0;
      for (; c + 64 <= k; c += 64) {
        const __m512i v0 = _mm512_loadu_si512(row + c);
        const __m512i v1 = _mm512_loadu_si512(row + c + 32);
        a0 = _mm512_fmadd_ps(even(v0), _mm512_loadu_ps(xs + c), a0);
        a1 = _mm512_fmadd_ps(odd(v0), _mm512_loadu_ps(xs + c + 16), a1);
        a2 = _mm512_fmadd_ps(even(v1), _mm512_loadu_ps(xs + c + 32), a2);
        a3 = _mm512_fmadd_ps(odd(v1), _mm512_loadu_ps(xs + c + 48), a3);
      }
      if (c < k) {  // k % 64 == 32
        const __m512i v0 = _mm512_loadu_si512(row + c);
        a0 = _mm512_fmadd_ps(even(v0), _mm512_loadu_ps(xs + c), a0);
        a1 = _mm512_fmadd_ps(odd(v0), _mm512_loadu_ps(xs + c + 16), a1);
      }
      const float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
      y[j] = s + (bias ? bias[j] : 0.0f);
    } else {
      __m512 acc[M][2];
      for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
      for (int64_t c = 0; c < k; c += 32) {
        const __m512i v = _mm512_loadu_si512(row + c);
        const __m512 we = even(v), wo = odd(v);
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
