#include "cache/kv/kv_capacity.h"

#include <limits>

#include "base/checked_math.h"

namespace ocular::kv {

Result<uint64_t> KvBytesPerToken(uint64_t num_layers, uint64_t num_kv_heads, uint64_t head_dim,
                                 uint64_t dtype_bytes) {
  if (num_layers == 0 || num_kv_heads == 0 || head_dim == 0 || dtype_bytes == 0) {
    return InvalidArgument("KV cache geometry has a zero dimension");
  }
  uint64_t bytes = 0;
  if (!CheckedProduct({2, num_layers, num_kv_heads, head_dim, dtype_bytes}, &bytes)) {
    return OutOfRange("KV cache bytes per token overflow");
  }
  return bytes;
}

Result<int32_t> KvNumBlocksForBudget(uint64_t budget_bytes, uint64_t bytes_per_token,
                                     int32_t block_size) {
  if (bytes_per_token == 0 || block_size <= 0) {
    return InvalidArgument("KV cache block geometry must be positive");
  }
  uint64_t bytes_per_block = 0;
  if (!CheckedMul(bytes_per_token, static_cast<uint64_t>(block_size), &bytes_per_block)) {
    return OutOfRange("KV cache block size in bytes overflows");
  }
  const uint64_t num_blocks = budget_bytes / bytes_per_block;
  if (num_blocks == 0) {
    return OutOfRange("KV cache budget is smaller than one block");
  }
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
  return static_cast<int32_t>(num_blocks < kMax ? num_blocks : kMax);
}

}  // namespace ocular::kv
