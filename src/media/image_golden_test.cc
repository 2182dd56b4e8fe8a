// Golden checks of the image path against ../shared/golden/preprocess (HF PIL processor).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "media/image.h"
#include "media/image_preprocess.h"
#include "tests/support/golden.h"

namespace ocular::media {
namespace {

using ::ocular::testing::ReadFileBytes;

std::vector<uint8_t> Gunzip(const std::vector<uint8_t>& gz, size_t expected) {
  std::vector<uint8_t> out(expected);
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, 16 + MAX_WBITS), Z_OK);
  s.next_in = const_cast<Bytef*>(gz.data());
  s.avail_in = static_cast<uInt>(gz.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&s, Z_FINISH);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(s.total_out, expected);
  inflateEnd(&s);
  return out;
}

std::vector<float> AsFloats(const std::vector<uint8_t>& bytes) {
  std::vector<float> f(bytes.size() / 4);
  std::memcpy(f.data(), bytes.data(), f.size() * 4);
  return f;
}

// Compares pixel_values; the golden tolerance is bit-exact or <= 1.2e-7 abs (one ulp of the
// normalisation); reports the number of non-identical values.
void ExpectPixelsMatch(const float* got, const std::vector<float>& want, double tol, const std::string& name) {
  size_t differing = 0, over = 0;
  double max_abs = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (got[i] != want[i]) ++differing;
    if (d > tol) ++over;
    max_abs = std::max(max_abs, d);
  }
  EXPECT_EQ(over, 0u) << name << ": " << over << " values beyond " << tol << " (max " << max_abs << ")";
  ::testing::Test::RecordProperty(name + "_non_identical", static_cast<int>(differing));
}

TEST(ImageGolden, EveryManifestImageCase) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto manifest = nlohmann::json::parse(ocular::testing::ReadFileText(golden / "preprocess/manifest.json"));
  ThreadPool pool(2);
  int cases = 0;
  for (const auto& c : manifest["images"]) {
    const std::string name = c["case"];
    SCOPED_TRACE(name);
    std::vector<uint8_t> bytes = ReadFileBytes(golden / c["input"].get<std::string>());
    auto decoded = DecodeImage(bytes, ImageLimits{});
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->rgb.height, c["source_hw"][0].get<int>());
    EXPECT_EQ(decoded->rgb.width, c["source_hw"][1].get<int>());
    EXPECT_EQ(decoded->source_mode, c["source_mode"].get<std::string>());
    if (c.contains("decoded_rgb")) {
      auto rgb = ReadFileBytes(golden / "preprocess" / c["decoded_rgb"]["file"].get<std::string>());
      EXPECT_TRUE(rgb == decoded->rgb.data) << "decoded RGB differs from convert('RGB')";
    }
    ImagePreprocessConfig cfg;
    cfg.min_pixels = c["min_pixels"];
    cfg.max_pixels = c["max_pixels"];
    auto pre = PreprocessImage(decoded->rgb, cfg, &pool);
    ASSERT_TRUE(pre.ok()) << pre.status().ToString();
    EXPECT_EQ(pre->resized.height, c["resized_hw"][0].get<int>());
    EXPECT_EQ(pre->resized.width, c["resized_hw"][1].get<int>());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pre->pixel_values.grid_thw[i], c["grid_thw"][i].get<int>());
    const auto& pvj = c["pixel_values"];
    std::string file = pvj["file"];
    std::vector<uint8_t> raw = ReadFileBytes(golden / "preprocess" / file);
    if (file.ends_with(".gz")) raw = Gunzip(raw, pvj["raw_bytes"].get<size_t>());
    std::vector<float> want = AsFloats(raw);
    ASSERT_EQ(static_cast<int64_t>(want.size()), pre->pixel_values.num_patches() * kPatchDim);
    ExpectPixelsMatch(pre->pixel_values.values(), want, 1.2e-7, name);
    // Without a pool as well (same result).
    auto single = PreprocessImage(decoded->rgb, cfg, nullptr);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(std::memcmp(single->pixel_values.values(), pre->pixel_values.values(), want.size() * 4), 0);
    EXPECT_EQ(single->media_id, pre->media_id);
    ++cases;
  }
  EXPECT_EQ(cases, 9);
}

TEST(ImageGolden, AspectRatioErrorCases) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto manifest = nlohmann::json::parse(ocular::testing::ReadFileText(golden / "preprocess/manifest.json"));
  int n = 0;
  for (const auto& e : manifest["error_cases"]) {
    auto r = SmartResizeImage(e["source_hw"][0].get<int64_t>(), e["source_hw"][1].get<int64_t>(), 65536,
                              16777216);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), e["message"].get<std::string>());
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(ImageGolden, VideoResizeFormulaExamples) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto manifest = nlohmann::json::parse(ocular::testing::ReadFileText(golden / "preprocess/manifest.json"));
  for (const auto& e : manifest["video_resize_examples"]["cases"]) {
    int64_t n = e["num_frames_sampled"];
    auto r = SmartResizeVideo(n, e["source_wh"][1].get<int64_t>(), e["source_wh"][0].get<int64_t>(), 4096,
                              25165824);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->width, e["resized_wh"][0].get<int>());
    EXPECT_EQ(r->height, e["resized_wh"][1].get<int>());
  }
}

}  // namespace
}  // namespace ocular::media
