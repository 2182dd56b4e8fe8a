// AVX-512 VNNI int8 GEMV for q4_k / q6_k weights (gemv_kquant.h).
//
// Per 256-value weight block, shared by the up to 8 activation rows of a pass: the quants as
// four 64-byte vectors of unsigned values (q4_k nibbles 0..15, q6_k 0..63) and, for each
// vector, the integer scale of the sub-block every int32 lane belongs to. Per activation row:
// four vpdpbusd (unsigned weights x signed activations), each lane times its scale (exact:
// |lane| <= 4 * 63 * 127 before, <= 2^23 after), summed, then one convert and one FMA with
// d * d_x. The q4_k mins (dmin * m_s * sum of sub-block s's activations) and the q6_k offset
// (32 * sc_s * sum of sub-block s's activations) come from the q8_K block sums.
#include "kernels/cpu/gemv_kquant.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "base/check.h"
#include "tensor/half.h"

namespace ocular::kernels::cpu {
namespace {

inline float Half(uint16_t h) { return _cvtsh_ss(h); }

// Software prefetch distance in the weight stream (rows are read one after another).
constexpr int kPrefetch = 4096;

// Lane l of a product vector belongs to sub-block `a` for l < 8 and `b` from lane 8 on.
inline __m512i HalvesIndex(int a, int b) {
  return _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi32(a), _mm512_set1_epi32(b));
}

// The 6-bit scales and mins of a q4_k block's 8 sub-blocks, one byte each (ref::Q4KScaleMin
// for every j at once). Bytes 0-3 of the 12 hold scales 0-3 in their low 6 bits and the top
// 2 bits of scales 4-7 in their high 2; bytes 4-7 the same for the mins; bytes 8-11 the low 4
// bits of scales 4-7 (low nibbles) and mins 4-7 (high nibbles).
inline void Q4KScalesMins(const uint8_t* q, uint64_t* scales, uint64_t* mins) {
  uint32_t a, b, c;
  std::memcpy(&a, q, 4);
  std::memcpy(&b, q + 4, 4);
  std::memcpy(&c, q + 8, 4);
  const uint32_t sc_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
  const uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
  *scales = (a & 0x3f3f3f3fu) | (uint64_t{sc_hi} << 32);
  *mins = (b & 0x3f3f3f3fu) | (uint64_t{mn_hi} << 32);
}

inline float ReduceAdd256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// q4_k: the 128 quant bytes as two 64-byte loads; the low nibbles of bytes 0-31 are sub-block
// 0 (values 0-31), of bytes 32-63 sub-block 2 (values 64-95), the high nibbles sub-blocks 1
// and 3; the second load likewise sub-blocks 4-7. Vector v pairs with the activations of its
// two sub-blocks, read as two 32-byte halves.
template <int M>
void GemvQ4K(const BlockQ8_K* xq, int64_t xq_stride, const WeightMatrix& w, int64_t row_begin,
             int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  const int64_t nsb = w.cols / kQK_K;
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i idx[4] = {HalvesIndex(0, 2), HalvesIndex(1, 3), HalvesIndex(4, 6),
                          HalvesIndex(5, 7)};
  constexpr int kXOffset[4] = {0, 32, 128, 160};  // first activation of vector v's lanes 0-7
  const __m256i ones16 = _mm256_set1_epi16(1);
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t stride = w.Stride();  // once: Row() works it out from the dtype on every call
  for (int64_t j = row_begin; j < row_end; ++j) {
    const auto* blocks = reinterpret_cast<const BlockQ4_K*>(base + j * stride);
    __m512 acc[M];
    __m256 acc_min[M];
    for (int i = 0; i < M; ++i) {
      acc[i] = _mm512_setzero_ps();
      acc_min[i] = _mm256_setzero_ps();
    }
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const BlockQ4_K& b = blocks[sb];
      const char* ahead = reinterpret_cast<const char*>(&b) + kPrefetch;
      _mm_prefetch(ahead, _MM_HINT_T0);
      _mm_prefetch(ahead + 64, _MM_HINT_T0);
      _mm_prefetch(ahead + 128, _MM_HINT_T0);
      uint64_t sc8, mn8;
      Q4KScalesMins(b.scales, &sc8, &mn8);
      const __m512i sc = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(sc8)));
      const __m256i mn = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(mn8)));
      const __m512i q0 = _mm512_loadu_si512(b.qs), q1 = _mm512_loadu_si512(b.qs + 64);
      const __m512i wq[4] = {
          _mm512_and_si512(q0, low4), _mm512_and_si512(_mm512_srli_epi16(q0, 4), low4),
          _mm512_and_si512(q1, low4), _mm512_and_si512(_mm512_srli_epi16(q1, 4), low4)};
      __m512i s[4];
      for (int v = 0; v < 4; ++v) s[v] = _mm512_permutexvar_epi32(idx[v], sc);
      const float d = Half(b.d), dmin = Half(b.dmin);
      for (int i = 0; i < M; ++i) {
        const BlockQ8_K& x = xq[i * xq_stride + sb];
        __m512i t = zero;
        for (int v = 0; v < 4; ++v) {
          const int8_t* xs = x.qs + kXOffset[v];
          const __m512i xv = _mm512_inserti64x4(
              _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs))),
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs + 64)), 1);
          t = _mm512_add_epi32(t, _mm512_mullo_epi32(_mm512_dpbusd_epi32(zero, wq[v], xv), s[v]));
        }
        // Sums of each 32-value sub-block's activations, times its min.
        const __m256i xs32 =
            _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums)), ones16);
        const __m256i mins = _mm256_mullo_epi32(mn, xs32);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_set1_ps(d * x.d), acc[i]);
        acc_min[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(dmin * x.d), acc_min[i]);
      }
    }
    for (int i = 0; i < M; ++i) {
      y[i * y_stride + j] =
          _mm512_reduce_add_ps(acc[i]) - ReduceAdd256(acc_min[i]) + (bias ? bias[j] : 0.0f);
    }
  }
}

// q6_k: per 128-value half, 64 bytes of low nibbles (ql) and 32 bytes of 2-bit highs (qh);
// the low nibbles of ql with qh bits 0-1 (bytes 0-31) and 2-3 (bytes 32-63) are values 0-63
// in order, the high nibbles with qh bits 4-5 and 6-7 values 64-127. Each vector covers four
// 16-value sub-blocks, four lanes each.
template <int M>
void GemvQ6K(const BlockQ8_K* xq, int64_t xq_stride, const WeightMatrix& w, int64_t row_begin,
             int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  const int64_t nsb = w.cols / kQK_K;
  const __m512i low4 = _mm512_set1_epi8(0x0f), three = _mm512_set1_epi8(0x03);
  const __m512i zero = _mm512_setzero_si512();
  __m512i idx[4];
  for (int v = 0; v < 4; ++v) {
    idx[v] = _mm512_add_epi32(_mm512_set1_epi32(4 * v),
                              _mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                                  10, 11, 12, 13, 14, 15),
                                                2));
  }
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t stride = w.Stride();
  for (int64_t j = row_begin; j < row_end; ++j) {
    const auto* blocks = reinterpret_cast<const BlockQ6_K*>(base + j * stride);
    __m512 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const BlockQ6_K& b = blocks[sb];
      const char* ahead = reinterpret_cast<const char*>(&b) + kPrefetch;
      for (int l = 0; l < 4; ++l) _mm_prefetch(ahead + 64 * l, _MM_HINT_T0);
      const __m128i sc_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
      const __m512i sc = _mm512_cvtepi8_epi32(sc_bytes);
      const __m256i sc16 = _mm256_cvtepi8_epi16(sc_bytes);
      __m512i wq[4], s[4];
      for (int h = 0; h < 2; ++h) {
        const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
        const __m512i qh2 =
            _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
        const __m512i qh4 = _mm512_srli_epi16(qh2, 4);
        wq[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                    _mm512_slli_epi16(_mm512_and_si512(qh2, three), 4));
        wq[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                        _mm512_slli_epi16(_mm512_and_si512(qh4, three), 4));
      }
      for (int v = 0; v < 4; ++v) s[v] = _mm512_permutexvar_epi32(idx[v], sc);
      const float d = Half(b.d);
      for (int i = 0; i < M; ++i) {
        const BlockQ8_K& x = xq[i * xq_stride + sb];
        __m512i t = zero;
        for (int v = 0; v < 4; ++v) {
          const __m512i xv = _mm512_loadu_si512(x.qs + 64 * v);
          t = _mm512_add_epi32(t, _mm512_mullo_epi32(_mm512_dpbusd_epi32(zero, wq[v], xv), s[v]));
        }
        // 32 x sum_s sc_s * (sum of sub-block s's activations), in 8 lanes.
        const __m256i off =
            _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums)));
        t = _mm512_sub_epi32(t, _mm512_slli_epi32(_mm512_zextsi256_si512(off), 5));
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_set1_ps(d * x.d), acc[i]);
      }
    }
    for (int i = 0; i < M; ++i) {
      y[i * y_stride + j] = _mm512_reduce_add_ps(acc[i]) + (bias ? bias[j] : 0.0f);
    }
  }
}

template <int M>
void GemvQ8KM(const BlockQ8_K* xq, int64_t xq_stride, const WeightMatrix& w, int64_t row_begin,
              int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  if (w.dtype == DType::kQ4_K) {
    GemvQ4K<M>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
  } else {
    GemvQ6K<M>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
  }
}

}  // namespace

void GemvQ8KAvx512(const BlockQ8_K* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
                   int64_t row_begin, int64_t row_end, const float* bias, float* y,
                   int64_t y_stride) {
  CHECK(w.dtype == DType::kQ4_K || w.dtype == DType::kQ6_K);
  switch (m) {
    case 1: return GemvQ8KM<1>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 2: return GemvQ8KM<2>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 3: return GemvQ8KM<3>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 4: return GemvQ8KM<4>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 5: return GemvQ8KM<5>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 6: return GemvQ8KM<6>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 7: return GemvQ8KM<7>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    case 8: return GemvQ8KM<8>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
    default: CHECK(false) << "gemv serves at most 8 rows";
  }
}

// d = amax / 127, q = lround(x / d) as QuantizeRowQ8 (simd_body.h) per 256 values; each
// 16-lane vector's integer sum is one block sum.
void QuantizeRowQ8KAvx512(const float* x, BlockQ8_K* y, int64_t n) {
  CHECK_EQ(n % kQK_K, 0);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(0x80000000u)));
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    __m512 amax = _mm512_setzero_ps();
    for (int g = 0; g < 16; ++g) amax = _mm512_max_ps(amax, _mm512_and_ps(_mm512_loadu_ps(xb + 16 * g), abs_mask));
    const float d = _mm512_reduce_max_ps(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = d;
    const __m512 vid = _mm512_set1_ps(id);
    for (int g = 0; g < 16; ++g) {
      const __m512 p = _mm512_mul_ps(_mm512_loadu_ps(xb + 16 * g), vid);
      __m512 t = _mm512_roundscale_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m512 frac = _mm512_and_ps(_mm512_sub_ps(p, t), abs_mask);
      const __mmask16 away = _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ);
      t = _mm512_mask_add_ps(t, away, t, _mm512_or_ps(one, _mm512_and_ps(p, sign_mask)));
      const __m512i q = _mm512_cvttps_epi32(t);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
      y[b].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

}  // namespace ocular::kernels::cpu
