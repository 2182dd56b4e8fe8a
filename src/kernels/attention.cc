// Attention: blocked online softmax ("flash" style) over key blocks, parallel over
// (segment or sequence, kv head, query block). Memory per thread is O(block * head_dim).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/full_attention.h"
#include "kernels/cpu/paged_attention.h"
#include "kernels/kernels.h"
#include "kernels/paged_decode.h"
#include "tensor/half.h"

namespace ocular::kernels {
namespace {

constexpr int kQueryBlock = 32;  // query rows sharing one pass over a key block
constexpr int kKeyBlock = 64;    // keys per block (scores [kQueryBlock, kKeyBlock])

// One query row: attends keys [0, limit).
struct QueryRow {
  const float* q;  // [head_dim] f32
  float* out;      // [head_dim] f32
  int64_t limit;
};

// Per-thread scratch.
struct Scratch {
  std::vector<float> acc;     // [kQueryBlock, head_dim] unnormalised outputs
  std::vector<float> scores;  // [kKeyBlock]
  std::vector<float> keys;    // [kKeyBlock, head_dim] converted keys (non-f32 caches)
  std::vector<float> values;  // [kKeyBlock, head_dim]
  std::vector<float> kt;      // [head_dim, kKeyBlock] the key block transposed
  std::vector<const float*> key_ptrs, value_ptrs;  // [kKeyBlock]
  std::vector<const void*> key_raw, value_raw;     // [kKeyBlock] half-precision rows in place
  void Reserve(int head_dim) {
    acc.resize(static_cast<size_t>(kQueryBlock) * head_dim);
    scores.resize(kKeyBlock);
    keys.resize(static_cast<size_t>(kKeyBlock) * head_dim);
    values.resize(keys.size());
    kt.resize(keys.size());
    key_ptrs.resize(kKeyBlock);
    value_ptrs.resize(kKeyBlock);
    key_raw.resize(kKeyBlock);
    value_raw.resize(kKeyBlock);
  }
};

// Online softmax of `num_rows` queries over keys [0, max limit), fetched in blocks by
// fetch(j0, count, key_ptrs, value_ptrs, scratch).
// `transposed`: scores as broadcast-FMAs over a transposed key block (worth it for several
// rows) or as dot products; chosen by the caller so that a row's arithmetic does not depend on
// which rows share its call. `raw` (kBF16 / kF16): fetch leaves the rows as stored in
// sc.key_raw / value_raw, read by the half-precision kernels (dot products, P V) or widened as
// the key block is transposed: the same bits as widened rows. kF32: f32 rows in key_ptrs /
// value_ptrs.
template <typename Fetch>
void AttendRows(const cpu::CpuKernels& kern, const QueryRow* rows, int num_rows, int head_dim,
                float scale, bool transposed, DType raw, Scratch& sc, Fetch&& fetch) {
  float row_max[kQueryBlock];
  float row_sum[kQueryBlock];
  int64_t max_limit = 0;
  for (int r = 0; r < num_rows; ++r) {
    row_max[r] = -std::numeric_limits<float>::infinity();
    row_sum[r] = 0.0f;
    std::fill_n(sc.acc.data() + static_cast<size_t>(r) * head_dim, head_dim, 0.0f);
    max_limit = std::max(max_limit, rows[r].limit);
  }
  for (int64_t j0 = 0; j0 < max_limit; j0 += kKeyBlock) {
    const int count = static_cast<int>(std::min<int64_t>(kKeyBlock, max_limit - j0));
    fetch(j0, count, sc.key_ptrs.data(), sc.value_ptrs.data(), sc);
    if (transposed && raw == DType::kF32) {
      for (int j = 0; j < count; ++j) {
        const float* kj = sc.key_ptrs[j];
        for (int d = 0; d < head_dim; ++d) sc.kt[static_cast<size_t>(d) * kKeyBlock + j] = kj[d];
      }
    } else if (transposed) {
      for (int j = 0; j < count; ++j) {
        const auto* kj = static_cast<const uint16_t*>(sc.key_raw[j]);
        for (int d = 0; d < head_dim; ++d) {
          sc.kt[static_cast<size_t>(d) * kKeyBlock + j] =
              raw == DType::kBF16 ? Bf16ToF32(kj[d]) : F16ToF32(kj[d]);
        }
      }
    }
    for (int r = 0; r < num_rows; ++r) {
      const int valid = static_cast<int>(std::clamp<int64_t>(rows[r].limit - j0, 0, count));
      if (valid == 0) continue;
      float* s = sc.scores.data();
      if (transposed) {
        kern.qk_scores(rows[r].q, sc.kt.data(), kKeyBlock, head_dim, valid, scale, s);
      } else if (raw != DType::kF32) {
        kern.dot_keys_half(raw, rows[r].q, sc.key_raw.data(), valid, head_dim, s);
        for (int j = 0; j < valid; ++j) s[j] *= scale;
      } else {
        kern.dot_keys(rows[r].q, sc.key_ptrs.data(), valid, head_dim, s);
        for (int j = 0; j < valid; ++j) s[j] *= scale;
      }
      float block_max = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < valid; ++j) block_max = std::max(block_max, s[j]);
      const float new_max = std::max(row_max[r], block_max);
      float* acc = sc.acc.data() + static_cast<size_t>(r) * head_dim;
      float correction = 1.0f;
      if (new_max > row_max[r] && row_sum[r] > 0.0f) {
        correction = std::exp(row_max[r] - new_max);
        row_sum[r] *= correction;
      }
      row_max[r] = new_max;
      row_sum[r] += kern.exp_shift_sum(s, new_max, valid);
      if (raw != DType::kF32) {
        kern.pv_accumulate_half(raw, s, sc.value_raw.data(), valid, head_dim, correction, acc);
      } else {
        kern.pv_accumulate(s, sc.value_ptrs.data(), valid, head_dim, correction, acc);
      }
    }
  }
  for (int r = 0; r < num_rows; ++r) {
    const float* acc = sc.acc.data() + static_cast<size_t>(r) * head_dim;
    // limit == 0 (no keys) cannot happen for valid inputs; write zeros rather than NaN.
    const float inv = row_sum[r] > 0.0f ? 1.0f / row_sum[r] : 0.0f;
    for (int d = 0; d < head_dim; ++d) rows[r].out[d] = acc[d] * inv;
  }
}

}  // namespace

void FullAttention(ComputeContext& ctx, const FullAttentionArgs& a) {
  CHECK(a.num_heads > 0 && a.num_kv_heads > 0 && a.num_heads % a.num_kv_heads == 0);
  CHECK(a.head_dim > 0 && a.num_segments >= 0 && a.cu_seqlens != nullptr);
  CHECK_EQ(a.cu_seqlens[0], 0);
  CHECK_GE(a.q_stride, static_cast<int64_t>(a.num_heads) * a.head_dim);
  CHECK_GE(a.out_stride, static_cast<int64_t>(a.num_heads) * a.head_dim);
  CHECK_GE(a.k_stride, static_cast<int64_t>(a.num_kv_heads) * a.head_dim);
  CHECK_GE(a.v_stride, static_cast<int64_t>(a.num_kv_heads) * a.head_dim);
  const bool bf16 = a.precision != Precision::kF32;
  if (ctx.isa() == Isa::kAvx512) {
    // Register-blocked tiles (cpu/full_attention_avx512.cc).
    cpu::FullAttentionAvx512(ctx, a,
                             !bf16 ? cpu::AttentionMath::kF32
                             : ctx.features().avx512_bf16 ? cpu::AttentionMath::kBf16Dot
                                                          : cpu::AttentionMath::kBf16Rounded);
    return;
  }
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  if (bf16) {
    // The AVX2 and scalar paths (correct, not fast): the same rounded inputs as the AVX-512
    // path, then the f32 kernel on them.
    const int64_t n = a.cu_seqlens[a.num_segments];
    const int64_t qw = static_cast<int64_t>(a.num_heads) * a.head_dim;
    const int64_t kw = static_cast<int64_t>(a.num_kv_heads) * a.head_dim;
    std::vector<float> q(static_cast<size_t>(n * qw));  // [n, num_heads, head_dim] f32
    std::vector<float> k(static_cast<size_t>(n * kw));  // [n, num_kv_heads, head_dim] f32
    std::vector<float> v(k.size());                     // [n, num_kv_heads, head_dim] f32
    for (int64_t t = 0; t < n; ++t) {
      std::copy_n(a.q + t * a.q_stride, qw, q.data() + t * qw);
      std::copy_n(a.k + t * a.k_stride, kw, k.data() + t * kw);
      std::copy_n(a.v + t * a.v_stride, kw, v.data() + t * kw);
    }
    kern.round_to_bf16(q.data(), static_cast<int64_t>(q.size()));
    kern.round_to_bf16(k.data(), static_cast<int64_t>(k.size()));
    kern.round_to_bf16(v.data(), static_cast<int64_t>(v.size()));
    FullAttentionArgs r = a;
    r.q = q.data(), r.k = k.data(), r.v = v.data();
    r.q_stride = qw, r.k_stride = r.v_stride = kw;
    r.precision = Precision::kF32;
    FullAttention(ctx, r);
    return;
  }
  const int group = a.num_heads / a.num_kv_heads;
  // Tasks: (segment, head, query block).
  struct Task {
    int segment, head;
    int64_t q0, q1;
    bool transposed;
  };
  // Query blocks aligned to the segment's start and the scores' method chosen by the whole
  // block, so a query range computes its rows exactly as the whole call does.
  std::vector<Task> tasks;
  for (int s = 0; s < a.num_segments; ++s) {
    const int64_t sb = a.cu_seqlens[s], se = a.cu_seqlens[s + 1];
    CHECK_LE(sb, se);
    const auto [b, e] = cpu::QueryRange(a, s);
    if (b >= e) continue;
    for (int h = 0; h < a.num_heads; ++h) {
      for (int64_t q0 = sb + (b - sb) / kQueryBlock * kQueryBlock; q0 < e; q0 += kQueryBlock) {
        const int64_t q1 = std::min(se, q0 + kQueryBlock);
        tasks.push_back({s, h, std::max(q0, b), std::min(q1, e), q1 - q0 >= 4});
      }
    }
  }
  std::vector<Scratch> scratch(static_cast<size_t>(ctx.num_threads()));
  for (Scratch& s : scratch) s.Reserve(a.head_dim);
  ctx.pool().ParallelFor(static_cast<int64_t>(tasks.size()), [&](int64_t ti, int thread) {
    const Task& t = tasks[ti];
    const int64_t seg_begin = a.cu_seqlens[t.segment];
    const int64_t seg_len = a.cu_seqlens[t.segment + 1] - seg_begin;
    const int kvh = t.head / group;
    QueryRow rows[kQueryBlock];
    int n = 0;
    for (int64_t i = t.q0; i < t.q1; ++i) {
      rows[n++] = {a.q + i * a.q_stride + static_cast<int64_t>(t.head) * a.head_dim,
                   a.out + i * a.out_stride + static_cast<int64_t>(t.head) * a.head_dim,
                   seg_len};
    }
    AttendRows(kern, rows, n, a.head_dim, a.scale, t.transposed, DType::kF32, scratch[thread],
               [&](int64_t j0, int count, const float** kp, const float** vp, Scratch&) {
                 for (int j = 0; j < count; ++j) {
                   const int64_t tok = seg_begin + j0 + j;
                   kp[j] = a.k + tok * a.k_stride + static_cast<int64_t>(kvh) * a.head_dim;
                   vp[j] = a.v + tok * a.v_stride + static_cast<int64_t>(kvh) * a.head_dim;
                 }
               });
  });
}

void WriteKv(const ComputeContext& ctx, const PagedKvView& c, const float* k, int64_t k_stride,
             const float* v, int64_t v_stride, const int64_t* slots, int64_t n) {
  CHECK(c.dtype == DType::kF32 || c.dtype == DType::kBF16 || c.dtype == DType::kF16);
  const int64_t row = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  CHECK(k_stride >= row && v_stride >= row);
  const int64_t elem = c.dtype == DType::kF32 ? 4 : 2;
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  for (int64_t i = 0; i < n; ++i) {
    CHECK(slots[i] >= 0 && slots[i] < c.num_blocks * c.block_size) << "slot out of range";
    const int64_t off = slots[i] * row * elem;
    kern.store_row(c.dtype, k + i * k_stride, static_cast<uint8_t*>(c.k) + off, row);
    kern.store_row(c.dtype, v + i * v_stride, static_cast<uint8_t*>(c.v) + off, row);
  }
}

void PagedAttention(ComputeContext& ctx, const PagedKvView& c, const PagedAttentionArgs& a) {
  CHECK(a.num_heads > 0 && c.num_kv_heads > 0 && a.num_heads % c.num_kv_heads == 0);
  CHECK(c.dtype == DType::kF32 || c.dtype == DType::kBF16 || c.dtype == DType::kF16);
  CHECK(c.block_size > 0 && c.head_dim > 0);
  CHECK_GE(a.q_stride, static_cast<int64_t>(a.num_heads) * c.head_dim);
  CHECK_GE(a.out_stride, static_cast<int64_t>(a.num_heads) * c.head_dim);
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  const int group = a.num_heads / c.num_kv_heads;
  const int hd = c.head_dim;
  const int64_t elem = c.dtype == DType::kF32 ? 4 : 2;
  const int64_t slot_elems = static_cast<int64_t>(c.num_kv_heads) * hd;
  // On AVX-512, sequences with several query tokens (prefill chunks) run on the register
  // tiles (cpu/paged_attention.h), each row with the arithmetic of the transposed method
  // below; single-token rows (decode steps) stay here. So a row's method depends only on
  // whether its sequence has one query token in the call, not on the chunking.
  const auto on_tiles = [&](int s) { return ctx.isa() == Isa::kAvx512 && a.q_counts[s] >= 2; };
  std::vector<int> tiled;
  for (int s = 0; s < a.num_seqs; ++s) {
    CHECK(a.q_counts[s] >= 0 && a.q_counts[s] <= a.kv_lens[s]);
    if (on_tiles(s)) tiled.push_back(s);
  }
  if (!tiled.empty()) cpu::PagedAttentionTilesAvx512(ctx, c, a, tiled);
  // Decode rows slot by slot across the kv heads (paged_decode.h) where the ISA serves them.
  const bool by_slot = PagedDecodeServes(ctx, c, a);
  auto on_slots = [&](int s) { return by_slot && a.q_counts[s] == 1; };
  std::vector<int> decoding;
  for (int s = 0; s < a.num_seqs; ++s) {
    if (on_slots(s)) decoding.push_back(s);
  }
  PagedDecodeAttention(ctx, c, a, decoding);
  // Tasks: (sequence, kv head, block of query rows); a row is one (query token, q head of the
  // group), so the group's heads share each pass over the kv head's keys.
  struct Task {
    int seq, kv_head;
    int64_t r0, r1;  // rows [r0, r1) of the sequence's q_count * group rows
  };
  std::vector<Task> tasks;
  for (int s = 0; s < a.num_seqs; ++s) {
    if (on_tiles(s) || on_slots(s)) continue;  // done above
    const int64_t rows = static_cast<int64_t>(a.q_counts[s]) * group;
    for (int h = 0; h < c.num_kv_heads; ++h) {
      for (int64_t r0 = 0; r0 < rows; r0 += kQueryBlock) {
        tasks.push_back({s, h, r0, std::min(rows, r0 + kQueryBlock)});
      }
    }
  }
  if (tasks.empty()) return;
  std::vector<Scratch> scratch(static_cast<size_t>(ctx.num_threads()));
  for (Scratch& s : scratch) s.Reserve(hd);
  ctx.pool().ParallelFor(static_cast<int64_t>(tasks.size()), [&](int64_t ti, int thread) {
    const Task& t = tasks[ti];
    const int32_t kv_len = a.kv_lens[t.seq], nq = a.q_counts[t.seq];
    const int32_t* table = a.block_tables[t.seq];
    QueryRow rows[kQueryBlock];
    int n = 0;
    for (int64_t r = t.r0; r < t.r1; ++r) {
      const int64_t i = r / group;
      const int head = t.kv_head * group + static_cast<int>(r % group);
      const int64_t qrow = a.q_starts[t.seq] + i;
      rows[n++] = {a.q + qrow * a.q_stride + static_cast<int64_t>(head) * hd,
                   a.out + qrow * a.out_stride + static_cast<int64_t>(head) * hd,
                   kv_len - nq + i + 1};
    }
    // Rows of a sequence with several query tokens always take the transposed method (the
    // tiles' arithmetic too), however its tokens fall into tasks; a decode row takes dot
    // products unless its group alone fills 4 rows. A half-precision cache is read in place
    // where the ISA has the kernels (half the bytes of widened rows, no copy).
    const bool transposed = nq >= 2 || n >= 4;
    const bool raw = c.dtype != DType::kF32 && kern.dot_keys_half != nullptr;
    AttendRows(kern, rows, n, hd, a.scale, transposed, raw ? c.dtype : DType::kF32, scratch[thread],
               [&](int64_t j0, int count, const float** kp, const float** vp, Scratch& sc) {
                 // Block and offset of each key, stepped (no division per key).
                 int64_t bi = j0 / c.block_size, off = j0 % c.block_size;
                 for (int j = 0; j < count; ++j) {
                   const int32_t block = table[bi];
                   CHECK(block >= 0 && block < c.num_blocks) << "block id out of range";
                   const int64_t index =
                       (static_cast<int64_t>(block) * c.block_size + off) * slot_elems +
                       static_cast<int64_t>(t.kv_head) * hd;
                   if (++off == c.block_size) off = 0, ++bi;
                   const uint8_t* kb = static_cast<const uint8_t*>(c.k) + index * elem;
                   const uint8_t* vb = static_cast<const uint8_t*>(c.v) + index * elem;
                   if (c.dtype == DType::kF32) {
                     kp[j] = reinterpret_cast<const float*>(kb);
                     vp[j] = reinterpret_cast<const float*>(vb);
                   } else if (raw) {
                     sc.key_raw[j] = kb;
                     sc.value_raw[j] = vb;
                   } else {
                     float* kd = sc.keys.data() + static_cast<size_t>(j) * hd;
                     float* vd = sc.values.data() + static_cast<size_t>(j) * hd;
                     kern.load_row(c.dtype, kb, kd, hd);
                     kern.load_row(c.dtype, vb, vd, hd);
                     kp[j] = kd;
                     vp[j] = vd;
                   }
                 }
               });
  });
}

}  // namespace ocular::kernels
