// AVX-512 vector primitives for simd_body.h (include only from files compiled with the
// AVX-512 flags). 16 f32 lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace ocular::kernels::cpu::avx512 {

using V = __m512;
constexpr int kLanes = 16;

inline V Zero() { return _mm512_setzero_ps(); }
inline V Set1(float f) { return _mm512_set1_ps(f); }
inline V Load(const float* p) { return _mm512_loadu_ps(p); }
inline void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
// First n (< kLanes) lanes; the others are zero / untouched.
inline V LoadN(const float* p, int64_t n) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
}
inline void StoreN(float* p, V v, int64_t n) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
}
inline V Add(V a, V b) { return _mm512_add_ps(a, b); }
inline V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V Div(V a, V b) { return _mm512_div_ps(a, b); }
inline V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a * b + c
inline V Max(V a, V b) { return _mm512_max_ps(a, b); }
inline V Min(V a, V b) { return _mm512_min_ps(a, b); }
inline V Abs(V a) { return _mm512_abs_ps(a); }
// (GCC 12's _mm512_reduce_*_ps trip -Wuninitialized inside its own headers.)
inline float ReduceSum(V v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
inline float ReduceMax(V v) {
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
// a < b ? t : e (ordered compare: NaN selects e).
inline V IfLess(V a, V b, V t, V e) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), e, t);
}
inline V RoundNearest(V v) {
  return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
// 2^n for integral n in [-126, 127] (n given as float).
inline V Pow2(V n) {
  __m512i i = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
  return _mm512_castsi512_ps(_mm512_slli_epi32(i, 23));
}

inline V LoadBf16(const uint16_t* p) {
  __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline V LoadF16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// Round to nearest even bf16 in integer arithmetic (exact for subnormals, unlike
// vcvtneps2bf16 which flushes them), NaN -> quiet NaN keeping the high payload bits.
inline __m256i ToBf16Bits(V v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  __m512i nan = _mm512_or_si512(u, _mm512_set1_epi32(0x400000));
  __mmask16 is_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_blend_epi32(is_nan, r, nan);
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}
inline void StoreBf16(uint16_t* p, V v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), ToBf16Bits(v));
}
inline void StoreF16(uint16_t* p, V v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// 16 int8 values -> 16 / kLanes vectors.
inline void Int8x16(const int8_t* p, V* out) {
  out[0] = _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
// 16 bytes -> their low nibbles (lo, 16 values) and high nibbles (hi, 16 values), 0..15.
inline void Nibbles16(const uint8_t* p, V* lo, V* hi) {
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i m = _mm_set1_epi8(0x0f);
  lo[0] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(b, m)));
  hi[0] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(b, 4), m)));
}

// One-row packed int8 GEMVs prefetch the activation into L1 against weight groups at least
// this long: the group streamed between two uses of an activation line would evict it from a
// 32 KiB L1 (measurements in simd_body.h's GemvPackedM).
constexpr int64_t kActivationPrefetchGroupBytes = 32 * 1024;

// acc + the u8 x s8 word products of w and the activation word at p broadcast to all 16
// lanes, the broadcast embedded in vpdpbusd's memory operand. GCC emits a separate
// vpbroadcastd for _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32(word)); one instruction
// fewer per product (the packed q4_0 / q8_0 GEMV at m = 512, alternated pass by pass in one
// process: +1.8% / +2.6%; m = 1-4 the same or faster).
// The word need not be 4-byte aligned (q8_0 blocks are 34 bytes): the operand's type has
// alignment 1, so nothing here dereferences a misaligned int32_t.
struct ByteWord {
  uint8_t b[4];
};
inline __m512i DpbusdBroadcast(__m512i acc, __m512i w, const void* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*static_cast<const ByteWord*>(p)));
  return acc;
}

// Sum over each group of 4 adjacent bytes of a[i] * b[i] (signed x signed) -> 8 int32.
inline __m256i DotI8(__m256i a, __m256i b) {
  // vpdpbusd multiplies unsigned by signed: move a's sign onto b.
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(a, a),
                             _mm256_sign_epi8(b, a));
}

// Output rows of a packed GEMV's 16-row group: y[i, j0 + l] = acc[i][l] (+ bias[j0 + l]) for
// i < M and the lanes l with j0 + l < rows.
template <int M>
inline void StoreRowGroup(const V* acc, const float* bias, int64_t j0, int64_t rows, float* y,
                          int64_t y_stride) {
  const int64_t count = rows - j0 < kLanes ? rows - j0 : kLanes;
  const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
  const V bv = bias ? _mm512_maskz_loadu_ps(mask, bias + j0) : _mm512_setzero_ps();
  for (int i = 0; i < M; ++i) _mm512_mask_storeu_ps(y + i * y_stride + j0, mask, _mm512_add_ps(acc[i], bv));
}

// The first n (< kLanes) values of a half-precision row widened (LoadBf16 / LoadF16), the
// other lanes zero.
inline V LoadNBf16(const uint16_t* p, int64_t n) {
  const __m256i h = _mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1), p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
inline V LoadNF16(const uint16_t* p, int64_t n) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1), p));
}

// lround(p) on 16 lanes (round half away from zero), as int32: t = trunc(p); p - t is exact
// (the fraction bits of p), and |p - t| >= 0.5 moves t one step away from zero. The rounding
// of the q8_0 / q8_K activation quantizers (ref::QuantizeRowQ8_0 / QuantizeRowQ8_K).
inline __m512i RoundHalfAway(V p) {
  const V abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const V sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(0x80000000u)));
  V t = _mm512_roundscale_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const V frac = _mm512_and_ps(_mm512_sub_ps(p, t), abs_mask);
  const __mmask16 away = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  t = _mm512_mask_add_ps(t, away, t, _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(p, sign_mask)));
  return _mm512_cvttps_epi32(t);
}

}  // namespace ocular::kernels::cpu::avx512
