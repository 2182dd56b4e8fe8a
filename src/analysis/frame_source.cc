#include "analysis/frame_source.h"

#include <cmath>

namespace ocular::analysis {

Result<ImageListSource> ImageListSource::Create(std::vector<media::RgbImage> frames, double fps) {
  if (frames.empty()) return InvalidArgument("empty frame list");
  if (!(fps > 0) || !std::isfinite(fps)) return InvalidArgument("frame rate must be positive");
  for (const media::RgbImage& f : frames) {
    if (f.width != frames[0].width || f.height != frames[0].height) {
      return InvalidArgument("all frames of a video must have the same size");
    }
  }
  return ImageListSource(std::move(frames), fps);
}

Result<std::vector<media::RgbImage>> ImageListSource::Decode(std::span<const int64_t> indices) {
  std::vector<media::RgbImage> out;
  out.reserve(indices.size());
  for (int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(frames_.size())) return OutOfRange("frame index out of range");
    out.push_back(frames_[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace ocular::analysis

namespace ocular::analysis {

Result<VideoBytesSource> VideoBytesSource::Create(std::vector<uint8_t> bytes, const media::VideoLimits& limits) {
  ASSIGN_OR_RETURN(media::VideoInfo info, media::ProbeVideo(bytes, limits));
  return VideoBytesSource(std::move(bytes), limits, info);
}

Result<std::vector<media::RgbImage>> VideoBytesSource::Decode(std::span<const int64_t> indices) {
  // The decoder wants distinct ascending targets; a padded window repeats its last index.
  std::vector<int64_t> unique;
  for (int64_t i : indices) {
    if (unique.empty() || i != unique.back()) unique.push_back(i);
  }
  ASSIGN_OR_RETURN(media::SampledVideo v, media::DecodeVideoFrames(bytes_, limits_, info_, unique));
  decoded_frames_ += v.decoded_frames;
  std::vector<media::RgbImage> out;
  out.reserve(indices.size());
  size_t k = 0;
  for (int64_t i : indices) {
    while (unique[k] != i) ++k;
    out.push_back(v.frames[k]);
  }
  return out;
}

}  // namespace ocular::analysis
