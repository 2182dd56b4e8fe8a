// Window planning for long-video analysis (issue 9): pure arithmetic, no decoding.
//
// The whole source is sampled on ONE global grid (sample k at t_k = k / sample_fps, source frame
// round_half_even(t_k * source_fps), clamped to the last frame), and windows are runs of
// consecutive samples whose start and length are even. Two windows that overlap therefore
// share whole 2-frame temporal groups, frame for frame, and each such group gets the same
// media id in both windows, so the engine's feature cache encodes it once.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/status.h"

namespace ocular::analysis {

// Window and stride in seconds or in sampled frames (exactly one of each pair).
struct WindowSpec {
  std::optional<double> window_seconds;
  std::optional<int64_t> window_frames;
  std::optional<double> stride_seconds;
  std::optional<int64_t> stride_frames;
  int64_t max_windows = 64;
  double sample_fps = 2.0;  // the model's sampling rate (Qwen3-VL: 2 frames per second)
};

struct SourceInfo {
  int64_t total_frames = 0;
  double fps = 0;  // source frames per second (> 0)
};

struct Window {
  int index = 0;
  int64_t first_sample = 0;              // global sample number of the first frame
  std::vector<int64_t> frame_indices;    // [2g] source frame indices (even count, ascending)
  double start_s = 0;                    // [start_s, end_s) of the source timeline
  double end_s = 0;
};

struct WindowPlan {
  std::vector<Window> windows;  // time order
  int64_t window_samples = 0;   // frames per full window (even)
  int64_t stride_samples = 0;   // frames between window starts (even; before spreading)
  int64_t total_samples = 0;
  double duration_s = 0;
  bool spread = false;          // more windows were needed than max_windows: starts spread out
};

// Errors: InvalidArgument naming the field (window_seconds, stride_frames, ...) when a value
// is missing, non-positive or not finite; OutOfRange when max_windows < 1.
Result<WindowPlan> PlanWindows(const SourceInfo& source, const WindowSpec& spec);

}  // namespace ocular::analysis
