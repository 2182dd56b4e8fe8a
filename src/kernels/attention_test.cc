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

INSTANTIATE_TEST_SUITE_P(Paths, AttentionTest, ::testing::ValuesIn(testing::AvailableIsas()),
                         testing::IsaParamName);

}  // namespace
}  // namespace ocular::kernels
