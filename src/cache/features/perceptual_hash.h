// A DCT-based 64-bit perceptual hash (pHash) for near-duplicate image matching:
//   1. luma Y = 0.299 R + 0.587 G + 0.114 B (BT.601) per pixel;
//   2. area-average resize to 32x32 (each output cell is the exact coverage-weighted mean of the
//      source pixels under it, for any source size);
//   3. 2-D DCT-II of the 32x32 image, keeping rows/columns 1..8 (the lowest 8x8 frequencies
//      without the DC row and column, which only carry overall brightness and 1-D ramps);
//   4. bit (u - 1) * 8 + (v - 1) is set when coefficient (u, v) is above the median of the 64.
// Re-encoding (JPEG), small rescaling and uniform brightness changes move few bits; different
// layouts move about half. Thresholds are calibrated in perceptual_hash_test.cc.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace ocular::features {

// A non-owning view of packed RGB8 pixels: row y starts at pixels + y * stride_bytes.
struct Rgb8View {
  const uint8_t* pixels = nullptr;
  int64_t width = 0;
  int64_t height = 0;
  int64_t stride_bytes = 0;
};

// InvalidArgument for an empty image, a null pointer or stride_bytes < 3 * width.
Result<uint64_t> PerceptualHash(const Rgb8View& image);

}  // namespace ocular::features
