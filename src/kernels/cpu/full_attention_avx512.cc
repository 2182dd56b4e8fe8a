// FullAttentionAvx512 (full_attention.h). Compiled with the AVX-512 flags plus AVX512-BF16;
// the BF16 instructions run only under AttentionMath::kBf16Dot, which the caller selects
// when the CPU has them. The register tiles and the packed K / V layouts are shared with the
// causal paged attention (attention_tiles_avx512.h); here the online softmax works in log2
// units per 256-key block with its own exp2. Padded keys' scores are excluded from the
// softmax and their weights are 0.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/attention_tiles_avx512.h"
#include "kernels/cpu/full_attention.h"
#include "kernels/cpu/vec_avx512.h"

namespace ocular::kernels::cpu {
namespace {

using tiles::FirstLanes;
using tiles::kKeyTile;
using tiles::kRows;
using tiles::Layout;
using tiles::RoundUp;

constexpr int kKeyBlock = 256;   // keys per online-softmax step (multiple of kKeyTile)
constexpr int kQueryBlock = 32;  // query rows per task (multiple of kRows)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

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
      tiles::RowToWords(qrow(r), lay, reinterpret_cast<uint32_t*>(ts.q.data()) + r * qld);
    } else {
      tiles::RowToFloats(qrow(r), lay, hd, ts.q.data() + r * qld);
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
    const int num_tiles = (count + kKeyTile - 1) / kKeyTile;
    for (int rg = 0; rg < rows_pad; rg += kRows) {
      for (int tile = 0; tile < num_tiles; ++tile) {
        const int64_t kt = (kb / kKeyTile + tile) * lay.KTileWords();
        float* s = ts.s.data() + tile * kKeyTile;
        if constexpr (kBf16) {
          tiles::QkTile<tiles::Bf16Dot>(reinterpret_cast<const uint32_t*>(ts.q.data()) + rg * qld,
                                        qld, static_cast<const uint32_t*>(kpack) + kt, lay.hdp,
                                        scale, s, kKeyBlock);
        } else {
          tiles::QkTile<tiles::F32Fma>(ts.q.data() + rg * qld, qld,
                                       static_cast<const float*>(kpack) + kt, hd, scale, s,
                                       kKeyBlock);
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
      float* o = ts.o.data() + int64_t{rg} * hd16;
      if constexpr (kBf16) {
        tiles::PvTiles<tiles::Bf16Dot>(
            reinterpret_cast<const uint32_t*>(ts.p.data()), kKeyBlock / 2, (count + 1) / 2,
            static_cast<const uint32_t*>(vpack) + kb / 2 * hd16, hd16, corr, o, hd16, hd16);
      } else {
        tiles::PvTiles<tiles::F32Fma>(ts.p.data(), kKeyBlock, count,
                                      static_cast<const float*>(vpack) + kb * hd16, hd16, corr, o,
                                      hd16, hd16);
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
      tiles::PackKv(
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
