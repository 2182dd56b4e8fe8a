// Golden checks of the video path: the three golden videos as MKV (FFV1 bgr0), MP4 (H.264
// 4:4:4 lossless) and PNG frame lists give the golden indices, timestamps, grid and pixels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "media/image.h"
#include "media/video_decoder.h"
#include "media/video_preprocess.h"
#include "tests/support/golden.h"

namespace ocular::media {
namespace {

using ::ocular::testing::ReadFileBytes;

struct GoldenVideo {
  nlohmann::json c;
  std::vector<float> pixels;
};

std::vector<GoldenVideo> LoadVideos(const std::filesystem::path& golden) {
  auto manifest = nlohmann::json::parse(ocular::testing::ReadFileText(golden / "preprocess/manifest.json"));
  std::vector<GoldenVideo> out;
  for (const auto& c : manifest["videos"]) {
    out.push_back({c, ocular::testing::ReadF32(golden / "preprocess" / c["pixel_values"]["file"].get<std::string>())});
  }
  return out;
}

// video_c is resized by torch's float kernel: the golden README allows +-1 u8 level there.
void CheckAgainstGolden(const PreprocessedVideo& got, const GoldenVideo& g) {
  const auto& c = g.c;
  const std::string name = c["case"];
  EXPECT_EQ(got.frame_indices, c["sampled_frame_indices"].get<std::vector<int64_t>>());
  auto ts = c["timestamps_seconds"].get<std::vector<double>>();
  ASSERT_EQ(got.timestamps.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) EXPECT_DOUBLE_EQ(got.timestamps[i], ts[i]);
  EXPECT_EQ(got.resized.height, c["resized_hw"][0].get<int>());
  EXPECT_EQ(got.resized.width, c["resized_hw"][1].get<int>());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got.pixel_values.grid_thw[i], c["grid_thw"][i].get<int>());
  ASSERT_EQ(static_cast<int64_t>(g.pixels.size()), got.pixel_values.num_patches() * kPatchDim);
  const bool resized = c["needed_resize"].get<bool>();
  const double tol = resized ? 1.0 / 127.5 + 1e-6 : 0.0;
  size_t over = 0, differing = 0;
  for (size_t i = 0; i < g.pixels.size(); ++i) {
    const float v = got.pixel_values.values()[i];
    if (v != g.pixels[i]) ++differing;
    if (std::fabs(static_cast<double>(v) - g.pixels[i]) > tol) ++over;
  }
  EXPECT_EQ(over, 0u) << name << ": " << over << " values beyond tolerance " << tol;
  if (resized) {
    // Even within +-1 level, the port must agree on the vast majority of values.
    EXPECT_LT(differing, g.pixels.size() / 100) << name;
    std::printf("%s: %zu of %zu values differ by one level\n", name.c_str(), differing, g.pixels.size());
  }
}

TEST(VideoGolden, ContainersAndFrameLists) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ThreadPool pool(2);
  VideoSamplingConfig cfg;
  int checked = 0;
  for (const GoldenVideo& g : LoadVideos(golden)) {
    const std::string name = g.c["case"];
    for (const char* key : {"input_mkv", "input_mp4"}) {
      SCOPED_TRACE(name + " " + key);
      auto bytes = ReadFileBytes(golden / g.c[key].get<std::string>());
      auto sampled = DecodeVideo(bytes, VideoLimits{}, cfg);
      ASSERT_TRUE(sampled.ok()) << sampled.status().ToString();
      EXPECT_EQ(sampled->info.total_frames, g.c["num_frames_total"].get<int64_t>());
      EXPECT_DOUBLE_EQ(sampled->info.fps, g.c["source_fps"].get<double>());
      EXPECT_EQ(sampled->info.frame_count_from_header, std::string(key) == "input_mp4");
      // Decoded frames equal the PNG frames exactly (both containers are lossless).
      for (size_t i = 0; i < sampled->indices.size(); ++i) {
        char file[64];
        std::snprintf(file, sizeof(file), "frame_%03lld.png", static_cast<long long>(sampled->indices[i]));
        auto png = DecodeImage(ReadFileBytes(golden / "inputs/video" / (name + "_frames") / file), ImageLimits{});
        ASSERT_TRUE(png.ok());
        EXPECT_TRUE(png->rgb.data == sampled->frames[i].data) << "frame " << sampled->indices[i];
      }
      auto pre = PreprocessVideo(*sampled, cfg, &pool);
      ASSERT_TRUE(pre.ok()) << pre.status().ToString();
      CheckAgainstGolden(*pre, g);
      ++checked;
    }
    // The PNG frames as an image list.
    SCOPED_TRACE(name + " frames");
    std::vector<RgbImage> frames;
    for (int i = 0; i < g.c["num_frames_total"].get<int>(); ++i) {
      char file[64];
      std::snprintf(file, sizeof(file), "frame_%03d.png", i);
      auto png = DecodeImage(ReadFileBytes(golden / "inputs/video" / (name + "_frames") / file), ImageLimits{});
      ASSERT_TRUE(png.ok());
      frames.push_back(std::move(png->rgb));
    }
    auto sampled = SampleImageSequence(std::move(frames), g.c["source_fps"].get<double>(), cfg);
    ASSERT_TRUE(sampled.ok());
    auto pre = PreprocessVideo(*sampled, cfg, nullptr);
    ASSERT_TRUE(pre.ok()) << pre.status().ToString();
    CheckAgainstGolden(*pre, g);
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

// Skipping what the sampled frames do not need (restarts at keyframes, AVDISCARD_NONREF) must
// select exactly the frames that decoding everything selects.
TEST(VideoGolden, SkippingSelectsTheSameFrames) {
  OCULAR_REQUIRE_GOLDEN(golden);
  VideoSamplingConfig cfg;
  for (const char* file : {"inputs/video/video_b.mkv", "inputs/video/video_b.mp4", "inputs/video/video_a.mkv",
                           "inputs/video/video_c.mp4"}) {
    SCOPED_TRACE(file);
    auto bytes = ReadFileBytes(golden / file);
    VideoLimits everything;
    everything.skip_unneeded_frames = false;
    auto seq = DecodeVideo(bytes, everything, cfg);
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(seq->seeks, 0);
    EXPECT_EQ(seq->decoded_frames, seq->info.total_frames);
    auto sk = DecodeVideo(bytes, VideoLimits{}, cfg);
    ASSERT_TRUE(sk.ok()) << sk.status().ToString();
    ASSERT_EQ(sk->indices, seq->indices);
    ASSERT_EQ(sk->frames.size(), seq->frames.size());
    for (size_t i = 0; i < seq->frames.size(); ++i) EXPECT_TRUE(sk->frames[i].data == seq->frames[i].data) << i;
    // FFV1 is intra-only: exactly the sampled frames are decoded.
    if (std::string(file).ends_with(".mkv")) {
      EXPECT_EQ(sk->decoded_frames, static_cast<int64_t>(sk->indices.size()));
      EXPECT_GT(sk->seeks, 0);
    }
  }
}

}  // namespace
}  // namespace ocular::media
