// FullAttentionAvx512 (full_attention.h). Compiled with the AVX-512 flags plus AVX512-BF16;
// the BF16 instructions run only under AttentionMath::kBf16Dot, which the caller selects
// when the CPU has them.
//
// Why this shape: a row-at-a-time kernel loads every key and value vector once per query row
// and issues one FMA per load, so it runs at the load ports' speed (~20% of the FMA peak).
// Here each loaded key vector feeds 4 query rows and each broadcast query value 4 key
// vectors (16 accumulators in registers), and the same for P V over 64 output dims, so the
// loop is bound by the FMA (or vdpbf16ps) units. Keys and values are repacked once per call
// so that every tile load is one contiguous 64-byte vector:
//   K (f32):  [n_pad / 64][head_dim][64 keys]          f32
//   K (bf16): [n_pad / 64][head_dim / 2][64 keys]      pairs of bf16 (dims 2p, 2p+1) per u32
//   V (f32):  [n_pad][hd16]                            f32, dims padded with zeros to 16
//   V (bf16): [n_pad / 2][hd16]                        pairs of bf16 (keys 2q, 2q+1) per u32
// Padded keys are zeros; their scores are excluded from the softmax and their weights are 0.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/full_attention.h"
#include "kernels/cpu/vec_avx512.h"

namespace ocular::kernels::cpu {
namespace {

constexpr int kRows = 4;         // query rows per register tile
constexpr int kKeyTile = 64;     // keys per Q K^T register tile (4 vectors)
constexpr int kKeyBlock = 256;   // keys per online-softmax step (multiple of kKeyTile)
constexpr int kQueryBlock = 32;  // query rows per task (multiple of kRows)
constexpr int kDimTile = 64;     // output dims per P V register tile (4 vectors)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t RoundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

inline __mmask16 FirstLanes(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// 2^x for x <= 0 (a score in log2 units minus its row's running maximum): 2^r for
// r = x - round(x) in [-1/2, 1/2] by its Taylor polynomial of degree kDegree (truncation
// error < 1.7e-7 relative at degree 6, 5.2e-9 at 7), times 2^round(x) by vscalefps (gradual
// underflow to 0, no clamping needed). Lanes with x > 0 only occur masked off.
template <int kDegree>
inline __m512 Exp2(__m512 x) {
  static constexpr float kC[8] = {1.0f,
                                  0.6931471805599453f,
                                  0.2402265069591007f,
                                  0.05550410866482158f,
                                  0.009618129107628477f,
                                  0.0013333558146428443f,
                                  0.00015403530393381606f,
                                  1.525273380405984e-05f};
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(kC[kDegree]);
#pragma GCC unroll 8
  for (int k = kDegree - 1; k >= 0; --k) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC[k]));
  return _mm512_scalef_ps(p, n);
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

// How the inputs are stored for the tiles (see the file comment).
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
void PackKv(const Layout& l, int64_t n, int64_t i0, int64_t i1, KeyFn key, ValueFn value,
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
// s[r * kKeyBlock + j] = scale * q_r . k_j for kRows rows and the 64 keys of one K tile.

inline void QkTileF32(const float* q, int qld, const float* kt, int hd, float scale, float* s) {
  __m512 acc[kRows][4];
  for (auto& row : acc) {
    for (__m512& x : row) x = _mm512_setzero_ps();
  }
  for (int d = 0; d < hd; ++d) {
    const float* kd = kt + int64_t{d} * kKeyTile;
    const __m512 k0 = _mm512_loadu_ps(kd), k1 = _mm512_loadu_ps(kd + 16);
    const __m512 k2 = _mm512_loadu_ps(kd + 32), k3 = _mm512_loadu_ps(kd + 48);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512 qb = _mm512_set1_ps(q[r * qld + d]);
      acc[r][0] = _mm512_fmadd_ps(qb, k0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(qb, k1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(qb, k2, acc[r][2]);
      acc[r][3] = _mm512_fmadd_ps(qb, k3, acc[r][3]);
    }
  }
  const __m512 sv = _mm512_set1_ps(scale);
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < 4; ++c)
      _mm512_storeu_ps(s + r * kKeyBlock + 16 * c, _mm512_mul_ps(acc[r][c], sv));
  }
}

inline __m512bh AsBh(__m512i v) {
  // Same 512 bits, viewed as 32 bf16 (a vector conversion between same-size vector types).
  return (__m512bh)v;
}

inline void QkTileBf16(const uint32_t* q, int qld, const uint32_t* kt, int hdp, float scale,
                       float* s) {
  __m512 acc[kRows][4];
  for (auto& row : acc) {
    for (__m512& x : row) x = _mm512_setzero_ps();
  }
  for (int p = 0; p < hdp; ++p) {
    const uint32_t* kp = kt + int64_t{p} * kKeyTile;
    const __m512bh k0 = AsBh(_mm512_loadu_si512(kp)), k1 = AsBh(_mm512_loadu_si512(kp + 16));
    const __m512bh k2 = AsBh(_mm512_loadu_si512(kp + 32)), k3 = AsBh(_mm512_loadu_si512(kp + 48));
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512bh qb = AsBh(_mm512_set1_epi32(static_cast<int>(q[r * qld + p])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], qb, k0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], qb, k1);
      acc[r][2] = _mm512_dpbf16_ps(acc[r][2], qb, k2);
      acc[r][3] = _mm512_dpbf16_ps(acc[r][3], qb, k3);
    }
  }
  const __m512 sv = _mm512_set1_ps(scale);
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < 4; ++c)
      _mm512_storeu_ps(s + r * kKeyBlock + 16 * c, _mm512_mul_ps(acc[r][c], sv));
  }
}

// Maximum of the scores s[0, count).
inline float BlockMax(const float* s, int count) {
  __m512 mx = _mm512_set1_ps(kNegInf);
  for (int j = 0; j < count; j += 16) {
    mx = _mm512_max_ps(mx,
                       _mm512_mask_loadu_ps(_mm512_set1_ps(kNegInf), FirstLanes(count - j), s + j));
  }
  return avx512::ReduceMax(mx);
}

// Online softmax step of one row over scores s[0, count) (already times log2 e, so the
// weights are powers of 2) with the row's new running max m: writes the weights 2^(s - m)
// to p (f32, or bf16 rounded to nearest with zeros up to the next multiple of 32) and
// updates the lane-wise running sums l[0, 16) (first scaled by corr = 2^(old max - m)).
template <bool kBf16>
inline void ExpRow(const float* s, int count, float m, float corr, float* l, void* p) {
  const __m512 mv = _mm512_set1_ps(m);
  __m512 sum = _mm512_mul_ps(_mm512_loadu_ps(l), _mm512_set1_ps(corr));
  for (int j = 0; j < count; j += 32) {
    const __mmask16 m0 = FirstLanes(count - j), m1 = FirstLanes(count - j - 16);
    constexpr int kDegree = kBf16 ? 6 : 7;
    const __m512 e0 =
        _mm512_maskz_mov_ps(m0, Exp2<kDegree>(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv)));
    const __m512 e1 =
        _mm512_maskz_mov_ps(m1, Exp2<kDegree>(_mm512_sub_ps(_mm512_loadu_ps(s + j + 16), mv)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
    if constexpr (kBf16) {
      // vcvtne2ps2bf16: round to nearest even; the second operand fills the low half.
      const __m512bh pb = _mm512_cvtne2ps_pbh(e1, e0);
      std::memcpy(static_cast<uint16_t*>(p) + j, &pb, 64);
    } else {
      float* pf = static_cast<float*>(p);
      _mm512_storeu_ps(pf + j, e0);
      _mm512_storeu_ps(pf + j + 16, e1);
    }
  }
  _mm512_storeu_ps(l, sum);
}

// o[r][x] = o[r][x] * corr[r] + sum_j p[r][j] v[j][x] for kRows rows and NV 16-dim vectors.
template <int NV>
void PvTileF32(const float* p, int count, const float* v, int vld, const float* corr, float* o,
               int old) {
  __m512 acc[kRows][NV];
  for (int r = 0; r < kRows; ++r) {
    const __m512 c = _mm512_set1_ps(corr[r]);
    for (int x = 0; x < NV; ++x)
      acc[r][x] = _mm512_mul_ps(_mm512_loadu_ps(o + r * old + 16 * x), c);
  }
  for (int j = 0; j < count; ++j) {
    const float* vj = v + int64_t{j} * vld;
    __m512 vv[NV];
    for (int x = 0; x < NV; ++x) vv[x] = _mm512_loadu_ps(vj + 16 * x);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512 pb = _mm512_set1_ps(p[r * kKeyBlock + j]);
      for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_fmadd_ps(pb, vv[x], acc[r][x]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int x = 0; x < NV; ++x) _mm512_storeu_ps(o + r * old + 16 * x, acc[r][x]);
  }
}

// As PvTileF32 with bf16 weights and values: p as [kRows][kKeyBlock / 2] pair words, v as
// [pairs][vld] pair words.
template <int NV>
void PvTileBf16(const uint32_t* p, int pairs, const uint32_t* v, int vld, const float* corr,
                float* o, int old) {
  __m512 acc[kRows][NV];
  for (int r = 0; r < kRows; ++r) {
    const __m512 c = _mm512_set1_ps(corr[r]);
    for (int x = 0; x < NV; ++x)
      acc[r][x] = _mm512_mul_ps(_mm512_loadu_ps(o + r * old + 16 * x), c);
  }
  for (int q = 0; q < pairs; ++q) {
    const uint32_t* vq = v + int64_t{q} * vld;
    __m512bh vv[NV];
    for (int x = 0; x < NV; ++x) vv[x] = AsBh(_mm512_loadu_si512(vq + 16 * x));
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512bh pb = AsBh(_mm512_set1_epi32(static_cast<int>(p[r * (kKeyBlock / 2) + q])));
      for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_dpbf16_ps(acc[r][x], pb, vv[x]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int x = 0; x < NV; ++x) _mm512_storeu_ps(o + r * old + 16 * x, acc[r][x]);
  }
}

// ---- one task: kQueryBlock query rows of one head against all keys of the segment ----------

struct TaskScratch {
  std::vector<float> q;  // [kQueryBlock, hd] f32 or [kQueryBlock, hdp] pair words
  std::vector<float> o;  // [kQueryBlock, hd16] f32 unnormalised outputs
  std::vector<float> s;  // [kRows, kKeyBlock] f32 scores
  std::vector<float> p;  // [kRows, kKeyBlock] f32 weights (bf16 use the first half)
  std::vector<float> m;  // [kQueryBlock] running max (log2 units)
  std::vector<float> l;  // [kQueryBlock, 16] running sums, lane-wise
  explicit TaskScratch(const Layout& lay)
      : q(size_t{kQueryBlock} * std::max(lay.hd, lay.hdp)),
        o(size_t{kQueryBlock} * lay.hd16),
        s(size_t{kRows} * kKeyBlock),
        p(size_t{kRows} * kKeyBlock),
        m(kQueryBlock),
        l(size_t{kQueryBlock} * 16) {}
};

struct Task {
  int segment, head;
  int64_t q0, q1;  // token rows [q0, q1)
};

template <bool kBf16>
void RunTask(const FullAttentionArgs& a, const Layout& lay, const Task& t, const void* kpack,
             const void* vpack, TaskScratch& ts) {
  const int64_t seg_len = a.cu_seqlens[t.segment + 1] - a.cu_seqlens[t.segment];
  const int rows = static_cast<int>(t.q1 - t.q0);
  const int rows_pad = static_cast<int>(RoundUp(rows, kRows));
  const int hd = lay.hd, hd16 = lay.hd16;
  const int qld = kBf16 ? lay.hdp : hd;
  auto qrow = [&](int r) {
    return r < rows ? a.q + (t.q0 + r) * a.q_stride + int64_t{t.head} * hd : nullptr;
  };
  for (int r = 0; r < rows_pad; ++r) {
    if constexpr (kBf16) {
      RowToWords(qrow(r), lay, reinterpret_cast<uint32_t*>(ts.q.data()) + r * qld);
    } else {
      RowToFloats(qrow(r), lay, hd, ts.q.data() + r * qld);
    }
  }
  std::fill_n(ts.o.begin(), size_t(rows_pad) * hd16, 0.0f);
  std::fill_n(ts.m.begin(), rows_pad, kNegInf);
  std::fill_n(ts.l.begin(), size_t(rows_pad) * 16, 0.0f);
  // Scores in log2 units: the softmax is the same with 2^x in place of e^x.
  const float scale = a.scale * 1.44269504088896341f;
  float corr[kRows];
  for (int64_t kb = 0; kb < seg_len; kb += kKeyBlock) {
    const int count = static_cast<int>(std::min<int64_t>(kKeyBlock, seg_len - kb));
    const int tiles = (count + kKeyTile - 1) / kKeyTile;
    for (int rg = 0; rg < rows_pad; rg += kRows) {
      for (int tile = 0; tile < tiles; ++tile) {
        const int64_t kt = (kb / kKeyTile + tile) * lay.KTileWords();
        float* s = ts.s.data() + tile * kKeyTile;
        if constexpr (kBf16) {
          QkTileBf16(reinterpret_cast<const uint32_t*>(ts.q.data()) + rg * qld, qld,
                     static_cast<const uint32_t*>(kpack) + kt, lay.hdp, scale, s);
        } else {
          QkTileF32(ts.q.data() + rg * qld, qld, static_cast<const float*>(kpack) + kt, hd, scale,
                    s);
        }
      }
      // New running maxima of the kRows rows, and their corrections in one vector exp2
      // (2^(-inf) for a row's first block is taken as 0: its sums are still empty).
      alignas(64) float m_new[16] = {};
      for (int r = 0; r < kRows; ++r) {
        m_new[r] = std::max(ts.m[rg + r], BlockMax(ts.s.data() + r * kKeyBlock, count));
      }
      const __mmask16 rows_mask = FirstLanes(kRows);
      const __m512 m_old = _mm512_maskz_loadu_ps(rows_mask, ts.m.data() + rg);
      const __mmask16 seen =
          _mm512_mask_cmp_ps_mask(rows_mask, m_old, _mm512_set1_ps(kNegInf), _CMP_NEQ_OQ);
      _mm512_mask_storeu_ps(
          corr, rows_mask,
          _mm512_maskz_mov_ps(seen, Exp2<7>(_mm512_sub_ps(m_old, _mm512_load_ps(m_new)))));
      for (int r = 0; r < kRows; ++r) {
        void* p = kBf16
                      ? static_cast<void*>(reinterpret_cast<uint16_t*>(ts.p.data()) + r * kKeyBlock)
                      : static_cast<void*>(ts.p.data() + r * kKeyBlock);
        ExpRow<kBf16>(ts.s.data() + r * kKeyBlock, count, m_new[r], corr[r],
                      &ts.l[size_t(rg + r) * 16], p);
        ts.m[rg + r] = m_new[r];
      }
      for (int d0 = 0; d0 < hd16; d0 += kDimTile) {
        const int nv = std::min(kDimTile, hd16 - d0) / 16;
        float* o = ts.o.data() + int64_t{rg} * hd16 + d0;
        if constexpr (kBf16) {
          const uint32_t* pw = reinterpret_cast<const uint32_t*>(ts.p.data());
          const int pairs = (count + 1) / 2;
          const uint32_t* v = static_cast<const uint32_t*>(vpack) + kb / 2 * hd16 + d0;
          switch (nv) {
            case 1:
              PvTileBf16<1>(pw, pairs, v, hd16, corr, o, hd16);
              break;
            case 2:
              PvTileBf16<2>(pw, pairs, v, hd16, corr, o, hd16);
              break;
            case 3:
              PvTileBf16<3>(pw, pairs, v, hd16, corr, o, hd16);
              break;
            default:
              PvTileBf16<4>(pw, pairs, v, hd16, corr, o, hd16);
              break;
          }
        } else {
          const float* v = static_cast<const float*>(vpack) + kb * hd16 + d0;
          switch (nv) {
            case 1:
              PvTileF32<1>(ts.p.data(), count, v, hd16, corr, o, hd16);
              break;
            case 2:
              PvTileF32<2>(ts.p.data(), count, v, hd16, corr, o, hd16);
              break;
            case 3:
              PvTileF32<3>(ts.p.data(), count, v, hd16, corr, o, hd16);
              break;
            default:
              PvTileF32<4>(ts.p.data(), count, v, hd16, corr, o, hd16);
              break;
          }
        }
      }
    }
  }
  for (int r = 0; r < rows; ++r) {
    // l >= 1 for every row (the row's maximum contributes exp(0)).
    const __m512 inv =
        _mm512_set1_ps(1.0f / avx512::ReduceSum(_mm512_loadu_ps(&ts.l[size_t(r) * 16])));
    float* out = a.out + (t.q0 + r) * a.out_stride + int64_t{t.head} * hd;
    const float* o = ts.o.data() + int64_t{r} * hd16;
    for (int d0 = 0; d0 < hd; d0 += 16) {
      _mm512_mask_storeu_ps(out + d0, FirstLanes(hd - d0),
                            _mm512_mul_ps(_mm512_loadu_ps(o + d0), inv));
    }
  }
}

}  // namespace

void FullAttentionAvx512(ComputeContext& ctx, const FullAttentionArgs& a, AttentionMath math) {
  CHECK(ctx.isa() == Isa::kAvx512);
  CHECK(math != AttentionMath::kBf16Dot || ctx.features().avx512_bf16);
  Layout lay;
  lay.words = math == AttentionMath::kBf16Dot;
  lay.round = math != AttentionMath::kF32;
  lay.hd = a.head_dim;
  lay.hdp = (a.head_dim + 1) / 2;
  lay.hd16 = static_cast<int>(RoundUp(a.head_dim, 16));
  CHECK_LE(a.head_dim, 1024);
  const int group = a.num_heads / a.num_kv_heads;

  // Packed keys and values of every (segment, kv head), in 4-byte words.
  // Segments without a query in [q_begin, q_end) are neither packed nor visited.
  auto queried = [&](int s) {
    const auto [b, e] = QueryRange(a, s);
    return b < e;
  };
  std::vector<int64_t> offset(static_cast<size_t>(a.num_segments) * a.num_kv_heads + 1, 0);
  for (int s = 0; s < a.num_segments; ++s) {
    const int64_t n_pad = queried(s) ? RoundUp(a.cu_seqlens[s + 1] - a.cu_seqlens[s], kKeyTile) : 0;
    for (int h = 0; h < a.num_kv_heads; ++h) {
      const size_t i = size_t(s) * a.num_kv_heads + h;
      offset[i + 1] = offset[i] + lay.KWords(n_pad) + lay.VWords(n_pad);
    }
  }
  if (offset.back() == 0) return;
  uint32_t* pack = static_cast<uint32_t*>(
      ctx.Scratch(ComputeContext::kScratchActivations, size_t(offset.back()) * 4));
  // Parallel over (segment, key tile), all kv heads of a tile in one task: the heads of a
  // token are adjacent in memory, so a task reads whole rows of a few pages (per head over
  // the whole segment, every row was a page and TLB miss of its own).
  std::vector<std::pair<int, int64_t>> pack_tasks;  // (segment, first key of the tile)
  for (int s = 0; s < a.num_segments; ++s) {
    if (!queried(s)) continue;
    const int64_t n_pad = RoundUp(a.cu_seqlens[s + 1] - a.cu_seqlens[s], kKeyTile);
    for (int64_t t0 = 0; t0 < n_pad; t0 += kKeyTile) pack_tasks.emplace_back(s, t0);
  }
  ctx.pool().ParallelFor(int64_t(pack_tasks.size()), [&](int64_t ti, int) {
    const auto [s, t0] = pack_tasks[size_t(ti)];
    const int64_t b = a.cu_seqlens[s], n = a.cu_seqlens[s + 1] - b;
    const int64_t n_pad = RoundUp(n, kKeyTile);
    for (int h = 0; h < a.num_kv_heads; ++h) {
      uint32_t* k = pack + offset[size_t(s) * a.num_kv_heads + h];
      const int64_t hoff = int64_t{h} * a.head_dim;
      PackKv(
          lay, n, t0, t0 + kKeyTile, [&](int64_t j) { return a.k + (b + j) * a.k_stride + hoff; },
          [&](int64_t j) { return a.v + (b + j) * a.v_stride + hoff; }, k, k + lay.KWords(n_pad));
    }
  });

  std::vector<Task> tasks;
  for (int s = 0; s < a.num_segments; ++s) {
    // Query blocks aligned to the segment's start, as in a call over all rows (each row's
    // arithmetic is its own; the alignment keeps the tasks' shapes the same too).
    const int64_t sb = a.cu_seqlens[s];
    const auto [b, e] = QueryRange(a, s);
    if (b >= e) continue;
    for (int h = 0; h < a.num_heads; ++h) {
      for (int64_t q0 = sb + (b - sb) / kQueryBlock * kQueryBlock; q0 < e; q0 += kQueryBlock) {
        tasks.push_back({s, h, std::max(q0, b), std::min(e, q0 + kQueryBlock)});
      }
    }
  }
  std::vector<TaskScratch> scratch;
  scratch.reserve(size_t(ctx.num_threads()));
  for (int i = 0; i < ctx.num_threads(); ++i) scratch.emplace_back(lay);
  ctx.pool().ParallelFor(int64_t(tasks.size()), [&](int64_t ti, int thread) {
    const Task& t = tasks[size_t(ti)];
    const size_t i = size_t(t.segment) * a.num_kv_heads + t.head / group;
    const int64_t n_pad = RoundUp(a.cu_seqlens[t.segment + 1] - a.cu_seqlens[t.segment], kKeyTile);
    const uint32_t* k = pack + offset[i];
    const uint32_t* v = k + lay.KWords(n_pad);
    if (lay.words) {
      RunTask<true>(a, lay, t, k, v, scratch[size_t(thread)]);
    } else {
      RunTask<false>(a, lay, t, k, v, scratch[size_t(thread)]);
    }
  });
}

}  // namespace ocular::kernels::cpu
