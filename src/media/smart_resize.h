// smart_resize for Qwen3-VL (spec §5.2 images, §5.5 videos; golden README §3): the resized
// size is a multiple of `factor` (patch 16 x merge 2 = 32) with a pixel budget. float64 math,
// Python round() = half-to-even on the exact quotient.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ocular::media {

struct ResizedSize {
  int32_t height = 0;
  int32_t width = 0;
};

// HF's error text for max/min > 200, e.g. "absolute aspect ratio must be smaller than 200,
// got 201.0" (the ratio printed like Python's repr of a float).
std::string AspectRatioErrorMessage(int64_t height, int64_t width);

// Image smart_resize. InvalidArgument for a zero side or an aspect ratio above 200.
Result<ResizedSize> SmartResizeImage(int64_t height, int64_t width, int64_t min_pixels,
                                     int64_t max_pixels, int64_t factor = 32);

// Video smart_resize: the budget covers t_bar * h * w for the whole sampled clip, t_bar =
// round(num_frames / temporal_factor) * temporal_factor. Sides below `factor` or fewer
// frames than temporal_factor are errors (as in HF).
Result<ResizedSize> SmartResizeVideo(int64_t num_frames, int64_t height, int64_t width,
                                     int64_t min_pixels, int64_t max_pixels,
                                     int64_t temporal_factor = 2, int64_t factor = 32);

// Optional server cap on the resized short side (0 = off). Returns the capped size (both
// sides scaled by the same ratio, multiples of `factor`, at least `factor`) and sets
// *applied when it changed anything.
ResizedSize CapShortSide(ResizedSize size, int64_t src_height, int64_t src_width,
                         int64_t short_side_cap, bool* applied, int64_t factor = 32);

}  // namespace ocular::media
