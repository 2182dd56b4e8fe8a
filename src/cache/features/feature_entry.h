// What the feature cache stores for one image: the vision encoder's outputs, immutable once
// built and shared by every request that uses them (std::shared_ptr<const FeatureEntry>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/aligned_buffer.h"

namespace ocular::features {

// The image's patch grid (temporal, height, width) before the 2x2 merge; equal grids mean
// equal token counts and equal M-RoPE layouts.
struct GridThw {
  int64_t t = 0;
  int64_t h = 0;
  int64_t w = 0;
  friend bool operator==(const GridThw&, const GridThw&) = default;
};

// An owning 2-D f32 array: [rows, cols], f32, row-major, 64-byte aligned.
struct FeatureArray {
  int64_t rows = 0;
  int64_t cols = 0;
  AlignedBuffer data;

  // In huge pages when large (AlignedBuffer::Large).
  static FeatureArray Zeros(int64_t rows, int64_t cols);
  float* floats() { return data.as<float>(); }
  const float* floats() const { return data.as<float>(); }
  size_t byte_size() const { return data.size(); }
};

struct FeatureEntry {
  FeatureArray embeddings;              // [num_tokens, hidden], f32: merger output
  std::vector<FeatureArray> deepstack;  // [num_levels] x [num_tokens, hidden], f32
  GridThw grid;
  int64_t num_tokens = 0;
  int64_t encode_ns = 0;  // what encoding cost; a hit saves this much encoder time

  // Payload plus bookkeeping bytes: what the cache's byte budget counts.
  size_t ByteSize() const;
};

}  // namespace ocular::features
