#include "media/video_preprocess.h"

#include "media/aa_resize.h"

namespace ocular::media {

Result<PreprocessedVideo> PreprocessVideo(const SampledVideo& video, const VideoSamplingConfig& config,
                                          ThreadPool* pool) {
  if (video.frames.empty() || video.frames.size() != video.indices.size()) {
    return InvalidArgument("video has no sampled frames");
  }
  const int32_t h = video.frames[0].height, w = video.frames[0].width;
  for (const RgbImage& f : video.frames) {
    if (f.height != h || f.width != w) return InvalidArgument("video frames differ in size");
  }
  ASSIGN_OR_RETURN(ResizedSize size,
                   SmartResizeVideo(static_cast<int64_t>(video.frames.size()), h, w, config.min_pixels,
                                    config.max_pixels));
  PreprocessedVideo out;
  out.frame_indices = video.indices;
  out.timestamps = GroupTimestamps(video.indices, video.info.fps);
  out.source_fps = video.info.fps;
  out.source_height = h;
  out.source_width = w;
  out.resized = size;
  std::vector<RgbImage> resized;
  std::vector<const RgbImage*> frames;
  if (size.height != h || size.width != w) {
    resized.reserve(video.frames.size());
    for (const RgbImage& f : video.frames) {
      resized.push_back(TorchAntialiasBicubicResize(f, size.width, size.height, pool));
    }
    for (const RgbImage& f : resized) frames.push_back(&f);
  } else {
    for (const RgbImage& f : video.frames) frames.push_back(&f);
  }
  out.pixel_values = Patchify(frames, Normalization::kFusedTorchvision, pool);
  MediaIdInputs id;
  id.kind = "video";
  id.source_height = h;
  id.source_width = w;
  id.min_pixels = config.min_pixels;
  id.max_pixels = config.max_pixels;
  id.resized_height = size.height;
  id.resized_width = size.width;
  id.resample = "torch_aa_bicubic";
  id.normalization = Normalization::kFusedTorchvision;
  id.frame_indices = out.frame_indices;
  id.frames = frames;
  out.media_id = ComputeMediaId(id);
  return out;
}

}  // namespace ocular::media
