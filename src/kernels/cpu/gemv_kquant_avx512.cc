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
#include "kernels/cpu/const_dispatch.h"
#include "kernels/cpu/vec_avx512.h"
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

// ---- WeightLayout::kGemvPacked (kernels.h): 16 rows per vector ----
// Each 64-byte line of a slab holds one 4-byte word of 16 rows, so a vpdpbusd against the
// broadcast activation word advances the dot of 16 rows; a sub-block's integer dot is then
// scaled by its 16 rows' scales in one vpmulld, and the f32 work is one vector per 16 rows.
// Activation rows go through a slab in chunks of up to 4 (registers), the slab staying in L1.

#define OCULAR_INLINE inline __attribute__((always_inline))

// The q6_k slab keeps a separate broadcast: with avx512::DpbusdBroadcast it ran 7-10%
// slower (q4_k 2-3% faster; bench of [6144 x 2048] at m = 4 and 512, builds alternated).
OCULAR_INLINE __m512i Bcast(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

OCULAR_INLINE __m512i Load(const uint8_t* p) { return _mm512_load_si512(p); }

// Software prefetch: every line of a slab is prefetched once, as the line at its own offset
// is read. For more than one activation row (slower through a slab) 8 KiB ahead into L2. For
// one row: q6_k 8 KiB ahead into L2, q4_k none. From DRAM (bench_kernels, [6144 x 2048]): a
// burst of the whole slab 4 KiB ahead into L1 at the start of each slab read q6_k at m = 4 at
// 17-23 GB/s and q4_k at 22-25; per line (and the q6_k slab in reading order) 33-34 and
// 32-35. At m = 1, with the variants interleaved pass by pass in one process (the host's
// bandwidth flips within seconds; docs/performance.md): q4_k 34-35 GB/s without prefetch and
// with 4 KiB into L1 alike in the slow periods, 48 against 44 in the fast ones; q6_k 31-32
// with 4 or 8 KiB into L2 against 27-28 with 4 KiB into L1 and 24 without.
template <int MC, bool kQ6K>
OCULAR_INLINE void Prefetch(const uint8_t* p) {
  if constexpr (MC == 1 && kQ6K) {
    _mm_prefetch(reinterpret_cast<const char*>(p + 8192), _MM_HINT_T1);
  } else if constexpr (MC > 1) {
    _mm_prefetch(reinterpret_cast<const char*>(p + 8192), _MM_HINT_T2);
  }
}

// q4_k sub-block s's scale (or min) of the 16 rows, from the words A (scale bytes 0-3), B
// (4-7) and C (8-11) of each row (ref::Q4KScaleMin).
OCULAR_INLINE __m512i Q4KScale(__m512i a, __m512i c, int s) {
  if (s < 4) return _mm512_and_si512(_mm512_srli_epi32(a, 8 * s), _mm512_set1_epi32(0x3f));
  const int j = s - 4;
  return _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 8 * j), _mm512_set1_epi32(0x0f)),
                         _mm512_and_si512(_mm512_srli_epi32(a, 8 * j + 2), _mm512_set1_epi32(0x30)));
}
OCULAR_INLINE __m512i Q4KMin(__m512i b, __m512i c, int s) {
  if (s < 4) return _mm512_and_si512(_mm512_srli_epi32(b, 8 * s), _mm512_set1_epi32(0x3f));
  const int j = s - 4;
  return _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 8 * j + 4), _mm512_set1_epi32(0x0f)),
                         _mm512_and_si512(_mm512_srli_epi32(b, 8 * j + 2), _mm512_set1_epi32(0x30)));
}

// One q4_k slab for MC activation rows (x: row 0's block, rows xs apart), into acc[0, MC).
// Chunk c of the quants (words 8c..8c+7) holds sub-block 2c in its low nibbles (values
// 64c + 4t..) and 2c + 1 in its high nibbles (64c + 32 + 4t..).
template <int MC, bool kPrefetchAhead>
OCULAR_INLINE void Q4KSlab(const uint8_t* slab, const BlockQ8_K* x, int64_t xs, __m512* acc) {
  if constexpr (kPrefetchAhead) {
    for (int l = 0; l < 4; ++l) Prefetch<MC, false>(slab + 64 * l);
  }
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i a = Load(slab + 64), b = Load(slab + 128), c = Load(slab + 192);
  __m512i tot[MC];
  for (int i = 0; i < MC; ++i) tot[i] = _mm512_setzero_si512();
  for (int ch = 0; ch < 4; ++ch) {
    __m512i dlo[MC], dhi[MC];
    for (int i = 0; i < MC; ++i) dlo[i] = dhi[i] = _mm512_setzero_si512();
    for (int t = 0; t < 8; ++t) {
      const __m512i q = Load(slab + 256 + (8 * ch + t) * 64);
      if constexpr (kPrefetchAhead) Prefetch<MC, false>(slab + 256 + (8 * ch + t) * 64);
      const __m512i lo = _mm512_and_si512(q, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
      for (int i = 0; i < MC; ++i) {
        const int8_t* xq = x[i * xs].qs + 64 * ch + 4 * t;
        dlo[i] = avx512::DpbusdBroadcast(dlo[i], lo, xq);
        dhi[i] = avx512::DpbusdBroadcast(dhi[i], hi, xq + 32);
      }
    }
    const __m512i sc_lo = Q4KScale(a, c, 2 * ch), sc_hi = Q4KScale(a, c, 2 * ch + 1);
    for (int i = 0; i < MC; ++i) {
      tot[i] = _mm512_add_epi32(tot[i], _mm512_add_epi32(_mm512_mullo_epi32(dlo[i], sc_lo),
                                                         _mm512_mullo_epi32(dhi[i], sc_hi)));
    }
  }
  // Mins in 16-bit pairs (m_2k, m_2k+1) against the activation sub-block sums in pairs.
  __m512i mins[4];
  for (int k = 0; k < 4; ++k) {
    mins[k] = _mm512_or_si512(Q4KMin(b, c, 2 * k), _mm512_slli_epi32(Q4KMin(b, c, 2 * k + 1), 16));
  }
  const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(slab)));
  const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(slab + 32)));
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int i = 0; i < MC; ++i) {
    const BlockQ8_K& xb = x[i * xs];
    const __m256i s32 =
        _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.bsums)), ones16);
    alignas(16) int32_t pairs[4];  // int16 (sum_2k, sum_2k+1); |sum| <= 32 * 128
    _mm_store_si128(reinterpret_cast<__m128i*>(pairs),
                    _mm_packs_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1)));
    __m512i mt = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) mt = _mm512_dpwssd_epi32(mt, mins[k], _mm512_set1_epi32(pairs[k]));
    const __m512 xd = _mm512_set1_ps(xb.d);
    const __m512 term = _mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(tot[i]), _mm512_mul_ps(d, xd)),
                                      _mm512_mul_ps(_mm512_cvtepi32_ps(mt), _mm512_mul_ps(dmin, xd)));
    acc[i] = _mm512_add_ps(acc[i], term);
  }
}

// q6_k sub-block s's scale of the 16 rows (sign-extended): byte (0, 2, 1, 3)[s % 4] of scale
// word s / 4.
OCULAR_INLINE __m512i Q6KScale(const uint8_t* slab, int s) {
  constexpr int kPos[4] = {0, 2, 1, 3};
  const __m512i v = Load(slab + 64 + 64 * (s / 4));
  return _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * kPos[s % 4]), 24);
}

// One q6_k slab for MC activation rows, its quants read in the order they are stored. Part
// (h, tg) at 320 + 768 (2h + tg): qh words 8h + t, then ql words 16h + t (p = 0) and
// 16h + 8 + t (p = 1), t = 4tg..4tg + 3. A ql word with its qh word gives values
// 128h + 32p + 4t.. (low nibbles, qh bits 2p, 2p + 1) and 128h + 64 + 32p + 4t.. (high
// nibbles, qh bits 4 + 2p, 5 + 2p): sub-blocks 8h + 2p + tg and 8h + 4 + 2p + tg. The offset
// of 32 comes off as 32 * sum_s sc_s * (sum of sub-block s's activations), in 16-bit pairs.
template <int MC, bool kPrefetchAhead>
OCULAR_INLINE void Q6KSlab(const uint8_t* slab, const BlockQ8_K* x, int64_t xs, __m512* acc) {
  if constexpr (kPrefetchAhead) {
    for (int l = 0; l < 5; ++l) Prefetch<MC, true>(slab + 64 * l);
  }
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  __m512i tot[MC];
  for (int i = 0; i < MC; ++i) tot[i] = _mm512_setzero_si512();
  for (int h = 0; h < 2; ++h) {
    for (int tg = 0; tg < 2; ++tg) {
      const uint8_t* part = slab + 320 + 768 * (2 * h + tg);
      for (int p = 0; p < 2; ++p) {
        const __m512i hmask = _mm512_set1_epi8(static_cast<char>(0x03 << (2 * p)));
        const __m512i hmask2 = _mm512_set1_epi8(static_cast<char>(0x30 << (2 * p)));
        __m512i da[MC], db[MC];
        for (int i = 0; i < MC; ++i) da[i] = db[i] = _mm512_setzero_si512();
        for (int tt = 0; tt < 4; ++tt) {
          const uint8_t* qh_line = part + 64 * tt;
          const uint8_t* ql_line = part + 256 * (p + 1) + 64 * tt;
          if constexpr (kPrefetchAhead) {
            if (p == 0) Prefetch<MC, true>(qh_line);
            Prefetch<MC, true>(ql_line);
          }
          const __m512i ql = Load(ql_line), qh = Load(qh_line);
          // High bits to positions 4-5 of each byte: qh bits 2p.. up by 4 - 2p, bits
          // 4 + 2p.. down by 2p.
          const __m512i hi_a = p == 0 ? _mm512_slli_epi16(_mm512_and_si512(qh, hmask), 4)
                                      : _mm512_slli_epi16(_mm512_and_si512(qh, hmask), 2);
          const __m512i hi_b = p == 0 ? _mm512_and_si512(qh, hmask2)
                                      : _mm512_srli_epi16(_mm512_and_si512(qh, hmask2), 2);
          const __m512i va = _mm512_or_si512(_mm512_and_si512(ql, low4), hi_a);
          const __m512i vb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), hi_b);
          for (int i = 0; i < MC; ++i) {
            const int8_t* xq = x[i * xs].qs + 128 * h + 32 * p + 4 * (4 * tg + tt);
            da[i] = _mm512_dpbusd_epi32(da[i], va, Bcast(xq));
            db[i] = _mm512_dpbusd_epi32(db[i], vb, Bcast(xq + 64));
          }
        }
        const __m512i sa = Q6KScale(slab, 8 * h + 2 * p + tg);
        const __m512i sb = Q6KScale(slab, 8 * h + 4 + 2 * p + tg);
        for (int i = 0; i < MC; ++i) {
          tot[i] = _mm512_add_epi32(tot[i], _mm512_add_epi32(_mm512_mullo_epi32(da[i], sa),
                                                             _mm512_mullo_epi32(db[i], sb)));
        }
      }
    }
  }
  // Scales in 16-bit pairs: the low bytes of a scale word's halves are (sc_4k, sc_4k+1), the
  // high bytes (sc_4k+2, sc_4k+3), as the activation sums' 32-bit words 2k and 2k + 1.
  __m512i sp[8];
  for (int k = 0; k < 4; ++k) {
    const __m512i v = Load(slab + 64 + 64 * k);
    sp[2 * k] = _mm512_srai_epi16(_mm512_slli_epi16(v, 8), 8);
    sp[2 * k + 1] = _mm512_srai_epi16(v, 8);
  }
  const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(slab)));
  for (int i = 0; i < MC; ++i) {
    const BlockQ8_K& xb = x[i * xs];
    __m512i off = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      int32_t pair;
      std::memcpy(&pair, xb.bsums + 2 * k, 4);
      off = _mm512_dpwssd_epi32(off, sp[k], _mm512_set1_epi32(pair));
    }
    const __m512i t = _mm512_sub_epi32(tot[i], _mm512_slli_epi32(off, 5));
    acc[i] = _mm512_add_ps(acc[i], _mm512_mul_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(d, _mm512_set1_ps(xb.d))));
  }
}

template <int M, bool kQ4>
void GemvKPacked(const BlockQ8_K* xq, int64_t xq_stride, const WeightMatrix& w,
                 int64_t group_begin, int64_t group_end, const float* bias, float* y,
                 int64_t y_stride) {
  const int64_t nb = w.cols / kQK_K;
  const int64_t slab_bytes = GemvSlabBytes(w.dtype);
  const int64_t gbytes = nb * slab_bytes;
  constexpr int kFirst = M < 4 ? M : 4;
  // The next activation block into L1 for one row against long groups, as the q4_0 / q8_0
  // packed GEMV does (simd_body.h): q4_k [2048 x 6144] in the fast bandwidth level 42.2
  // against 37.0 GB/s (passes alternated), shorter groups unchanged; Q4_K_M decode steps
  // alternated: ahead in 6 of 8 runs. Not for q6_k, whose slabs run below the bandwidth
  // (~26 GB/s here in the slow level, bound by their unpacking): with it there too, Q4_K_M
  // steps were ahead in only 4 of 8 runs.
  const bool prefetch_x = kQ4 && M == 1 && gbytes >= avx512::kActivationPrefetchGroupBytes;
  for (int64_t g = group_begin; g < group_end; ++g) {
    const uint8_t* group = static_cast<const uint8_t*>(w.data) + g * gbytes;
    __m512 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* slab = group + b * slab_bytes;
      if (prefetch_x) {
        const char* next = reinterpret_cast<const char*>(xq + b + 1);
        for (int l = 0; l < 320; l += 64) _mm_prefetch(next + l, _MM_HINT_T0);
      }
      if constexpr (kQ4) {
        Q4KSlab<kFirst, true>(slab, xq + b, xq_stride, acc);
        if constexpr (M > 4) Q4KSlab<M - 4, false>(slab, xq + 4 * xq_stride + b, xq_stride, acc + 4);
      } else {
        Q6KSlab<kFirst, true>(slab, xq + b, xq_stride, acc);
        if constexpr (M > 4) Q6KSlab<M - 4, false>(slab, xq + 4 * xq_stride + b, xq_stride, acc + 4);
      }
    }
    avx512::StoreRowGroup<M>(acc, bias, g * 16, w.rows, y, y_stride);
  }
}

}  // namespace

void GemvQ8KAvx512(const BlockQ8_K* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
                   int64_t row_begin, int64_t row_end, const float* bias, float* y,
                   int64_t y_stride) {
  CHECK(w.dtype == DType::kQ4_K || w.dtype == DType::kQ6_K);
  WithGemvRows(m, [&](auto rows) {
    GemvQ8KM<decltype(rows)::value>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
  });
}

void GemvQ8KPackedAvx512(const BlockQ8_K* xq, int64_t xq_stride, int64_t m,
                         const WeightMatrix& w, int64_t group_begin, int64_t group_end,
                         const float* bias, float* y, int64_t y_stride) {
  CHECK(w.packed() && (w.dtype == DType::kQ4_K || w.dtype == DType::kQ6_K));
  WithGemvRows(m, [&](auto rows) {
    constexpr int M = decltype(rows)::value;
    if (w.dtype == DType::kQ4_K) {
      GemvKPacked<M, true>(xq, xq_stride, w, group_begin, group_end, bias, y, y_stride);
    } else {
      GemvKPacked<M, false>(xq, xq_stride, w, group_begin, group_end, bias, y, y_stride);
    }
  });
}

// d = amax / 127, q = lround(x / d) (avx512::RoundHalfAway) per 256 values; each
// 16-lane vector's integer sum is one block sum.
void QuantizeRowQ8KAvx512(const float* x, BlockQ8_K* y, int64_t n) {
  CHECK_EQ(n % kQK_K, 0);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    __m512 amax = _mm512_setzero_ps();
    for (int g = 0; g < 16; ++g) amax = _mm512_max_ps(amax, _mm512_and_ps(_mm512_loadu_ps(xb + 16 * g), abs_mask));
    const float d = _mm512_reduce_max_ps(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = d;
    const __m512 vid = _mm512_set1_ps(id);
    for (int g = 0; g < 16; ++g) {
      const __m512i q = avx512::RoundHalfAway(_mm512_mul_ps(_mm512_loadu_ps(xb + 16 * g), vid));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
      y[b].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

}  // namespace ocular::kernels::cpu
