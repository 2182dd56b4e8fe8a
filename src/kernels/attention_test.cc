// FullAttention, WriteKv and PagedAttention on every dispatch path against the references.
// Tolerance per output element (derivation): scores carry |ds| <= d = (head_dim + 4) u scale
// sum_d |q_d k_d| (max over keys); a perturbation d of the logits moves softmax weights by a
// factor within e^{+-2d}, so the output moves by <= 2.2 d max|v|; the online sums add
// (num_keys + head_dim + 16) u max|v| (f32 sums, rescales, Exp's few ulp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "kernels/cpu/full_attention.h"
#include "kernels/kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

using testing::kU32;

double Tolerance(const float* q, const std::vector<const float*>& keys,
                 const std::vector<const float*>& values, int head_dim, float scale) {
  double max_qk = 0, max_v = 0;
  for (const float* k : keys) {
    double s = 0;
    for (int d = 0; d < head_dim; ++d) s += std::fabs(q[d] * double(k[d]));
    max_qk = std::max(max_qk, s);
  }
  for (const float* v : values) {
    for (int d = 0; d < head_dim; ++d) max_v = std::max(max_v, std::fabs(double(v[d])));
  }
  const double ds = (head_dim + 4) * kU32 * scale * max_qk;
  return (2.2 * ds + (keys.size() + head_dim + 16) * kU32) * max_v + 1e-30;
}

class AttentionTest : public ::testing::TestWithParam<Isa> {
 protected:
  testing::PathContext pc_{GetParam()};
  std::mt19937 rng_{11};
};

TEST_P(AttentionTest, FullAttentionWithinSegments) {
  for (int head_dim : {72, 64, 5}) {
    const int heads = 4, kv_heads = 2;
    // Segments of 5, 0 (empty), 70 (crosses the 32-query and 64-key blocks) and 1 tokens.
    const std::vector<int64_t> cu = {0, 5, 5, 75, 76};
    const int64_t n = cu.back();
    const int64_t qs = heads * head_dim + 3, ks = kv_heads * head_dim + 1;
    std::vector<float> q = testing::RandomFloats(rng_, n * qs, -2, 2);
    std::vector<float> k = testing::RandomFloats(rng_, n * ks, -2, 2);
    std::vector<float> v = testing::RandomFloats(rng_, n * ks + 1);
    const int64_t os = heads * head_dim;
    std::vector<float> out(n * os, -9.0f), want(n * os, -9.0f);
    FullAttentionArgs a;
    a.q = q.data();
    a.k = k.data();
    a.v = v.data() + 1;  // misaligned
    a.q_stride = qs;
    a.k_stride = a.v_stride = ks;
    a.out_stride = os;
    a.cu_seqlens = cu.data();
    a.num_segments = static_cast<int>(cu.size()) - 1;
    a.num_heads = heads;
    a.num_kv_heads = kv_heads;
    a.head_dim = head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    a.out = out.data();
    FullAttention(pc_.ctx, a);
    a.out = want.data();
    ref::FullAttention(a);
    for (int s = 0; s + 1 < static_cast<int>(cu.size()); ++s) {
      for (int64_t t = cu[s]; t < cu[s + 1]; ++t) {
        for (int h = 0; h < heads; ++h) {
          std::vector<const float*> keys, values;
          for (int64_t j = cu[s]; j < cu[s + 1]; ++j) {
            keys.push_back(a.k + j * ks + (h / 2) * head_dim);
            values.push_back(a.v + j * ks + (h / 2) * head_dim);
          }
          const double tol =
              Tolerance(a.q + t * qs + h * head_dim, keys, values, head_dim, a.scale);
          for (int d = 0; d < head_dim; ++d) {
            const int64_t i = t * os + h * head_dim + d;
            ASSERT_NEAR(out[i], want[i], tol) << "seg " << s << " t " << t << " h " << h;
          }
        }
      }
    }
  }
}

// Image-sized segments (129 and 300 tokens: many query and key blocks), with oneDNN on and
// off in the context: both within the same bound of the reference.
TEST_P(AttentionTest, FullAttentionLongSegmentsBothPaths) {
  for (bool onednn : {true, false}) {
    testing::PathContext pc(GetParam(), onednn);
    const int head_dim = 72, heads = 4, kv_heads = 2;
    const std::vector<int64_t> cu = {0, 129, 129, 429, 430};
    const int64_t n = cu.back();
    const int64_t qs = heads * head_dim + 1, ks = kv_heads * head_dim + 5, os = heads * head_dim + 2;
    std::vector<float> q = testing::RandomFloats(rng_, n * qs, -2, 2);
    std::vector<float> k = testing::RandomFloats(rng_, n * ks, -2, 2);
    std::vector<float> v = testing::RandomFloats(rng_, n * ks);
    std::vector<float> out(n * os, -9.0f), want(n * os, -9.0f);
    FullAttentionArgs a;
    a.q = q.data(), a.k = k.data(), a.v = v.data();
    a.q_stride = qs, a.k_stride = a.v_stride = ks, a.out_stride = os;
    a.cu_seqlens = cu.data();
    a.num_segments = static_cast<int>(cu.size()) - 1;
    a.num_heads = heads, a.num_kv_heads = kv_heads, a.head_dim = head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    a.out = out.data();
    FullAttention(pc.ctx, a);
    a.out = want.data();
    ref::FullAttention(a);
    for (int s = 0; s + 1 < static_cast<int>(cu.size()); ++s) {
      for (int64_t t = cu[s]; t < cu[s + 1]; ++t) {
        for (int h = 0; h < heads; ++h) {
          std::vector<const float*> keys, values;
          for (int64_t j = cu[s]; j < cu[s + 1]; ++j) {
            keys.push_back(a.k + j * ks + (h / 2) * head_dim);
            values.push_back(a.v + j * ks + (h / 2) * head_dim);
          }
          const double tol =
              Tolerance(a.q + t * qs + h * head_dim, keys, values, head_dim, a.scale);
          for (int d = 0; d < head_dim; ++d) {
            const int64_t i = t * os + h * head_dim + d;
            ASSERT_NEAR(out[i], want[i], tol)
                << "onednn " << onednn << " seg " << s << " t " << t << " h " << h;
          }
        }
        // Padding between rows is untouched.
        ASSERT_EQ(out[t * os + heads * head_dim], -9.0f);
      }
    }
  }
}

TEST_P(AttentionTest, FullAttentionSingleKeyReturnsItsValue) {
  // Independent check: with one key, softmax is 1 and the output is that value exactly.
  const int head_dim = 17;
  std::vector<float> q = testing::RandomFloats(rng_, head_dim), k = q;
  std::vector<float> v = testing::RandomFloats(rng_, head_dim), out(head_dim);
  const int64_t cu[2] = {0, 1};
  FullAttentionArgs a;
  a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out.data();
  a.q_stride = a.k_stride = a.v_stride = a.out_stride = head_dim;
  a.cu_seqlens = cu, a.num_segments = 1, a.num_heads = a.num_kv_heads = 1;
  a.head_dim = head_dim, a.scale = 0.3f;
  FullAttention(pc_.ctx, a);
  EXPECT_EQ(out, v);
}

// A query range computes exactly what the whole call computes for those rows (bit for bit:
// each row's softmax is its own) and writes nothing else: pieces that cut through segments,
// a piece inside one segment, and an empty piece, on every path and both precisions.
TEST_P(AttentionTest, FullAttentionQueryRangesEqualTheWholeCall) {
  const std::vector<int64_t> cu = {0, 7, 7, 140, 141, 300};
  const int64_t n = cu.back();
  const int heads = 2, head_dim = 64;
  const int64_t w = heads * head_dim;
  std::vector<float> q = testing::RandomFloats(rng_, n * w, -2, 2);
  std::vector<float> k = testing::RandomFloats(rng_, n * w, -2, 2);
  std::vector<float> v = testing::RandomFloats(rng_, n * w);
  for (Precision precision : {Precision::kF32, Precision::kBf16}) {
    FullAttentionArgs a;
    a.q = q.data(), a.k = k.data(), a.v = v.data();
    a.q_stride = a.k_stride = a.v_stride = a.out_stride = w;
    a.cu_seqlens = cu.data(), a.num_segments = static_cast<int>(cu.size()) - 1;
    a.num_heads = a.num_kv_heads = heads, a.head_dim = head_dim;
    a.scale = 0.125f, a.precision = precision;
    std::vector<float> whole(n * w, -9.0f), pieces(n * w, -7.0f);
    a.out = whole.data();
    FullAttention(pc_.ctx, a);
    a.out = pieces.data();
    for (const auto& [b, e] : std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 50}, {50, 50}, {50, 141},
                                                                        {141, 142}, {142, 299}, {299, -1}}) {
      a.q_begin = b, a.q_end = e;
      FullAttention(pc_.ctx, a);
    }
    EXPECT_EQ(pieces, whole) << "precision " << static_cast<int>(precision);
    // A range leaves the other rows as they were.
    std::vector<float> part(n * w, -7.0f);
    a.out = part.data();
    a.q_begin = 10, a.q_end = 20;
    FullAttention(pc_.ctx, a);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t i = 0; i < w; ++i) {
        ASSERT_EQ(part[t * w + i], t >= 10 && t < 20 ? whole[t * w + i] : -7.0f) << "row " << t;
      }
    }
  }
}

// The ViT's shapes on every path and both precisions: segments of 1, 7, 65 and 300 tokens
// (one query row, a partial 4-row tile, a partial 64-key tile, several 128-key blocks),
// head_dim 64 (Qwen3-VL) and 72 / 80 (padded to whole vectors), with strided rows.
// kF32 is held to the f32 bound above. kBf16 is compared with the reference run on q, k, v
// rounded to bf16 (what the kernel multiplies): left is the f32 bound on those inputs plus
// the rounding of the softmax weights to bf16 (relative u_bf16 each, so at most
// u_bf16 * max|v| on a weighted mean of v); u_bf16 = 2^-8.
TEST_P(AttentionTest, FullAttentionVitShapesBothPrecisions) {
  const std::vector<int64_t> cu = {0, 1, 8, 73, 373};
  const int64_t n = cu.back();
  for (int head_dim : {64, 72, 80}) {
    for (Precision precision : {Precision::kF32, Precision::kBf16}) {
      const int heads = 2;
      const int64_t qs = heads * head_dim + 5, os = heads * head_dim + 1;
      std::vector<float> q = testing::RandomFloats(rng_, n * qs, -2, 2);
      std::vector<float> k = testing::RandomFloats(rng_, n * qs, -2, 2);
      std::vector<float> v = testing::RandomFloats(rng_, n * qs);
      std::vector<float> out(n * os, -9.0f), want(n * os, -9.0f);
      FullAttentionArgs a;
      a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out.data();
      a.q_stride = a.k_stride = a.v_stride = qs, a.out_stride = os;
      a.cu_seqlens = cu.data();
      a.num_segments = static_cast<int>(cu.size()) - 1;
      a.num_heads = a.num_kv_heads = heads, a.head_dim = head_dim;
      a.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
      a.precision = precision;
      FullAttention(pc_.ctx, a);
      const bool bf16 = precision == Precision::kBf16;
      // AVX-512 without BF16 dots rounds the inputs and multiplies in f32: the same bound.
      std::vector<float> out_rounded(out.size(), -9.0f);
      const bool check_rounded = bf16 && GetParam() == Isa::kAvx512;
      if (check_rounded) {
        FullAttentionArgs r = a;
        r.out = out_rounded.data();
        cpu::FullAttentionAvx512(pc_.ctx, r, cpu::AttentionMath::kBf16Rounded);
      }
      if (bf16) {
        for (std::vector<float>* x : {&q, &k, &v}) {
          for (float& f : *x) f = Bf16ToF32(F32ToBf16(f));
        }
      }
      a.out = want.data();
      ref::FullAttention(a);
      for (int s = 0; s + 1 < static_cast<int>(cu.size()); ++s) {
        for (int64_t t = cu[s]; t < cu[s + 1]; ++t) {
          for (int h = 0; h < heads; ++h) {
            std::vector<const float*> keys, values;
            double max_v = 0;
            for (int64_t j = cu[s]; j < cu[s + 1]; ++j) {
              keys.push_back(a.k + j * qs + h * head_dim);
              values.push_back(a.v + j * qs + h * head_dim);
              for (int d = 0; d < head_dim; ++d) {
                max_v = std::max(max_v, std::fabs(double(values.back()[d])));
              }
            }
            const double tol =
                Tolerance(a.q + t * qs + h * head_dim, keys, values, head_dim, a.scale) +
                (bf16 ? testing::kUBf16 * max_v : 0.0);
            for (int d = 0; d < head_dim; ++d) {
              const int64_t i = t * os + h * head_dim + d;
              ASSERT_NEAR(out[i], want[i], tol) << "head_dim " << head_dim << " bf16 " << bf16
                                                << " seg " << s << " t " << t << " h " << h;
              if (check_rounded) {
                ASSERT_NEAR(out_rounded[i], want[i], tol) << "rounded, head_dim " << head_dim;
              }
            }
          }
          ASSERT_EQ(out[t * os + heads * head_dim], -9.0f);  // padding untouched
        }
      }
    }
  }
}

struct PagedCase {
  DType dtype;
  int block_size;
};

TEST_P(AttentionTest, PagedCausalGqaMatchesReference) {
  for (PagedCase pcase : {PagedCase{DType::kF32, 16}, PagedCase{DType::kBF16, 16},
                          PagedCase{DType::kF16, 5}}) {
    const int head_dim = 128, kv_heads = 2, heads = 8;
    PagedKvView cache;
    cache.dtype = pcase.dtype;
    cache.block_size = pcase.block_size;
    cache.num_kv_heads = kv_heads;
    cache.head_dim = head_dim;
    cache.num_blocks = 64;
    const int64_t elem = pcase.dtype == DType::kF32 ? 4 : 2;
    const int64_t slot_elems = kv_heads * head_dim;
    std::vector<uint8_t> kst(cache.num_blocks * cache.block_size * slot_elems * elem, 0),
        vst(kst.size(), 0), kref(kst.size(), 0), vref(kst.size(), 0);
    // Three sequences: a decode step (1 query over 37 keys), a prefill chunk (70 queries at
    // positions 30..99) and one with no new queries. Block tables use shuffled block ids.
    const std::vector<int32_t> kv_lens = {37, 100, 9}, q_counts = {1, 70, 0};
    std::vector<int32_t> ids(cache.num_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng_);
    std::vector<std::vector<int32_t>> tables(3);
    int next = 0;
    for (int s = 0; s < 3; ++s) {
      const int nb = (kv_lens[s] + cache.block_size - 1) / cache.block_size;
      for (int b = 0; b < nb; ++b) tables[s].push_back(ids[next++]);
    }
    // Write every sequence's keys and values through WriteKv (both paths), slot by position.
    for (int s = 0; s < 3; ++s) {
      const int n = kv_lens[s];
      const int64_t stride = slot_elems + 2;
      std::vector<float> k = testing::RandomFloats(rng_, n * stride, -2, 2);
      std::vector<float> v = testing::RandomFloats(rng_, n * stride);
      std::vector<int64_t> slots(n);
      for (int p = 0; p < n; ++p) {
        slots[p] = int64_t{tables[s][p / cache.block_size]} * cache.block_size + p % cache.block_size;
      }
      cache.k = kst.data(), cache.v = vst.data();
      WriteKv(pc_.ctx, cache, k.data(), stride, v.data(), stride, slots.data(), n);
      cache.k = kref.data(), cache.v = vref.data();
      ref::WriteKv(cache, k.data(), stride, v.data(), stride, slots.data(), n);
    }
    ASSERT_EQ(kst, kref) << "WriteKv must store the reference's bits";
    ASSERT_EQ(vst, vref);
    cache.k = kst.data(), cache.v = vst.data();

    const int64_t total_q = 71;
    const int64_t qs = heads * head_dim;
    std::vector<float> q = testing::RandomFloats(rng_, total_q * qs, -2, 2);
    std::vector<float> out(total_q * qs, -9.0f), want(out.size(), -9.0f);
    const std::vector<int64_t> q_starts = {0, 1, 71};
    std::vector<const int32_t*> table_ptrs = {tables[0].data(), tables[1].data(),
                                              tables[2].data()};
    PagedAttentionArgs a;
    a.q = q.data();
    a.q_stride = a.out_stride = qs;
    a.num_heads = heads;
    a.scale = 1.0f / std::sqrt(128.0f);
    a.num_seqs = 3;
    a.q_starts = q_starts.data();
    a.q_counts = q_counts.data();
    a.kv_lens = kv_lens.data();
    a.block_tables = table_ptrs.data();
    a.out = out.data();
    PagedAttention(pc_.ctx, cache, a);
    a.out = want.data();
    ref::PagedAttention(cache, a);
    // Tolerance from the stored (rounded) keys and values as f32.
    for (int s = 0; s < 2; ++s) {
      for (int i = 0; i < q_counts[s]; ++i) {
        const int64_t row = q_starts[s] + i;
        const int pos = kv_lens[s] - q_counts[s] + i;
        for (int h = 0; h < heads; ++h) {
          std::vector<std::vector<float>> kf(pos + 1, std::vector<float>(head_dim)), vf = kf;
          std::vector<const float*> keys, values;
          for (int p = 0; p <= pos; ++p) {
            const int64_t slot = int64_t{tables[s][p / cache.block_size]} * cache.block_size +
                                 p % cache.block_size;
            const int64_t off = (slot * slot_elems + (h / 4) * head_dim) * elem;
            ocular::ref::DequantizeRow(pcase.dtype, kst.data() + off, kf[p].data(), head_dim);
            ocular::ref::DequantizeRow(pcase.dtype, vst.data() + off, vf[p].data(), head_dim);
            keys.push_back(kf[p].data());
            values.push_back(vf[p].data());
          }
          const double tol = Tolerance(q.data() + row * qs + h * head_dim, keys, values,
                                       head_dim, a.scale);
          for (int d = 0; d < head_dim; ++d) {
            const int64_t e = row * qs + h * head_dim + d;
            ASSERT_NEAR(out[e], want[e], tol)
                << DTypeName(pcase.dtype) << " seq " << s << " q " << i << " head " << h;
          }
        }
      }
    }
  }
}

// A paged cache filled through the reference WriteKv with random keys and values, and the
// block tables of sequences of the given lengths (block ids in a scattered order).
struct TestCache {
  PagedKvView view;
  std::vector<uint8_t> k, v;                 // [num_blocks, block_size, kv_heads, head_dim]
  std::vector<std::vector<int32_t>> tables;  // [seq] -> [ceil(kv_len / block_size)]
  std::vector<const int32_t*> table_ptrs;    // [seq]
  TestCache(std::mt19937& rng, DType dtype, int block_size, int kv_heads, int head_dim,
            const std::vector<int32_t>& kv_lens) {
    view.dtype = dtype, view.block_size = block_size;
    view.num_kv_heads = kv_heads, view.head_dim = head_dim;
    for (int32_t n : kv_lens) view.num_blocks += (n + block_size - 1) / block_size;
    const int64_t slot_elems = int64_t{kv_heads} * head_dim;
    const int64_t slots = view.num_blocks * block_size;
    k.assign(slots * slot_elems * (dtype == DType::kF32 ? 4 : 2), 0);
    v.assign(k.size(), 0);
    view.k = k.data(), view.v = v.data();
    std::vector<int32_t> ids(view.num_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    size_t next = 0;
    for (int32_t n : kv_lens) {
      tables.emplace_back();
      for (int b = 0; b < (n + block_size - 1) / block_size; ++b)
        tables.back().push_back(ids[next++]);
    }
    for (const auto& t : tables) table_ptrs.push_back(t.data());
    std::vector<float> kf = testing::RandomFloats(rng, slots * slot_elems, -2, 2);
    std::vector<float> vf = testing::RandomFloats(rng, slots * slot_elems);
    std::vector<int64_t> all(slots);
    std::iota(all.begin(), all.end(), 0);
    ref::WriteKv(view, kf.data(), slot_elems, vf.data(), slot_elems, all.data(), slots);
  }
  // Key or value (`values`) of sequence s at position p, kv head h, as f32: [head_dim].
  std::vector<float> Row(bool values, int s, int p, int h) const {
    const int64_t slot =
        int64_t{tables[s][p / view.block_size]} * view.block_size + p % view.block_size;
    const int64_t elem = view.dtype == DType::kF32 ? 4 : 2;
    const int64_t off = (slot * view.num_kv_heads + h) * view.head_dim * elem;
    std::vector<float> out(view.head_dim);
    ocular::ref::DequantizeRow(view.dtype, (values ? v : k).data() + off, out.data(),
                               view.head_dim);
    return out;
  }
};

// Arguments over the sequences of `cache` (their vectors must outlive the result), queries q
// ([rows, qs]) and outputs os floats apart (a.out left to the caller).
PagedAttentionArgs ArgsFor(const TestCache& cache, const float* q, int64_t qs, int64_t os,
                           int heads, int head_dim, const std::vector<int64_t>& q_starts,
                           const std::vector<int32_t>& q_counts,
                           const std::vector<int32_t>& kv_lens) {
  PagedAttentionArgs a;
  a.q = q, a.q_stride = qs, a.out_stride = os;
  a.num_heads = heads, a.scale = 1.0f / std::sqrt(float(head_dim));
  a.num_seqs = static_cast<int>(q_counts.size());
  a.q_starts = q_starts.data(), a.q_counts = q_counts.data(), a.kv_lens = kv_lens.data();
  a.block_tables = cache.table_ptrs.data();
  return a;
}

// Prefill-chunk shapes on every path: q_count 1, 5, 63, 130 and 300 with kv_len == q_count
// (a whole prompt) and kv_len > q_count (a cached prefix), plus a decode row, all in one call;
// f32 and bf16 caches, block sizes 16 and 7, head_dim 72 (a 16-dim rest after the 64-dim P V
// tile). Each output against the reference within the bound of Tolerance() over the row's
// visible keys (as stored).
TEST_P(AttentionTest, PagedCausalPrefillShapesMatchReference) {
  const std::vector<int32_t> q_counts = {1, 5, 63, 130, 300, 1, 5, 63, 130, 300};
  const std::vector<int32_t> kv_lens = {1, 5, 63, 130, 300, 50, 77, 200, 131, 333};
  const int heads = 4, kv_heads = 2, head_dim = 72, group = heads / kv_heads;
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    for (int block_size : {16, 7}) {
      TestCache cache(rng_, dtype, block_size, kv_heads, head_dim, kv_lens);
      std::vector<int64_t> q_starts;
      int64_t total_q = 0;
      for (int32_t n : q_counts) q_starts.push_back(std::exchange(total_q, total_q + n));
      const int64_t qs = heads * head_dim + 3, os = heads * head_dim + 1;
      std::vector<float> q = testing::RandomFloats(rng_, total_q * qs, -2, 2);
      std::vector<float> out(total_q * os, -9.0f), want(out.size(), -9.0f);
      PagedAttentionArgs a =
          ArgsFor(cache, q.data(), qs, os, heads, head_dim, q_starts, q_counts, kv_lens);
      a.out = out.data();
      PagedAttention(pc_.ctx, cache.view, a);
      a.out = want.data();
      ref::PagedAttention(cache.view, a);
      for (int s = 0; s < a.num_seqs; ++s) {
        for (int h = 0; h < kv_heads; ++h) {
          std::vector<std::vector<float>> keys, values;  // [kv_len][head_dim] f32 as stored
          for (int p = 0; p < kv_lens[s]; ++p) {
            keys.push_back(cache.Row(false, s, p, h));
            values.push_back(cache.Row(true, s, p, h));
          }
          std::vector<const float*> kp, vp;
          for (int i = 0; i < q_counts[s]; ++i) {
            const int pos = kv_lens[s] - q_counts[s] + i;
            while (static_cast<int>(kp.size()) <= pos) {
              kp.push_back(keys[kp.size()].data());
              vp.push_back(values[vp.size()].data());
            }
            for (int head = h * group; head < (h + 1) * group; ++head) {
              const int64_t row = q_starts[s] + i;
              const double tol =
                  Tolerance(q.data() + row * qs + head * head_dim, kp, vp, head_dim, a.scale);
              for (int d = 0; d < head_dim; ++d) {
                const int64_t e = row * os + head * head_dim + d;
                ASSERT_NEAR(out[e], want[e], tol) << DTypeName(dtype) << " block " << block_size
                                                  << " seq " << s << " q " << i << " head " << head;
              }
              ASSERT_EQ(out[row * os + heads * head_dim], -9.0f);  // padding untouched
            }
          }
        }
      }
    }
  }
}

// Decode rows (one query token per sequence) over context lengths around 16-key multiples,
// 1 / 2 / 4 / 8 query heads per kv head, head_dim 128, 64 and 72, block sizes 16 and 7, f32
// and bf16 caches: against the reference within Tolerance(), and bit for bit the same when
// each sequence is attended alone.
TEST_P(AttentionTest, PagedDecodeRowsMatchReferenceAndDoNotDependOnTheBatch) {
  // 1025 keys: 17 chunks, so with 4 or more heads the chunks' outputs are combined on the
  // pool (paged_decode.cc), alone and in the batch.
  const std::vector<int32_t> kv_lens = {1, 15, 16, 17, 33, 200, 509, 1025};
  const std::vector<int32_t> q_counts(kv_lens.size(), 1);
  const int kv_heads = 2;
  for (int group : {1, 2, 4, 8}) {
    for (int head_dim : {128, 64, 72}) {
      for (DType dtype : {DType::kF32, DType::kBF16}) {
        for (int block_size : {16, 7}) {
          SCOPED_TRACE(::testing::Message() << "group " << group << " head_dim " << head_dim
                                            << " " << DTypeName(dtype) << " block " << block_size);
          const int heads = kv_heads * group;
          TestCache cache(rng_, dtype, block_size, kv_heads, head_dim, kv_lens);
          const int n = static_cast<int>(kv_lens.size());
          std::vector<int64_t> q_starts(n);
          std::iota(q_starts.begin(), q_starts.end(), 0);
          const int64_t qs = heads * head_dim + 5, os = heads * head_dim + 1;
          std::vector<float> q = testing::RandomFloats(rng_, n * qs, -2, 2);
          std::vector<float> out(n * os, -9.0f), want(out.size(), -9.0f), alone(out.size(), -9.0f);
          PagedAttentionArgs a =
              ArgsFor(cache, q.data(), qs, os, heads, head_dim, q_starts, q_counts, kv_lens);
          a.out = out.data();
          PagedAttention(pc_.ctx, cache.view, a);
          a.out = want.data();
          ref::PagedAttention(cache.view, a);
          for (int s = 0; s < n; ++s) {
            PagedAttentionArgs one = a;
            one.num_seqs = 1;
            one.q_starts = &q_starts[s], one.q_counts = &q_counts[s], one.kv_lens = &kv_lens[s];
            one.block_tables = &cache.table_ptrs[s];
            one.out = alone.data();
            PagedAttention(pc_.ctx, cache.view, one);
          }
          for (int s = 0; s < n; ++s) {
            for (int h = 0; h < kv_heads; ++h) {
              std::vector<std::vector<float>> keys, values;  // as stored
              std::vector<const float*> kp, vp;
              for (int p = 0; p < kv_lens[s]; ++p) {
                keys.push_back(cache.Row(false, s, p, h));
                values.push_back(cache.Row(true, s, p, h));
              }
              for (int p = 0; p < kv_lens[s]; ++p) {
                kp.push_back(keys[p].data());
                vp.push_back(values[p].data());
              }
              for (int head = h * group; head < (h + 1) * group; ++head) {
                const double tol =
                    Tolerance(q.data() + s * qs + head * head_dim, kp, vp, head_dim, a.scale);
                for (int d = 0; d < head_dim; ++d) {
                  const int64_t e = s * os + head * head_dim + d;
                  ASSERT_NEAR(out[e], want[e], tol) << "seq " << s << " head " << head;
                  ASSERT_EQ(out[e], alone[e]) << "seq " << s << " head " << head;
                }
              }
            }
            ASSERT_EQ(out[s * os + heads * head_dim], -9.0f);  // padding untouched
          }
        }
      }
    }
  }
}

// Decode rows over a bf16 or f16 cache (read in place where the ISA has the half-precision
// kernels) give exactly what an f32 cache holding the same values widened gives, for groups
// of 1, 2 and 4 query heads per kv head (read slot by slot where the ISA has the slot kernels,
// paged_decode.h; otherwise dot products for 1 and 2, the transposed method for 4).
TEST_P(AttentionTest, PagedDecodeOnAHalfCacheEqualsItsWidenedCopy) {
  const std::vector<int32_t> kv_lens = {1, 17, 64, 65, 300};
  const std::vector<int32_t> q_counts(kv_lens.size(), 1);
  const int kv_heads = 2;
  for (DType dtype : {DType::kBF16, DType::kF16}) {
    for (int group : {1, 2, 4}) {
      for (int head_dim : {128, 72}) {
        SCOPED_TRACE(::testing::Message() << DTypeName(dtype) << " group " << group
                                          << " head_dim " << head_dim);
        const int heads = kv_heads * group;
        TestCache half(rng_, dtype, 16, kv_heads, head_dim, kv_lens);
        // The same slots widened to f32, under the same block tables.
        PagedKvView wide = half.view;
        wide.dtype = DType::kF32;
        const int64_t elems = static_cast<int64_t>(half.k.size()) / 2;
        std::vector<float> wk(elems), wv(elems);
        ocular::ref::DequantizeRow(dtype, half.k.data(), wk.data(), elems);
        ocular::ref::DequantizeRow(dtype, half.v.data(), wv.data(), elems);
        wide.k = wk.data(), wide.v = wv.data();
        const int n = static_cast<int>(kv_lens.size());
        std::vector<int64_t> q_starts(n);
        std::iota(q_starts.begin(), q_starts.end(), 0);
        const int64_t qs = heads * head_dim, os = heads * head_dim;
        std::vector<float> q = testing::RandomFloats(rng_, n * qs, -2, 2);
        std::vector<float> got(n * os, -9.0f), want(got.size(), -9.0f);
        PagedAttentionArgs a =
            ArgsFor(half, q.data(), qs, os, heads, head_dim, q_starts, q_counts, kv_lens);
        a.out = got.data();
        PagedAttention(pc_.ctx, half.view, a);
        a.out = want.data();
        PagedAttention(pc_.ctx, wide, a);
        for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "value " << i;
      }
    }
  }
}

// Chunked prefill: a prompt's rows come out bit for bit the same whether it is attended in one
// call or in chunks of other sizes (17 and 2 tokens included: a chunk's tail rows), each chunk
// batched with another sequence's chunk and a decode row, on every path and cache dtype.
TEST_P(AttentionTest, PagedPrefillChunksEqualOneCall) {
  const int heads = 4, kv_heads = 2, head_dim = 128, n = 300;
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16}) {
    // Sequence 0: the prompt; 1: another prompt (40 tokens); 2: a decode stream (90 cached).
    TestCache cache(rng_, dtype, 16, kv_heads, head_dim, {n, 40, 90});
    const int64_t w = heads * head_dim;
    std::vector<float> q = testing::RandomFloats(rng_, (n + 40 + 1) * w, -2, 2);  // [341, 4, 128]
    // One call: the whole prompt (rows 0..299), then the others.
    auto attend = [&](int32_t p0, int32_t p1, std::vector<float>& out) {
      const std::vector<int32_t> q_counts = {p1 - p0, 40, 1}, kv_lens = {p1, 40, 90};
      const std::vector<int64_t> q_starts = {p0, n, n + 40};
      std::vector<float> o((n + 41) * w, -9.0f);
      PagedAttentionArgs a;
      a.q = q.data(), a.out = o.data(), a.q_stride = a.out_stride = w;
      a.num_heads = heads, a.scale = 1.0f / std::sqrt(float(head_dim));
      a.num_seqs = 3, a.q_starts = q_starts.data(), a.q_counts = q_counts.data();
      a.kv_lens = kv_lens.data(), a.block_tables = cache.table_ptrs.data();
      PagedAttention(pc_.ctx, cache.view, a);
      std::copy(o.begin() + p0 * w, o.begin() + p1 * w, out.begin() + p0 * w);
    };
    std::vector<float> whole(n * w, -7.0f), chunked(n * w, -5.0f);
    attend(0, n, whole);
    for (const auto& [p0, p1] : std::vector<std::pair<int32_t, int32_t>>{
             {0, 17}, {17, 19}, {19, 150}, {150, 213}, {213, n}}) {
      attend(p0, p1, chunked);
    }
    EXPECT_EQ(chunked, whole) << DTypeName(dtype);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, AttentionTest, ::testing::ValuesIn(testing::AvailableIsas()),
                         testing::IsaParamName);

}  // namespace
}  // namespace ocular::kernels
