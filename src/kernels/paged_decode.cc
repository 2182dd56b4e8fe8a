// Decode attention key by key. A cache slot holds every kv head's key (and value) row side
// by side ([block, slot, kv_head, head_dim]), so reading one kv head's keys reads one row out
// of every slot: a strided pattern the hardware prefetcher does not follow (~7 GB/s per core
// measured, against ~30 for a sequential read). Here a task takes a chunk of up to kChunk
// keys of one sequence (its chunks of equal size) and every head: the scores slot by slot
// (each slot's rows for all kv heads in address order), then each row's softmax, then P V
// slot by slot, so each core reads its chunk's K and V sequentially. Each thread takes a
// contiguous run of chunks (ParallelForInRuns). A sequence longer than one chunk combines
// its chunks' outputs by their softmax sums; chunk bounds depend only on the sequence's
// length, so a row's result does not depend on the threads or on the other sequences in the
// call.
#include "kernels/paged_decode.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/cpu_kernels.h"

namespace ocular::kernels {
namespace {

constexpr int kChunk = 64;  // keys per task
// Half-precision caches: each slot is prefetched into L2 this many bytes ahead of the scoring
// and P V loops (rounded up to whole slots). A sequence's blocks lie wherever the block pool
// put them (a serving engine's free list hands blocks back in eviction order, block_pool.h),
// and each block starts a new stream for the hardware prefetcher; the software prefetch runs
// across block boundaries. Measured with bench_kernels (16 layers of
// 1 x 1024 and 4 x 1024 slots, blocks shuffled, pass by pass against no prefetch in one
// process): bf16 205 -> 150 and 791 -> 603 us per layer, about the same at 4 and 12 KiB;
// blocks in order: the same or a little faster (the hardware prefetcher streams them
// already). An f32 cache in 2 MiB pages was 10-30% slower with it, so f32 takes none.
constexpr int64_t kPrefetchBytes = 8 << 10;

void PrefetchSlot(const void* slot, int64_t bytes) {
  const char* p = static_cast<const char*>(slot);
  for (int64_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 2);  // into L2
}

struct Chunk {
  int seq;
  int64_t k0, k1;   // keys [k0, k1)
  int64_t partial;  // index of its partial results, or -1: the sequence's only chunk
};

// Combining split sequences' chunks runs on the pool from this many partial output values
// (below it the fork-join costs about what it saves).
constexpr int64_t kParallelCombineValues = 16384;

// Bytes rounded up to a cache line, so each scratch array starts on its own line.
int64_t Lines(int64_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

bool PagedDecodeServes(const ComputeContext& ctx, const PagedKvView& c,
                       const PagedAttentionArgs& a) {
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  return kern.dot_slot != nullptr && kern.pv_slot != nullptr &&
         a.num_heads / c.num_kv_heads <= cpu::kMaxSlotGroup;
}

void PagedDecodeAttention(ComputeContext& ctx, const PagedKvView& c, const PagedAttentionArgs& a,
                          std::span<const int> seqs) {
  if (seqs.empty()) return;
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  const int heads = a.num_heads, kv_heads = c.num_kv_heads, group = heads / kv_heads;
  const int hd = c.head_dim;
  CHECK(group <= cpu::kMaxSlotGroup);
  const int64_t elem = c.dtype == DType::kF32 ? 4 : 2;
  const int64_t slot_bytes = static_cast<int64_t>(kv_heads) * hd * elem;
  const int ahead =
      c.dtype == DType::kF32 ? 0 : static_cast<int>((kPrefetchBytes + slot_bytes - 1) / slot_bytes);

  std::vector<Chunk> chunks;
  struct Split {
    int seq;
    int64_t first, count;  // its partials
  };
  std::vector<Split> splits;
  int64_t partials = 0;
  for (int s : seqs) {
    CHECK_EQ(a.q_counts[s], 1);
    const int64_t len = a.kv_lens[s];
    const int64_t n = (len + kChunk - 1) / kChunk;
    if (n <= 1) {
      chunks.push_back({s, 0, len, -1});
      continue;
    }
    // n chunks of equal size (within one key): the threads' shares stay even when n is
    // small. The bounds depend only on the sequence's length.
    splits.push_back({s, partials, n});
    for (int64_t i = 0; i < n; ++i) {
      chunks.push_back({s, len * i / n, len * (i + 1) / n, partials++});
    }
  }
  // Scratch, from the context (no allocation or clearing per call): per thread a chunk's
  // scores [heads, kChunk], the only chunk's output [heads, hd], row maxes and sums [heads]
  // and slot starts [kChunk] of K and V; for split sequences the chunks' unnormalised outputs
  // [p, heads, hd], maxes and sums [p, heads].
  const int threads = ctx.num_threads();
  const int64_t scores_b = Lines(int64_t{heads} * kChunk * 4);
  const int64_t acc_b = Lines(int64_t{heads} * hd * 4);
  const int64_t rows_b = Lines(int64_t{heads} * 4);
  const int64_t slots_b = Lines(kChunk * int64_t{sizeof(void*)});
  const int64_t thread_b = scores_b + acc_b + 2 * rows_b + 2 * slots_b;
  const int64_t part_acc_b = Lines(partials * heads * hd * 4);
  const int64_t part_row_b = Lines(partials * heads * 4);
  const int64_t total_b = threads * thread_b + part_acc_b + 2 * part_row_b;
  auto* base = static_cast<uint8_t*>(
      ctx.Scratch(ComputeContext::kScratchDecodeAttention, static_cast<size_t>(total_b)));
  struct ChunkScratch {
    float *scores, *acc, *row_max, *row_sum;
    const void **k_slots, **v_slots;
  };
  auto scratch_of = [&](int thread) {
    uint8_t* p = base + thread * thread_b;
    ChunkScratch sc;
    sc.scores = reinterpret_cast<float*>(p);
    sc.acc = reinterpret_cast<float*>(p + scores_b);
    sc.row_max = reinterpret_cast<float*>(p + scores_b + acc_b);
    sc.row_sum = reinterpret_cast<float*>(p + scores_b + acc_b + rows_b);
    sc.k_slots = reinterpret_cast<const void**>(p + scores_b + acc_b + 2 * rows_b);
    sc.v_slots = reinterpret_cast<const void**>(p + scores_b + acc_b + 2 * rows_b + slots_b);
    return sc;
  };
  float* part_acc = reinterpret_cast<float*>(base + threads * thread_b);
  float* part_max = reinterpret_cast<float*>(base + threads * thread_b + part_acc_b);
  float* part_sum = reinterpret_cast<float*>(base + threads * thread_b + part_acc_b + part_row_b);

  ctx.pool().ParallelForInRuns(static_cast<int64_t>(chunks.size()), [&](int64_t ti, int thread) {
    const Chunk& ch = chunks[ti];
    const ChunkScratch sc = scratch_of(thread);
    const int count = static_cast<int>(ch.k1 - ch.k0);
    const int32_t* table = a.block_tables[ch.seq];
    const int64_t qrow = a.q_starts[ch.seq];
    // Slot starts, the block and offset stepped (no division per key).
    int64_t bi = ch.k0 / c.block_size, off = ch.k0 % c.block_size;
    for (int j = 0; j < count; ++j) {
      const int32_t block = table[bi];
      CHECK(block >= 0 && block < c.num_blocks) << "block id out of range";
      const int64_t at = (static_cast<int64_t>(block) * c.block_size + off) * slot_bytes;
      sc.k_slots[j] = static_cast<const uint8_t*>(c.k) + at;
      sc.v_slots[j] = static_cast<const uint8_t*>(c.v) + at;
      if (++off == c.block_size) off = 0, ++bi;
    }
    // Scores, slot by slot: row r = h * group + g (the token's heads are contiguous in q).
    const float* q = a.q + qrow * a.q_stride;
    float* scores = sc.scores;
    // Prefetch: the keys `ahead` slots on; near the end, the first value slots.
    for (int j = 0; j < count; ++j) {
      if (ahead > 0) {
        if (j + ahead < count) {
          PrefetchSlot(sc.k_slots[j + ahead], slot_bytes);
        } else if (j + ahead - count < count) {
          PrefetchSlot(sc.v_slots[j + ahead - count], slot_bytes);
        }
      }
      kern.dot_slot(c.dtype, q, kv_heads, group, hd, sc.k_slots[j], scores + j, kChunk);
    }
    float* acc = ch.partial < 0 ? sc.acc : part_acc + ch.partial * heads * hd;
    std::fill_n(acc, static_cast<size_t>(heads) * hd, 0.0f);
    float* row_max = sc.row_max;
    float* row_sum = sc.row_sum;
    for (int r = 0; r < heads; ++r) {
      float* s = scores + static_cast<int64_t>(r) * kChunk;
      for (int j = 0; j < count; ++j) s[j] *= a.scale;
      float m = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < count; ++j) m = std::max(m, s[j]);
      row_max[r] = m;
      row_sum[r] = kern.exp_shift_sum(s, m, count);
    }
    // P V, slot by slot.
    for (int j = 0; j < count; ++j) {
      if (ahead > 0 && j + ahead < count) PrefetchSlot(sc.v_slots[j + ahead], slot_bytes);
      kern.pv_slot(c.dtype, scores + j, kChunk, kv_heads, group, hd, sc.v_slots[j], acc);
    }
    if (ch.partial >= 0) {
      std::copy_n(row_max, heads, part_max + ch.partial * heads);
      std::copy_n(row_sum, heads, part_sum + ch.partial * heads);
      return;
    }
    for (int r = 0; r < heads; ++r) {
      const float inv = row_sum[r] > 0.0f ? 1.0f / row_sum[r] : 0.0f;
      float* out = a.out + qrow * a.out_stride + static_cast<int64_t>(r) * hd;
      for (int d = 0; d < hd; ++d) out[d] = acc[static_cast<int64_t>(r) * hd + d] * inv;
    }
  });

  // Split sequences: out = sum_c e^(m_c - M) acc_c / sum_c e^(m_c - M) sum_c, one (sequence,
  // head) row at a time.
  if (splits.empty()) return;
  auto combine = [&](int64_t row) {
    const Split& sp = splits[row / heads];
    const int r = static_cast<int>(row % heads);
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t p = sp.first; p < sp.first + sp.count; ++p) {
      m = std::max(m, part_max[p * heads + r]);
    }
    float* out = a.out + a.q_starts[sp.seq] * a.out_stride + static_cast<int64_t>(r) * hd;
    std::fill_n(out, hd, 0.0f);
    float total = 0.0f;
    for (int64_t p = sp.first; p < sp.first + sp.count; ++p) {
      const float w = std::exp(part_max[p * heads + r] - m);
      total += w * part_sum[p * heads + r];
      kern.axpy(w, part_acc + (p * heads + r) * hd, out, hd);
    }
    kern.scale(out, total > 0.0f ? 1.0f / total : 0.0f, hd);
  };
  const int64_t rows = static_cast<int64_t>(splits.size()) * heads;
  if (partials * heads * hd < kParallelCombineValues) {
    for (int64_t row = 0; row < rows; ++row) combine(row);
    return;
  }
  ctx.pool().ParallelRange(rows, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t row = b; row < e; ++row) combine(row);
  });
}

}  // namespace ocular::kernels
