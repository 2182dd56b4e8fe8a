// Synthetic video clips for tests and benchmarks (never linked into the server): one encoder
// loop for every clip the project makes, the picture content given by the caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "base/status.h"

namespace ocular::media::testing {

struct ClipSpec {
  int width = 0, height = 0;  // even (4:2:0)
  int fps = 30;
  int frames = 0;
  int gop = 60;                      // keyframe interval
  int max_b_frames = -1;             // -1: the encoder's default
  int64_t bit_rate = 0;              // 0: the encoder's default
  int threads = 0;                   // encoder threads, 0: the encoder's default
  std::string encoder = "libx264";   // libavcodec encoder name
  std::string fallback_encoder;      // used when `encoder` is not built in ("" for none)
  std::string container = "mp4";
  std::string x264_preset = "veryfast";  // libx264 only
  std::string x264_params;               // libx264 only, e.g. "open-gop=1"
};

// Frame `index`'s planes to fill: luma [height][y_stride], chroma [height/2][c_stride] each.
struct Yuv420Frame {
  int index = 0, width = 0, height = 0;
  uint8_t* y = nullptr;
  uint8_t* u = nullptr;
  uint8_t* v = nullptr;
  int y_stride = 0, c_stride = 0;
  bool force_keyframe = false;  // set by the fill to start a new GOP here (a scene cut)
};

// Writes spec.frames frames to `path`, each filled by `fill`. Returns the name of the encoder
// used; NotFound when neither encoder is built into the linked libavcodec.
Result<std::string> WriteClip(const std::filesystem::path& path, const ClipSpec& spec,
                              const std::function<void(Yuv420Frame&)>& fill);

}  // namespace ocular::media::testing
