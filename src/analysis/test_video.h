// A small MP4 written with libavcodec's MPEG-4 Part 2 encoder, for tests and benchmarks of
// windowed analysis (never linked into the server): frame i shows a moving square whose
// colour changes every second, so windows see different content.
#pragma once

#include <filesystem>

#include "base/status.h"

namespace ocular::analysis::testing {

// `seconds * fps` frames of width x height (even) with a keyframe every `gop` frames.
Status WriteTestVideo(const std::filesystem::path& path, int width, int height, int fps, int seconds,
                      int gop = 30);

}  // namespace ocular::analysis::testing
