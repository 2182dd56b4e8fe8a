// Reference attention: per query, all scores, a double softmax and a double weighted sum.
#include <cmath>
#include <vector>

#include "base/check.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"

namespace ocular::kernels::ref {
namespace {

// out[d] = sum_j softmax(scale * q.k_j)_j v_j[d] over keys j in [0, num_keys).
// key(j) / value(j) return pointers to head_dim f32 values (converted by the caller).
template <typename KeyFn, typename ValueFn>
void AttendOne(const float* q, int head_dim, float scale, int64_t num_keys, KeyFn key,
               ValueFn value, float* out) {
  std::vector<double> scores(static_cast<size_t>(num_keys));
  double mx = -INFINITY;
  for (int64_t j = 0; j < num_keys; ++j) {
    const float* kj = key(j);
    double dot = 0.0;
    for (int d = 0; d < head_dim; ++d) dot += static_cast<double>(q[d]) * kj[d];
    scores[j] = dot * scale;
    mx = std::fmax(mx, scores[j]);
  }
  double sum = 0.0;
  for (int64_t j = 0; j < num_keys; ++j) {
    scores[j] = std::exp(scores[j] - mx);
    sum += scores[j];
  }
  std::vector<double> acc(static_cast<size_t>(head_dim), 0.0);
  for (int64_t j = 0; j < num_keys; ++j) {
    const float* vj = value(j);
    for (int d = 0; d < head_dim; ++d) acc[d] += scores[j] * vj[d];
  }
  for (int d = 0; d < head_dim; ++d) out[d] = static_cast<float>(acc[d] / sum);
}

// Reads head_dim values of the cache's dtype as f32.
void LoadCacheRow(DType dtype, const void* base, int64_t index, int head_dim, float* dst) {
  switch (dtype) {
    case DType::kF32: {
      const float* p = static_cast<const float*>(base) + index * head_dim;
      for (int d = 0; d < head_dim; ++d) dst[d] = p[d];
      return;
    }
    case DType::kBF16: {
      const uint16_t* p = static_cast<const uint16_t*>(base) + index * head_dim;
      for (int d = 0; d < head_dim; ++d) dst[d] = Bf16ToF32(p[d]);
      return;
    }
    case DType::kF16: {
      const uint16_t* p = static_cast<const uint16_t*>(base) + index * head_dim;
      for (int d = 0; d < head_dim; ++d) dst[d] = F16ToF32(p[d]);
      return;
    }
    default: CHECK(false) << "unsupported KV cache dtype";
  }
}

}  // namespace

void FullAttention(const FullAttentionArgs& a) {
  CHECK(a.num_heads > 0 && a.num_kv_heads > 0 && a.num_heads % a.num_kv_heads == 0);
  CHECK_EQ(a.cu_seqlens[0], 0);
  const int group = a.num_heads / a.num_kv_heads;
  for (int s = 0; s < a.num_segments; ++s) {
    const int64_t begin = a.cu_seqlens[s], end = a.cu_seqlens[s + 1];
    CHECK_LE(begin, end);
    for (int64_t t = begin; t < end; ++t) {
      for (int h = 0; h < a.num_heads; ++h) {
        const int kvh = h / group;
        AttendOne(
            a.q + t * a.q_stride + static_cast<int64_t>(h) * a.head_dim, a.head_dim, a.scale,
            end - begin,
            [&](int64_t j) {
              return a.k + (begin + j) * a.k_stride + static_cast<int64_t>(kvh) * a.head_dim;
            },
            [&](int64_t j) {
              return a.v + (begin + j) * a.v_stride + static_cast<int64_t>(kvh) * a.head_dim;
            },
            a.out + t * a.out_stride + static_cast<int64_t>(h) * a.head_dim);
      }
    }
  }
}

void WriteKv(const PagedKvView& c, const float* k, int64_t k_stride, const float* v,
             int64_t v_stride, const int64_t* slots, int64_t n) {
  const int64_t row = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  for (int64_t i = 0; i < n; ++i) {
    CHECK(slots[i] >= 0 && slots[i] < c.num_blocks * c.block_size) << "slot out of range";
    for (int64_t e = 0; e < row; ++e) {
      const int64_t dst = slots[i] * row + e;
      const float kv[2] = {k[i * k_stride + e], v[i * v_stride + e]};
      void* bases[2] = {c.k, c.v};
      for (int which = 0; which < 2; ++which) {
        switch (c.dtype) {
          case DType::kF32: static_cast<float*>(bases[which])[dst] = kv[which]; break;
          case DType::kBF16:
            static_cast<uint16_t*>(bases[which])[dst] = F32ToBf16(kv[which]);
            break;
          case DType::kF16:
            static_cast<uint16_t*>(bases[which])[dst] = F32ToF16(kv[which]);
            break;
          default: CHECK(false) << "unsupported KV cache dtype";
        }
      }
    }
  }
}

void PagedAttention(const PagedKvView& c, const PagedAttentionArgs& a) {
  CHECK(a.num_heads > 0 && c.num_kv_heads > 0 && a.num_heads % c.num_kv_heads == 0);
  const int group = a.num_heads / c.num_kv_heads;
  const int hd = c.head_dim;
  for (int s = 0; s < a.num_seqs; ++s) {
    const int32_t kv_len = a.kv_lens[s], nq = a.q_counts[s];
    CHECK(nq >= 0 && nq <= kv_len);
    // [kv_len, num_kv_heads, head_dim] f32: the sequence's cache gathered through its table.
    std::vector<float> keys(static_cast<size_t>(kv_len) * c.num_kv_heads * hd);
    std::vector<float> values(keys.size());
    for (int32_t p = 0; p < kv_len; ++p) {
      const int32_t block = a.block_tables[s][p / c.block_size];
      CHECK(block >= 0 && block < c.num_blocks) << "block id out of range";
      const int64_t slot = static_cast<int64_t>(block) * c.block_size + p % c.block_size;
      for (int h = 0; h < c.num_kv_heads; ++h) {
        const int64_t src = slot * c.num_kv_heads + h;
        const size_t dst = (static_cast<size_t>(p) * c.num_kv_heads + h) * hd;
        LoadCacheRow(c.dtype, c.k, src, hd, &keys[dst]);
        LoadCacheRow(c.dtype, c.v, src, hd, &values[dst]);
      }
    }
    for (int32_t i = 0; i < nq; ++i) {
      const int64_t row = a.q_starts[s] + i;
      const int64_t pos = kv_len - nq + i;
      for (int h = 0; h < a.num_heads; ++h) {
        const int kvh = h / group;
        auto at = [&](const std::vector<float>& buf, int64_t j) {
          return &buf[(static_cast<size_t>(j) * c.num_kv_heads + kvh) * hd];
        };
        AttendOne(
            a.q + row * a.q_stride + static_cast<int64_t>(h) * hd, hd, a.scale, pos + 1,
            [&](int64_t j) { return at(keys, j); }, [&](int64_t j) { return at(values, j); },
            a.out + row * a.out_stride + static_cast<int64_t>(h) * hd);
      }
    }
  }
}

}  // namespace ocular::kernels::ref
