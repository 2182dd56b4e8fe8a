// Register tiles shared by the AVX-512 attention kernels (the ViT's FullAttentionAvx512 and
// the decoder's causal PagedAttention): packing of keys and values into the tiles' layouts,
// Q K^T tiles of 4 query rows x 64 keys and P V tiles of 4 query rows x 64 dims. Include only
// from files compiled with the AVX-512 flags plus AVX512-BF16 (the bf16 tiles run only where
// the CPU has it).
//
// Why this shape: a row-at-a-time kernel loads every key and value vector once per query row
// and issues one FMA per load, so it runs at the load ports' speed (~20% of the FMA peak).
// Here each loaded key vector feeds 4 query rows and each broadcast query value 4 key
// vectors (16 accumulators in registers), and the same for P V over 64 output dims, so the
// loop is bound by the FMA (or vdpbf16ps) units. Keys and values are packed once per call
// so that every tile load is one contiguous 64-byte vector:
//   K (f32):  [n_pad / 64][head_dim][64 keys]          f32
//   K (bf16): [n_pad / 64][head_dim / 2][64 keys]      pairs of bf16 (dims 2p, 2p+1) per u32
//   V (f32):  [n_pad][hd16]                            f32, dims padded with zeros to 16
//   V (bf16): [n_pad / 2][hd16]                        pairs of bf16 (keys 2q, 2q+1) per u32
// Padded keys are zeros.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/cpu/vec_avx512.h"

namespace ocular::kernels::cpu::tiles {

constexpr int kRows = 4;      // query rows per register tile
constexpr int kKeyTile = 64;  // keys per Q K^T register tile (4 vectors)
constexpr int kDimTile = 64;  // output dims per P V register tile (4 vectors)

inline int64_t RoundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

inline __mmask16 FirstLanes(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// Rounds each lane to the nearest bf16 (ties to even) and back to f32.
inline __m512 RoundBf16(__m512 v) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(avx512::ToBf16Bits(v)), 16));
}

// Lanes [d0, d0 + 16) of an n-value row (zeros past n, or everywhere when row is null).
inline __m512 RowLanes(const float* row, int n, int d0) {
  if (row == nullptr || d0 >= n) return _mm512_setzero_ps();
  return _mm512_maskz_loadu_ps(FirstLanes(n - d0), row + d0);
}

// How the inputs are stored for the tiles (see the top of this file).
struct Layout {
  bool words;  // bf16 pairs in u32 words (kBf16Dot) rather than f32
  bool round;  // round the f32 inputs to bf16 (kBf16Rounded)
  int hd;      // head_dim
  int hdp;     // head_dim / 2 rounded up: bf16 pairs per query / key row
  int hd16;    // head_dim rounded up to 16
  int64_t KTileWords() const { return int64_t{words ? hdp : hd} * kKeyTile; }
  int64_t KWords(int64_t n_pad) const { return n_pad / kKeyTile * KTileWords(); }
  int64_t VWords(int64_t n_pad) const { return words ? n_pad / 2 * hd16 : n_pad * hd16; }
};

// One query or key row as bf16 pair words: dst[p] = bf16(row[2p]) | bf16(row[2p+1]) << 16
// for p < hdp (row null: zeros).
inline void RowToWords(const float* row, const Layout& l, uint32_t* dst) {
  for (int d0 = 0; d0 < l.hd; d0 += 32) {
    const __m256i lo = avx512::ToBf16Bits(RowLanes(row, l.hd, d0));
    const __m256i hi = avx512::ToBf16Bits(RowLanes(row, l.hd, d0 + 16));
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    _mm512_mask_storeu_epi32(dst + d0 / 2, FirstLanes(l.hdp - d0 / 2), both);
  }
}

// One row as f32 (rounded to bf16 when l.round): dst[d] for d < width (zeros past hd).
inline void RowToFloats(const float* row, const Layout& l, int width, float* dst) {
  for (int d0 = 0; d0 < width; d0 += 16) {
    __m512 v = RowLanes(row, l.hd, d0);
    if (l.round) v = RoundBf16(v);
    _mm512_mask_storeu_ps(dst + d0, FirstLanes(width - d0), v);
  }
}

// Packs keys [i0, i1) (whole key tiles) of one (segment, kv head) into its regions kdst
// and vdst: rows key(i), value(i) for i < n (null for the padding up to n_pad).
template <typename KeyFn, typename ValueFn>
inline void PackKv(const Layout& l, int64_t n, int64_t i0, int64_t i1, KeyFn key, ValueFn value,
                   void* kdst, void* vdst) {
  const int kdims = l.words ? l.hdp : l.hd;
  // One tile of keys as rows, [kKeyTile, kdims] words, then transposed into [kdims, kKeyTile]
  // with one 16-lane gather per output vector.
  std::vector<uint32_t> rows(size_t{kKeyTile} * kdims + 16);
  const __m512i lane_offsets =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(kdims));
  for (int64_t t0 = i0; t0 < i1; t0 += kKeyTile) {
    for (int j = 0; j < kKeyTile; ++j) {
      const float* row = t0 + j < n ? key(t0 + j) : nullptr;
      uint32_t* dst = rows.data() + int64_t{j} * kdims;
      if (l.words) {
        RowToWords(row, l, dst);
      } else {
        RowToFloats(row, l, l.hd, reinterpret_cast<float*>(dst));
      }
    }
    uint32_t* tile = static_cast<uint32_t*>(kdst) + t0 / kKeyTile * l.KTileWords();
    for (int d = 0; d < kdims; ++d) {
      for (int c = 0; c < kKeyTile / 16; ++c) {
        const __m512i g =
            _mm512_i32gather_epi32(lane_offsets, rows.data() + int64_t{c} * 16 * kdims + d, 4);
        _mm512_storeu_si512(tile + int64_t{d} * kKeyTile + c * 16, g);
      }
    }
  }
  if (l.words) {
    uint32_t* v = static_cast<uint32_t*>(vdst);
    for (int64_t q = i0 / 2; q < i1 / 2; ++q) {
      const float* r0 = 2 * q < n ? value(2 * q) : nullptr;
      const float* r1 = 2 * q + 1 < n ? value(2 * q + 1) : nullptr;
      for (int d0 = 0; d0 < l.hd16; d0 += 16) {
        const __m512i a = _mm512_cvtepu16_epi32(avx512::ToBf16Bits(RowLanes(r0, l.hd, d0)));
        const __m512i b = _mm512_cvtepu16_epi32(avx512::ToBf16Bits(RowLanes(r1, l.hd, d0)));
        _mm512_storeu_si512(v + q * l.hd16 + d0, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)));
      }
    }
  } else {
    float* v = static_cast<float*>(vdst);
    for (int64_t i = i0; i < i1; ++i) {
      RowToFloats(i < n ? value(i) : nullptr, l, l.hd16, v + i * l.hd16);
    }
  }
}

// ---- register tiles ----------------------------------------------------------------------------
// The tiles' arithmetic: f32 FMA on f32 words, or vdpbf16ps on u32 words of two bf16 (a pair
// of dims for Q K^T, a pair of keys for P V), both accumulating in f32.
struct F32Fma {
  using Word = float;
  using Vec = __m512;
  static Vec Load(const Word* x) { return _mm512_loadu_ps(x); }
  static Vec Bcast(Word w) { return _mm512_set1_ps(w); }
  static __m512 Madd(__m512 acc, Vec a, Vec b) { return _mm512_fmadd_ps(a, b, acc); }
};

struct Bf16Dot {
  using Word = uint32_t;
  using Vec = __m512bh;
  // Same 512 bits, viewed as 32 bf16 (a vector conversion between same-size vector types).
  static Vec Load(const Word* x) { return (__m512bh)_mm512_loadu_si512(x); }
  static Vec Bcast(Word w) { return (__m512bh)_mm512_set1_epi32(static_cast<int>(w)); }
  static __m512 Madd(__m512 acc, Vec a, Vec b) { return _mm512_dpbf16_ps(acc, a, b); }
};

// s[r * sld + j] = scale * q_r . k_j for kRows rows (q_r at q + r * qld, `steps` words) and
// the 64 keys of one K tile (kt: [steps][64] words). f32: each score a chain of FMAs over the
// dims in order, then one product by scale.
template <typename M>
inline void QkTile(const typename M::Word* q, int qld, const typename M::Word* kt, int steps,
                   float scale, float* s, int sld) {
  __m512 acc[kRows][4];
  for (auto& row : acc) {
    for (__m512& x : row) x = _mm512_setzero_ps();
  }
  for (int d = 0; d < steps; ++d) {
    const typename M::Word* kd = kt + int64_t{d} * kKeyTile;
    const typename M::Vec k0 = M::Load(kd), k1 = M::Load(kd + 16);
    const typename M::Vec k2 = M::Load(kd + 32), k3 = M::Load(kd + 48);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const typename M::Vec qb = M::Bcast(q[r * qld + d]);
      acc[r][0] = M::Madd(acc[r][0], qb, k0);
      acc[r][1] = M::Madd(acc[r][1], qb, k1);
      acc[r][2] = M::Madd(acc[r][2], qb, k2);
      acc[r][3] = M::Madd(acc[r][3], qb, k3);
    }
  }
  const __m512 sv = _mm512_set1_ps(scale);
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < 4; ++c)
      _mm512_storeu_ps(s + r * sld + 16 * c, _mm512_mul_ps(acc[r][c], sv));
  }
}

// o[r][x] = o[r][x] * corr[r] + sum_j p[r][j] v[j][x] for kRows rows and NV 16-dim vectors:
// p[r] at p + r * pld, `steps` words (f32: keys; bf16: key pairs), v: [steps][vld] words.
// f32, per lane: the product by corr, then one FMA per key in order.
template <typename M, int NV>
inline void PvTile(const typename M::Word* p, int pld, int steps, const typename M::Word* v,
                   int vld, const float* corr, float* o, int old) {
  __m512 acc[kRows][NV];
  for (int r = 0; r < kRows; ++r) {
    const __m512 c = _mm512_set1_ps(corr[r]);
    for (int x = 0; x < NV; ++x)
      acc[r][x] = _mm512_mul_ps(_mm512_loadu_ps(o + r * old + 16 * x), c);
  }
  for (int j = 0; j < steps; ++j) {
    const typename M::Word* vj = v + int64_t{j} * vld;
    typename M::Vec vv[NV];
    for (int x = 0; x < NV; ++x) vv[x] = M::Load(vj + 16 * x);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const typename M::Vec pb = M::Bcast(p[r * pld + j]);
      for (int x = 0; x < NV; ++x) acc[r][x] = M::Madd(acc[r][x], pb, vv[x]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int x = 0; x < NV; ++x) _mm512_storeu_ps(o + r * old + 16 * x, acc[r][x]);
  }
}

// Calls tile(std::integral_constant<int, NV>, d0) for the P V tiles over all hd16 output
// dims: whole kDimTile tiles, then the 16-dim rest.
template <typename Tile>
inline void ForDimTiles(int hd16, Tile&& tile) {
  for (int d0 = 0; d0 < hd16; d0 += kDimTile) {
    switch (std::min(kDimTile, hd16 - d0) / 16) {
      case 1:
        tile(std::integral_constant<int, 1>{}, d0);
        break;
      case 2:
        tile(std::integral_constant<int, 2>{}, d0);
        break;
      case 3:
        tile(std::integral_constant<int, 3>{}, d0);
        break;
      default:
        tile(std::integral_constant<int, 4>{}, d0);
        break;
    }
  }
}

// P V over all hd16 output dims (o: [kRows][old] f32, v: [steps][vld] words).
template <typename M>
inline void PvTiles(const typename M::Word* p, int pld, int steps, const typename M::Word* v,
                    int vld, const float* corr, float* o, int old, int hd16) {
  ForDimTiles(hd16, [&](auto nv, int d0) {
    PvTile<M, nv()>(p, pld, steps, v + d0, vld, corr, o + d0, old);
  });
}

}  // namespace ocular::kernels::cpu::tiles
