#include "model/qwen3vl/kv_storage.h"

namespace ocular::qwen3vl {

int64_t KvStorage::BytesPerToken(int64_t num_layers, int kv_heads, int head_dim, DType dtype) {
  return 2 * num_layers * kv_heads * head_dim *
         static_cast<int64_t>(GetDTypeInfo(dtype).block_bytes);
}

KvStorage::KvStorage(int64_t num_layers, int64_t num_blocks, int block_size, int kv_heads,
                     int head_dim, DType dtype)
    : num_blocks_(num_blocks), block_size_(block_size) {
  CHECK(HoldsDtype(dtype));
  CHECK_GT(num_blocks, 0);
  CHECK_GT(block_size, 0);
  const int64_t bytes = num_blocks * block_size * kv_heads * head_dim *
                        static_cast<int64_t>(GetDTypeInfo(dtype).block_bytes);
  // In huge pages (AlignedBuffer::Large): a decode token's K (or V) row of one layer is
  // 4 KiB in f32 for the 2B model, so with 4 KiB pages every token written faulted in a fresh
  // page per layer and per K and V (56 per token) until the pool had been used once, at
  // ~20 us each on a virtual machine (a 900-token prompt: ~50,000 faults, ~1 s).
  for (int64_t l = 0; l < num_layers; ++l) {
    buffers_.push_back(AlignedBuffer::Large(static_cast<size_t>(bytes)));
    buffers_.push_back(AlignedBuffer::Large(static_cast<size_t>(bytes)));
    kernels::PagedKvView v;
    v.dtype = dtype;
    v.k = buffers_[buffers_.size() - 2].data();
    v.v = buffers_.back().data();
    v.num_blocks = num_blocks;
    v.block_size = block_size;
    v.num_kv_heads = kv_heads;
    v.head_dim = head_dim;
    views_.push_back(v);
  }
}

int64_t KvStorage::bytes() const {
  int64_t b = 0;
  for (const auto& buf : buffers_) b += static_cast<int64_t>(buf.size());
  return b;
}

}  // namespace ocular::qwen3vl
