#include "analysis/window_plan.h"

#include <algorithm>
#include <cmath>

namespace ocular::analysis {
namespace {

// A positive length in samples from seconds or frames, rounded up to even (whole groups).
Result<int64_t> SamplesOf(const std::optional<double>& seconds, const std::optional<int64_t>& frames,
                          double sample_fps, const char* seconds_name, const char* frames_name) {
  if (seconds.has_value() == frames.has_value()) {
    return InvalidArgument(std::string(seconds_name) + ": give exactly one of " + seconds_name + " and " +
                           frames_name);
  }
  int64_t n = 0;
  if (seconds) {
    if (!std::isfinite(*seconds) || *seconds <= 0 || *seconds > 1e7) {
      return InvalidArgument(std::string(seconds_name) + ": must be a positive number of seconds");
    }
    n = static_cast<int64_t>(std::nearbyint(*seconds * sample_fps));
  } else {
    if (*frames <= 0 || *frames > (int64_t{1} << 30)) {
      return InvalidArgument(std::string(frames_name) + ": must be a positive number of frames");
    }
    n = *frames;
  }
  n = std::max<int64_t>(n, 2);
  return n + (n % 2);
}

}  // namespace

Result<WindowPlan> PlanWindows(const SourceInfo& source, const WindowSpec& spec) {
  if (source.total_frames <= 0) return InvalidArgument("video has no frames");
  if (!(source.fps > 0) || !std::isfinite(source.fps)) return InvalidArgument("video frame rate unknown");
  if (!(spec.sample_fps > 0) || !std::isfinite(spec.sample_fps)) {
    return InvalidArgument("sample_fps: must be positive");
  }
  if (spec.max_windows < 1) return OutOfRange("max_windows: must be >= 1");
  WindowPlan plan;
  ASSIGN_OR_RETURN(plan.window_samples, SamplesOf(spec.window_seconds, spec.window_frames, spec.sample_fps,
                                                  "window_seconds", "window_frames"));
  ASSIGN_OR_RETURN(plan.stride_samples, SamplesOf(spec.stride_seconds, spec.stride_frames, spec.sample_fps,
                                                  "stride_seconds", "stride_frames"));
  plan.duration_s = static_cast<double>(source.total_frames) / source.fps;
  // Samples at t_k = k / sample_fps for every t_k inside the clip (the 1e-9 absorbs rounding
  // of exact multiples, e.g. 10 s at 2 fps is 20 samples, not 21).
  plan.total_samples =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(plan.duration_s * spec.sample_fps - 1e-9)));
  const int64_t n = plan.total_samples;

  std::vector<int64_t> starts;
  for (int64_t s = 0; s < n; s += plan.stride_samples) {
    starts.push_back(s);
    if (s + plan.window_samples >= n) break;
  }
  if (static_cast<int64_t>(starts.size()) > spec.max_windows) {
    // Too many windows: keep max_windows of them, spread evenly over the same span (group
    // aligned), so the whole clip is still covered end to end, just more sparsely.
    const int64_t last = starts.back();
    std::vector<int64_t> spread;
    for (int64_t i = 0; i < spec.max_windows; ++i) {
      int64_t s = spec.max_windows == 1
                      ? 0
                      : static_cast<int64_t>(std::nearbyint(double(i) * double(last) / double(spec.max_windows - 1)));
      s -= s % 2;
      if (spread.empty() || s > spread.back()) spread.push_back(s);
    }
    starts = std::move(spread);
    plan.spread = true;
  }
  auto source_index = [&](int64_t k) {
    const double f = std::nearbyint(static_cast<double>(k) * source.fps / spec.sample_fps);
    return std::min<int64_t>(source.total_frames - 1, static_cast<int64_t>(f));
  };
  for (size_t i = 0; i < starts.size(); ++i) {
    Window w;
    w.index = static_cast<int>(i);
    w.first_sample = starts[i];
    const int64_t end = std::min(starts[i] + plan.window_samples, n);
    for (int64_t k = starts[i]; k < end; ++k) w.frame_indices.push_back(source_index(k));
    // An odd tail is padded with its last frame, as the model's processor pads videos.
    if (w.frame_indices.size() % 2 != 0) w.frame_indices.push_back(w.frame_indices.back());
    w.start_s = static_cast<double>(starts[i]) / spec.sample_fps;
    w.end_s = std::min(plan.duration_s, static_cast<double>(end) / spec.sample_fps);
    plan.windows.push_back(std::move(w));
  }
  return plan;
}

}  // namespace ocular::analysis
