// AVX2 + FMA + F16C vector primitives for simd_body.h (include only from files compiled with
// those flags). 8 f32 lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace ocular::kernels::cpu::avx2 {

using V = __m256;
constexpr int kLanes = 8;

inline V Zero() { return _mm256_setzero_ps(); }
inline V Set1(float f) { return _mm256_set1_ps(f); }
inline V Load(const float* p) { return _mm256_loadu_ps(p); }
inline void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
// First n (< kLanes) lanes; the others are zero / untouched.
inline __m256i LaneMask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline V LoadN(const float* p, int64_t n) { return _mm256_maskload_ps(p, LaneMask(n)); }
inline void StoreN(float* p, V v, int64_t n) { _mm256_maskstore_ps(p, LaneMask(n), v); }
inline V Add(V a, V b) { return _mm256_add_ps(a, b); }
inline V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
inline V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V Div(V a, V b) { return _mm256_div_ps(a, b); }
inline V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V Max(V a, V b) { return _mm256_max_ps(a, b); }
inline V Min(V a, V b) { return _mm256_min_ps(a, b); }
inline V Abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline float ReduceSum(V v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
inline float ReduceMax(V v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
inline V IfLess(V a, V b, V t, V e) { return _mm256_blendv_ps(e, t, _mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
inline V RoundNearest(V v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline V Pow2(V n) {
  __m256i i = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(i, 23));
}

inline V LoadBf16(const uint16_t* p) {
  __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline V LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline void StoreBf16(uint16_t* p, V v) {
  __m256i u = _mm256_castps_si256(v);
  __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
  __m256i nan = _mm256_or_si256(u, _mm256_set1_epi32(0x400000));
  __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  r = _mm256_blendv_epi8(r, nan, is_nan);
  r = _mm256_srli_epi32(r, 16);
  // Pack the 8 32-bit values (each < 65536) to 16 bits.
  __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), packed);
}
inline void StoreF16(uint16_t* p, V v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

inline void Int8x16(const int8_t* p, V* out) {
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  out[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
  out[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
}
inline void Nibbles16(const uint8_t* p, V* lo, V* hi) {
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i m = _mm_set1_epi8(0x0f);
  __m128i l = _mm_and_si128(b, m), h = _mm_and_si128(_mm_srli_epi16(b, 4), m);
  lo[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(l));
  lo[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(l, 8)));
  hi[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(h));
  hi[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(h, 8)));
}

// Sum over each group of 4 adjacent bytes of a[i] * b[i] (signed x signed, |a|, |b| <= 127)
// -> 8 int32. Pairs fit in int16: 2 * 127 * 127 < 32768.
inline __m256i DotI8(__m256i a, __m256i b) {
  __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// The first n (< kLanes) values of a half-precision row widened (LoadBf16 / LoadF16), the
// other lanes zero.
inline V LoadNBf16(const uint16_t* p, int64_t n) {
  uint16_t t[kLanes] = {};
  for (int64_t i = 0; i < n; ++i) t[i] = p[i];
  return LoadBf16(t);
}
inline V LoadNF16(const uint16_t* p, int64_t n) {
  uint16_t t[kLanes] = {};
  for (int64_t i = 0; i < n; ++i) t[i] = p[i];
  return LoadF16(t);
}

}  // namespace ocular::kernels::cpu::avx2
