// Qwen3-VL video frame sampling and timestamps (HF Qwen3VLVideoProcessor / Qwen3VLProcessor;
// spec §5.5, golden README §3). Pure arithmetic, no decoding.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"

namespace ocular::media {

struct VideoSamplingConfig {
  double fps = 2.0;        // target sampling rate
  int64_t min_frames = 4;
  int64_t max_frames = 768;
  // Whole-clip pixel budget for video smart_resize (video_preprocessor_config `size`).
  int64_t min_pixels = 4'096;
  int64_t max_pixels = 25'165'824;
};

// If the source fps is unknown (<= 0 or not finite) HF assumes 24.
constexpr double kDefaultVideoFps = 24.0;

// n = int(total / source_fps * fps), clamped to [min_frames, max_frames] and <= total;
// indices = round_half_even(numpy.linspace(0, total - 1, n)).
Result<std::vector<int64_t>> SampleFrameIndices(int64_t total_frames, double source_fps,
                                                const VideoSamplingConfig& config);

// One timestamp (seconds) per temporal group of 2: indices padded to even with the last one,
// t = idx / source_fps, value = (t[2g] + t[2g + 1]) / 2.
std::vector<double> GroupTimestamps(const std::vector<int64_t>& indices, double source_fps);

}  // namespace ocular::media
