// KvStorage: the tensors of a paged KV cache, one K and one V pool per decoder layer.
// Bookkeeping (which request owns which block) lives in cache/kv; this only owns memory.
#pragma once

#include <cstdint>
#include <vector>

#include "base/aligned_buffer.h"
#include "kernels/kernels.h"
#include "tensor/dtype.h"

namespace ocular::qwen3vl {

class KvStorage {
 public:
  // Each layer: k, v [num_blocks, block_size, kv_heads, head_dim] of `dtype` (f32/bf16/f16).
  KvStorage(int64_t num_layers, int64_t num_blocks, int block_size, int kv_heads, int head_dim,
            DType dtype);

  // The element types a cache holds: f32 (exact), bf16, f16.
  static bool HoldsDtype(DType dtype) {
    return dtype == DType::kF32 || dtype == DType::kBF16 || dtype == DType::kF16;
  }

  // Bytes one token occupies across all layers (K and V).
  static int64_t BytesPerToken(int64_t num_layers, int kv_heads, int head_dim, DType dtype);

  const std::vector<kernels::PagedKvView>& views() const { return views_; }
  int64_t num_blocks() const { return num_blocks_; }
  int block_size() const { return block_size_; }
  int64_t capacity_tokens() const { return num_blocks_ * block_size_; }
  int64_t bytes() const;

 private:
  int64_t num_blocks_;
  int block_size_;
  std::vector<AlignedBuffer> buffers_;  // 2 per layer
  std::vector<kernels::PagedKvView> views_;
};

}  // namespace ocular::qwen3vl
