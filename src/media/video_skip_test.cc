// The skipping video decoder (restarts at clean keyframes, AVDISCARD_NONREF for frames that
// are neither sampled nor referenced) against decoding every frame, on H.264 clips with
// B-frames made here with libx264 (closed GOPs, open GOPs, B-pyramid; forced I-frames every 45
// frames) and windowed requests starting mid-clip. The reference is the sequential path
// (frames identified by their count, as HF's pyav loop does). Whatever the GOP structure,
// the frames must be identical: where a run cannot start at a keyframe cleanly, the clean-
// keyframe rule or the sequential fallback must keep them so.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/test_clip.h"
#include "media/video_decoder.h"

namespace ocular::media {
namespace {

// Encodes `frames` frames (moving pattern, 30 fps, 4:2:0) with libx264 into an MP4 (a plain,
// indexed one: written to a temporary file) and returns its bytes; empty when libx264 is
// missing. `x264_params` e.g. "open-gop=1".
std::vector<uint8_t> EncodeH264(int width, int height, int frames, int gop, const char* x264_params) {
  testing::ClipSpec spec;
  spec.width = width;
  spec.height = height;
  spec.frames = frames;
  spec.gop = gop;
  spec.max_b_frames = 3;
  spec.x264_params = x264_params != nullptr ? x264_params : "";
  auto fill = [](testing::Yuv420Frame& f) {
    const int i = f.index;
    for (int y = 0; y < f.height; ++y) {
      for (int x = 0; x < f.width; ++x) f.y[y * f.y_stride + x] = static_cast<uint8_t>((x + 3 * i) ^ (y + i / 7));
    }
    for (int p = 1; p < 3; ++p) {
      uint8_t* plane = p == 1 ? f.u : f.v;
      for (int y = 0; y < f.height / 2; ++y) {
        for (int x = 0; x < f.width / 2; ++x) {
          plane[y * f.c_stride + x] = static_cast<uint8_t>(128 + ((x * p + y + i) % 48) - 24);
        }
      }
    }
    // Scene cuts every 45 frames force extra keyframes (open-GOP I-frames when enabled).
    f.force_keyframe = i % 45 == 0;
  };
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ocular_skip_test_" + std::to_string(getpid()) + ".mp4");
  std::vector<uint8_t> mp4;
  const Result<std::string> written = testing::WriteClip(path, spec, fill);
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) {
    ADD_FAILURE() << written.status().ToString();  // libx264 present but the clip failed
  }
  if (written.ok()) {
    std::ifstream f(path, std::ios::binary);
    mp4.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::filesystem::remove(path);
  return mp4;
}

void ExpectSameFrames(const SampledVideo& got, const SampledVideo& ref) {
  ASSERT_EQ(got.indices, ref.indices);
  ASSERT_EQ(got.frames.size(), ref.frames.size());
  for (size_t i = 0; i < ref.frames.size(); ++i) {
    EXPECT_TRUE(got.frames[i].data == ref.frames[i].data) << "sampled frame " << i << " = " << ref.indices[i];
  }
}

class VideoSkipTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VideoSkipTest, SameFramesAsDecodingEverything) {
  SilenceFfmpegLogging();
  const std::vector<uint8_t> mp4 = EncodeH264(160, 96, 240, 60, GetParam());
  if (mp4.empty()) GTEST_SKIP() << "libx264 not available";
  VideoLimits all;
  all.skip_unneeded_frames = false;
  VideoSamplingConfig cfg;  // 2 fps of 8 s: 16 frames, every 16th
  auto ref = DecodeVideo(mp4, all, cfg);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->decoded_frames, 240);
  auto got = DecodeVideo(mp4, VideoLimits{}, cfg);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameFrames(*got, *ref);
  EXPECT_LT(got->decoded_frames, 240);  // non-reference B-frames and tails of GOPs skipped

  // Windowed requests (frames from the middle on): the run starts at a clean keyframe.
  VideoInfo info = got->info;
  for (int64_t first : {70, 100, 181}) {
    SCOPED_TRACE(first);
    std::vector<int64_t> idx = {first, first + 5, first + 17};
    auto win = DecodeVideoFrames(mp4, VideoLimits{}, info, idx);
    ASSERT_TRUE(win.ok()) << win.status().ToString();
    auto win_ref = DecodeVideoFrames(mp4, all, info, idx);
    ASSERT_TRUE(win_ref.ok()) << win_ref.status().ToString();
    ExpectSameFrames(*win, *win_ref);
    EXPECT_LT(win->decoded_frames, win_ref->decoded_frames);
  }
}

INSTANTIATE_TEST_SUITE_P(Gops, VideoSkipTest, ::testing::Values("open-gop=0", "open-gop=1", "bframes=3:b-pyramid=2"));

}  // namespace
}  // namespace ocular::media
