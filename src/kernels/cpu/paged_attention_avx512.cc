// PagedAttentionTilesAvx512 (paged_attention.h). Compiled with the AVX-512 flags and
// -ffp-contract=off: the softmax bookkeeping below must round like attention.cc's (built
// without FMA), so that a row's bits match the row-blocked kernel's transposed method.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/attention_tiles_avx512.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/paged_attention.h"

namespace ocular::kernels::cpu {
namespace {

// Query tokens per task: with the group's heads, 32 rows for Qwen3-VL's 2 q heads per kv head.
constexpr int kQueryTokens = 16;

// The packed keys and values of one (sequence, kv head).
struct Packed {
  float* k;  // [n_pad / 64][head_dim][64] f32
  float* v;  // [n_pad][hd16] f32
};

struct Task {
  int seq, kv_head;
  int32_t i0, i1;  // query tokens [i0, i1) of the sequence
  int64_t packed;  // index into the Packed table
  int64_t cost;    // rows x keys of the longest row: the order of the work list
};

// Per-thread scratch for one task's rows (kQueryTokens * group, rounded up to tiles::kRows).
struct TaskScratch {
  std::vector<float> q;        // [rows_pad, hd] f32 query rows
  std::vector<float> o;        // [rows_pad, hd16] f32 unnormalised outputs
  std::vector<float> s;        // [tiles::kRows, tiles::kKeyTile] f32 scores, then softmax weights
  std::vector<float> row_max;  // [rows_pad] running maxima
  std::vector<float> row_sum;  // [rows_pad] running sums
  std::vector<int64_t> limit;  // [rows_pad] keys [0, limit) visible to the row (0: padding)
  TaskScratch(int rows_pad, const tiles::Layout& lay)
      : q(size_t(rows_pad) * lay.hd),
        o(size_t(rows_pad) * lay.hd16),
        s(size_t{tiles::kRows} * tiles::kKeyTile),
        row_max(size_t(rows_pad)),
        row_sum(size_t(rows_pad)),
        limit(size_t(rows_pad)) {}
};

// Maximum of s[0, count), count <= 64 (max is exact: the order does not matter).
inline float MaxOf(const float* s, int count) {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 mx = ninf;
  for (int j = 0; j < count; j += 16) {
    mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, tiles::FirstLanes(count - j), s + j));
  }
  return avx512::ReduceMax(mx);
}

void RunTask(const CpuKernels& kern, const PagedAttentionArgs& a, const tiles::Layout& lay,
             const Task& t, const Packed& pk, int group, TaskScratch& ts) {
  const int hd = lay.hd, hd16 = lay.hd16;
  const int32_t kv_len = a.kv_lens[t.seq], nq = a.q_counts[t.seq];
  // Rows in (token, head of the group) order: a tile's rows have nearly the same limit.
  const int rows = (t.i1 - t.i0) * group;
  const int rows_pad = static_cast<int>(tiles::RoundUp(rows, tiles::kRows));
  for (int r = 0; r < rows_pad; ++r) {
    const float* q = nullptr;
    ts.limit[r] = 0;
    if (r < rows) {
      const int64_t i = t.i0 + r / group;
      const int head = t.kv_head * group + r % group;
      q = a.q + (a.q_starts[t.seq] + i) * a.q_stride + int64_t{head} * hd;
      ts.limit[r] = kv_len - nq + i + 1;
    }
    tiles::RowToFloats(q, lay, hd, ts.q.data() + int64_t{r} * hd);
    ts.row_max[r] = -std::numeric_limits<float>::infinity();
    ts.row_sum[r] = 0.0f;
  }
  std::fill_n(ts.o.begin(), size_t(rows_pad) * hd16, 0.0f);
  const int64_t max_limit = ts.limit[rows - 1];
  float corr[tiles::kRows];
  for (int64_t j0 = 0; j0 < max_limit; j0 += tiles::kKeyTile) {
    const float* kt = pk.k + j0 / tiles::kKeyTile * lay.KTileWords();
    for (int rg = 0; rg < rows_pad; rg += tiles::kRows) {
      int valid[tiles::kRows], count = 0;
      for (int r = 0; r < tiles::kRows; ++r) {
        valid[r] = static_cast<int>(std::clamp<int64_t>(ts.limit[rg + r] - j0, 0, tiles::kKeyTile));
        count = std::max(count, valid[r]);
      }
      if (count == 0) continue;  // the block lies wholly above these rows' diagonal
      tiles::QkTile<tiles::F32Fma>(ts.q.data() + int64_t{rg} * hd, hd, kt, hd, a.scale, ts.s.data(),
                                   tiles::kKeyTile);
      for (int r = 0; r < tiles::kRows; ++r) {
        float* s = ts.s.data() + r * tiles::kKeyTile;
        corr[r] = 1.0f;
        if (valid[r] > 0) {
          // The online softmax step of AttendRows, statement for statement.
          float& row_max = ts.row_max[rg + r];
          float& row_sum = ts.row_sum[rg + r];
          const float new_max = std::max(row_max, MaxOf(s, valid[r]));
          if (new_max > row_max && row_sum > 0.0f) {
            corr[r] = std::exp(row_max - new_max);
            row_sum *= corr[r];
          }
          row_max = new_max;
          row_sum += kern.exp_shift_sum(s, new_max, valid[r]);
        }
        // Masked keys weigh 0: acc + 0 * v == acc, so the tile's P V adds nothing for them.
        std::fill(s + valid[r], s + count, 0.0f);
      }
      tiles::PvTiles<tiles::F32Fma>(ts.s.data(), tiles::kKeyTile, count, pk.v + j0 * hd16, hd16,
                                    corr, ts.o.data() + int64_t{rg} * hd16, hd16, hd16);
    }
  }
  for (int r = 0; r < rows; ++r) {
    const int64_t i = t.i0 + r / group;
    const int head = t.kv_head * group + r % group;
    float* out = a.out + (a.q_starts[t.seq] + i) * a.out_stride + int64_t{head} * hd;
    // limit >= 1 for every real row, so row_sum >= 1; the guard mirrors AttendRows.
    const float inv = ts.row_sum[r] > 0.0f ? 1.0f / ts.row_sum[r] : 0.0f;
    const float* o = ts.o.data() + int64_t{r} * hd16;
    for (int d0 = 0; d0 < hd; d0 += 16) {
      _mm512_mask_storeu_ps(out + d0, tiles::FirstLanes(hd - d0),
                            _mm512_mul_ps(_mm512_loadu_ps(o + d0), _mm512_set1_ps(inv)));
    }
  }
}

}  // namespace

void PagedAttentionTilesAvx512(ComputeContext& ctx, const PagedKvView& c,
                               const PagedAttentionArgs& a, std::span<const int> seqs) {
  CHECK(ctx.isa() == Isa::kAvx512);
  CHECK_LE(c.head_dim, 1024);
  const CpuKernels& kern = KernelsFor(Isa::kAvx512);
  tiles::Layout lay;
  lay.words = false;
  lay.round = false;
  lay.hd = c.head_dim;
  lay.hdp = (c.head_dim + 1) / 2;
  lay.hd16 = static_cast<int>(tiles::RoundUp(c.head_dim, 16));
  const int group = a.num_heads / c.num_kv_heads;
  const int64_t elem = c.dtype == DType::kF32 ? 4 : 2;
  const int64_t slot_elems = int64_t{c.num_kv_heads} * c.head_dim;

  // Packed regions: one per (listed sequence, kv head), in 4-byte words.
  const size_t num_packed = seqs.size() * size_t(c.num_kv_heads);
  std::vector<int64_t> offset(num_packed + 1, 0);
  for (size_t si = 0; si < seqs.size(); ++si) {
    const int64_t n_pad = tiles::RoundUp(a.kv_lens[seqs[si]], tiles::kKeyTile);
    for (int h = 0; h < c.num_kv_heads; ++h) {
      const size_t i = si * c.num_kv_heads + h;
      offset[i + 1] = offset[i] + lay.KWords(n_pad) + lay.VWords(n_pad);
    }
  }
  float* pack = static_cast<float*>(
      ctx.Scratch(ComputeContext::kScratchActivations, size_t(offset.back()) * 4));
  auto packed = [&](size_t i) {
    const int64_t n_pad = tiles::RoundUp(a.kv_lens[seqs[i / c.num_kv_heads]], tiles::kKeyTile);
    return Packed{pack + offset[i], pack + offset[i] + lay.KWords(n_pad)};
  };

  // Packing, parallel over (sequence, key tile) with all kv heads of a tile in one task: the
  // heads of a slot are adjacent in the cache.
  struct PackTask {
    size_t si;
    int64_t t0;
  };
  std::vector<PackTask> pack_tasks;
  for (size_t si = 0; si < seqs.size(); ++si) {
    for (int64_t t0 = 0; t0 < a.kv_lens[seqs[si]]; t0 += tiles::kKeyTile)
      pack_tasks.push_back({si, t0});
  }
  ctx.pool().ParallelFor(int64_t(pack_tasks.size()), [&](int64_t ti, int) {
    const PackTask& pt = pack_tasks[size_t(ti)];
    const int s = seqs[pt.si];
    const int32_t* table = a.block_tables[s];
    std::vector<float> kbuf(size_t(c.head_dim)), vbuf(kbuf.size());  // [head_dim] f32
    for (int h = 0; h < c.num_kv_heads; ++h) {
      // The cache row of key position j, kv head h, as f32 (converted into buf when needed).
      auto row = [&](const void* base, int64_t j, std::vector<float>& buf) -> const float* {
        const int32_t block = table[j / c.block_size];
        CHECK(block >= 0 && block < c.num_blocks) << "block id out of range";
        const int64_t index = (int64_t{block} * c.block_size + j % c.block_size) * slot_elems +
                              int64_t{h} * c.head_dim;
        const uint8_t* p = static_cast<const uint8_t*>(base) + index * elem;
        if (c.dtype == DType::kF32) return reinterpret_cast<const float*>(p);
        kern.load_row(c.dtype, p, buf.data(), c.head_dim);
        return buf.data();
      };
      const Packed pk = packed(pt.si * c.num_kv_heads + h);
      tiles::PackKv(
          lay, a.kv_lens[s], pt.t0, pt.t0 + tiles::kKeyTile,
          [&](int64_t j) { return row(c.k, j, kbuf); },
          [&](int64_t j) { return row(c.v, j, vbuf); }, pk.k, pk.v);
    }
  });

  // Work list: (sequence, kv head, block of query tokens), longest rows first so that the
  // short blocks near the triangle's tip fill in at the end.
  std::vector<Task> tasks;
  for (size_t si = 0; si < seqs.size(); ++si) {
    const int s = seqs[si];
    const int32_t nq = a.q_counts[s], kv_len = a.kv_lens[s];
    for (int h = 0; h < c.num_kv_heads; ++h) {
      for (int32_t i0 = 0; i0 < nq; i0 += kQueryTokens) {
        const int32_t i1 = std::min(nq, i0 + kQueryTokens);
        tasks.push_back({s, h, i0, i1, int64_t(si) * c.num_kv_heads + h,
                         int64_t{i1 - i0} * (kv_len - nq + i1)});
      }
    }
  }
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& x, const Task& y) { return x.cost > y.cost; });
  std::vector<TaskScratch> scratch;
  scratch.reserve(size_t(ctx.num_threads()));
  const int rows_pad =
      static_cast<int>(tiles::RoundUp(int64_t{kQueryTokens} * group, tiles::kRows));
  for (int i = 0; i < ctx.num_threads(); ++i) scratch.emplace_back(rows_pad, lay);
  ctx.pool().ParallelFor(int64_t(tasks.size()), [&](int64_t ti, int thread) {
    const Task& t = tasks[size_t(ti)];
    RunTask(kern, a, lay, t, packed(size_t(t.packed)), group, scratch[size_t(thread)]);
  });
}

}  // namespace ocular::kernels::cpu
