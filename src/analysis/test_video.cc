#include "analysis/test_video.h"

#include "media/test_clip.h"

namespace ocular::analysis::testing {

Status WriteTestVideo(const std::filesystem::path& path, int width, int height, int fps, int seconds, int gop) {
  if (fps <= 0 || seconds <= 0) return InvalidArgument("bad test video size");
  media::testing::ClipSpec spec;
  spec.width = width;
  spec.height = height;
  spec.fps = fps;
  spec.frames = fps * seconds;
  spec.gop = gop;
  spec.max_b_frames = 0;
  spec.bit_rate = 200'000;
  spec.threads = 1;
  spec.encoder = "mpeg4";  // MPEG-4 Part 2: built into every libavcodec
  // Y'CbCr 4:2:0: a background whose luma/chroma depend on the second, and a 16x16 square
  // moving one pixel per frame.
  auto fill = [fps](media::testing::Yuv420Frame& f) {
    const int i = f.index, sec = i / fps, w = f.width, h = f.height;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const bool square = x >= (i % w) && x < (i % w) + 16 && y >= h / 4 && y < h / 4 + 16;
        f.y[y * f.y_stride + x] = uint8_t(square ? 235 : 40 + (sec * 37) % 150);
      }
    }
    for (int y = 0; y < h / 2; ++y) {
      for (int x = 0; x < w / 2; ++x) {
        f.u[y * f.c_stride + x] = uint8_t(64 + (sec * 53) % 128);
        f.v[y * f.c_stride + x] = uint8_t(192 - (sec * 29) % 128);
      }
    }
  };
  return media::testing::WriteClip(path, spec, fill).status();
}

}  // namespace ocular::analysis::testing
