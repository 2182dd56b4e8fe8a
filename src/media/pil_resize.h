// Pillow 9.4's fixed-point bicubic resampler (Resample.c), reimplemented byte-identically:
// separable, horizontal pass first into a uint8 temporary that covers only the source rows the
// vertical pass needs, then the vertical pass. Coefficients: kernel a = -0.5, support 2 scaled
// by the downscale factor, normalised in float64, converted with round-away-from-zero to
// 22-bit fixed point; accumulation starts at 2^21 in int32; clip8 at the end of each pass.
#pragma once

#include <cstdint>
#include <vector>

#include "media/image.h"

namespace ocular {
class ThreadPool;
}

namespace ocular::media {

// Fixed-point taps for one axis: output i reads `count[i]` input samples from `first[i]`
// with weights k[i * ksize + j] (22-bit fixed point).
struct FixedTaps {
  int32_t ksize = 0;
  std::vector<int32_t> first;  // [out]
  std::vector<int32_t> count;  // [out]
  std::vector<int32_t> k;      // [out][ksize]
};

FixedTaps PilBicubicTaps(int32_t in_size, int32_t out_size);

// Resizes to (out_width, out_height); same size returns a copy. `pool` may be null.
RgbImage PilBicubicResize(const RgbImage& in, int32_t out_width, int32_t out_height,
                          ThreadPool* pool = nullptr);

}  // namespace ocular::media
