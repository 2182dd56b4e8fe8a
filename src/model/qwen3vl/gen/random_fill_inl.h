// Template body of StreamTensor (random_fill.h).
#pragma once

#include <algorithm>

#include "base/check.h"
#include "model/qwen3vl/gen/random_fill.h"

namespace ocular::qwen3vl::gen {

template <typename Sink>
Status StreamTensor(ThreadPool& pool, uint64_t seed, uint64_t tensor_index, const FillRule& rule,
                    uint64_t num_elements, int64_t row_len, DType dtype, uint64_t chunk_bytes,
                    Sink&& sink) {
  CHECK(row_len > 0 && num_elements % static_cast<uint64_t>(row_len) == 0);
  const DTypeInfo& info = GetDTypeInfo(dtype);
  const uint64_t row_bytes = static_cast<uint64_t>(row_len) / info.block_elems * info.block_bytes;
  const int64_t total_rows = static_cast<int64_t>(num_elements / static_cast<uint64_t>(row_len));
  const int64_t chunk_rows =
      std::max<int64_t>(1, static_cast<int64_t>(chunk_bytes / (static_cast<uint64_t>(row_len) * 4)));
  std::vector<float> values(static_cast<size_t>(std::min(chunk_rows, total_rows) * row_len));
  std::vector<uint8_t> bytes(static_cast<size_t>(std::min(chunk_rows, total_rows)) * row_bytes);
  for (int64_t row0 = 0; row0 < total_rows; row0 += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, total_rows - row0);
    // Parallel over rows; each task fills and converts its own rows.
    pool.ParallelRange(rows, std::max<int64_t>(1, 65536 / row_len), [&](int64_t b, int64_t e, int) {
      float* v = values.data() + b * row_len;
      FillF32(seed, tensor_index, rule, static_cast<uint64_t>((row0 + b) * row_len),
              std::span<float>(v, static_cast<size_t>((e - b) * row_len)));
      ConvertRows(dtype, v, e - b, row_len, bytes.data() + static_cast<uint64_t>(b) * row_bytes);
    });
    RETURN_IF_ERROR(sink(std::span<const uint8_t>(bytes.data(), static_cast<size_t>(rows) * row_bytes)));
  }
  return OkStatus();
}

}  // namespace ocular::qwen3vl::gen
