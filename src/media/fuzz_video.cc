// libFuzzer target for the video demux/decode entry point with tight caps, then preprocessing.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/video_decoder.h"
#include "media/video_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ocular::media::SilenceFfmpegLogging();
  ocular::media::VideoLimits limits;
  limits.max_input_bytes = 1 << 20;
  limits.max_side = 512;
  limits.max_frame_pixels = 512 * 512;
  limits.max_total_frames = 64;
  limits.max_duration_s = 60;
  limits.max_decoded_frames = 96;
  ocular::media::VideoSamplingConfig sampling;
  sampling.max_pixels = 1 << 20;
  auto video = ocular::media::DecodeVideo(std::span<const uint8_t>(data, size), limits, sampling);
  if (!video.ok()) return 0;
  (void)ocular::media::PreprocessVideo(*video, sampling);
  return 0;
}
