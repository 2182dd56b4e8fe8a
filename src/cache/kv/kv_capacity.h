// Sizing the paged KV cache from a byte budget (`--kv-cache-bytes` or a fraction of free
// RAM). The caller turns the budget into a block count once at start-up and reports the
// capacity in tokens; the block pool never sees bytes.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace ocular::kv {

// Bytes of KV one token occupies across the whole model:
// 2 (K and V) * num_layers * num_kv_heads * head_dim * dtype_bytes.
// All factors must be > 0; overflow is an error (values come from a model config).
Result<uint64_t> KvBytesPerToken(uint64_t num_layers, uint64_t num_kv_heads, uint64_t head_dim,
                                 uint64_t dtype_bytes);

// Whole blocks of `block_size` tokens that fit in `budget_bytes`, capped at the largest
// block count the pool supports (INT32_MAX). Fails when not even one block fits.
Result<int32_t> KvNumBlocksForBudget(uint64_t budget_bytes, uint64_t bytes_per_token,
                                     int32_t block_size);

}  // namespace ocular::kv
