// Normalisation and patch flattening to Qwen3-VL pixel_values (spec §5.4, golden README §3).
//
// pixel_values: [gt * gh * gw][C * T * P * P] = [num_patches][1536], f32, with rows ordered
// (t_group, block_row, block_col, dy, dx) -- patch (row, col) = (2*block_row+dy,
// 2*block_col+dx) -- and columns c*512 + frame_in_pair*256 + py*16 + px.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "base/aligned_buffer.h"
#include "media/image.h"

namespace ocular {
class ThreadPool;
}

namespace ocular::media {

constexpr int32_t kPatchSize = 16;
constexpr int32_t kTemporalPatch = 2;
constexpr int32_t kMergeSize = 2;
constexpr int32_t kPatchDim = 3 * kTemporalPatch * kPatchSize * kPatchSize;  // 1536

// u8 -> normalised f32 lookup tables ([256], f32).
enum class Normalization : uint8_t {
  // Image processor (PIL/numpy path): float32(float64(u) * (1/255)), then (x - 0.5f) / 0.5f.
  kSlowRescaleThenNormalize = 1,
  // Video / torchvision processors: (float(u) - 127.5f) / 127.5f.
  kFusedTorchvision = 2,
};
std::array<float, 256> NormalizationTable(Normalization kind);

struct PixelValues {
  AlignedBuffer data;  // [num_patches][1536], f32
  std::array<int32_t, 3> grid_thw{};
  int64_t num_patches() const { return int64_t{grid_thw[0]} * grid_thw[1] * grid_thw[2]; }
  const float* values() const { return data.as<float>(); }
};

// `frames`: equally sized images (sides multiples of 32); the count is padded to a multiple
// of 2 by repeating the last frame. Returns pixel_values and grid_thw.
PixelValues Patchify(std::span<const RgbImage* const> frames, Normalization kind,
                     ThreadPool* pool = nullptr);

}  // namespace ocular::media
