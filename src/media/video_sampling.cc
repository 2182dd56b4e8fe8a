#include "media/video_sampling.h"

#include <algorithm>
#include <cmath>

namespace ocular::media {

Result<std::vector<int64_t>> SampleFrameIndices(int64_t total_frames, double source_fps,
                                                const VideoSamplingConfig& config) {
  if (total_frames <= 0) return InvalidArgument("video has no frames");
  if (!(source_fps > 0) || !std::isfinite(source_fps)) source_fps = kDefaultVideoFps;
  if (!(config.fps > 0) || !std::isfinite(config.fps)) return InvalidArgument("sampling fps must be positive");
  const double wanted = static_cast<double>(total_frames) / source_fps * config.fps;
  // int() truncates toward zero; cap before converting so huge values cannot overflow.
  int64_t n = wanted >= 9.0e15 ? int64_t{9'000'000'000'000'000} : static_cast<int64_t>(wanted);
  n = std::min({std::max(n, config.min_frames), config.max_frames, total_frames});
  if (n < 1) return InvalidArgument("no frames to sample");
  std::vector<int64_t> idx(n);
  if (n == 1) {
    idx[0] = 0;
    return idx;
  }
  // numpy.linspace: y[i] = i * step (start 0), last element set to stop exactly.
  const double stop = static_cast<double>(total_frames - 1);
  const double step = stop / static_cast<double>(n - 1);
  for (int64_t i = 0; i < n; ++i) {
    double y = (i == n - 1) ? stop : static_cast<double>(i) * step;
    idx[i] = static_cast<int64_t>(std::nearbyint(y));  // numpy round: half to even
  }
  return idx;
}

std::vector<double> GroupTimestamps(const std::vector<int64_t>& indices, double source_fps) {
  if (!(source_fps > 0) || !std::isfinite(source_fps)) source_fps = kDefaultVideoFps;
  std::vector<int64_t> idx = indices;
  while (!idx.empty() && idx.size() % 2 != 0) idx.push_back(idx.back());
  std::vector<double> ts;
  for (size_t i = 0; i + 1 < idx.size(); i += 2) {
    double a = static_cast<double>(idx[i]) / source_fps;
    double b = static_cast<double>(idx[i + 1]) / source_fps;
    ts.push_back((a + b) / 2);
  }
  return ts;
}

}  // namespace ocular::media
