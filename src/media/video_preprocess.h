// Video preprocessing as HF's Qwen3VLVideoProcessor (golden README §3): video smart_resize
// over the whole sampled clip, torchvision antialiased bicubic (only when the size changes),
// fused normalisation, frames padded to even, patch flattening; per-group timestamps.
#pragma once

#include <cstdint>
#include <vector>

#include "media/media_id.h"
#include "media/patchify.h"
#include "media/smart_resize.h"
#include "media/video_decoder.h"

namespace ocular {
class ThreadPool;
}

namespace ocular::media {

struct PreprocessedVideo {
  PixelValues pixel_values;        // [gt*gh*gw][1536] f32, grid_thw = [gt, gh, gw]
  std::vector<int64_t> frame_indices;
  std::vector<double> timestamps;  // seconds, one per temporal group
  double source_fps = 0;
  int32_t source_height = 0;
  int32_t source_width = 0;
  ResizedSize resized;
  MediaId media_id;
};

Result<PreprocessedVideo> PreprocessVideo(const SampledVideo& video, const VideoSamplingConfig& config,
                                          ThreadPool* pool = nullptr);

}  // namespace ocular::media
