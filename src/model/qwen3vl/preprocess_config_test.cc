// Preprocessor and generation configs. Expected values: golden README section 1 and
// spec/qwen3-vl.md section 5.1.
#include "model/qwen3vl/preprocess_config.h"

#include <gtest/gtest.h>

#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

TEST(PreprocessConfigTest, TinyAFiles) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const std::string dir = (golden / "models/tiny-a").string();
  Result<ImagePreprocessConfig> image = LoadImagePreprocessConfig(dir);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->min_pixels, 65536);
  EXPECT_EQ(image->max_pixels, 16777216);
  EXPECT_EQ(image->patch_size, 16);
  EXPECT_EQ(image->temporal_patch_size, 2);
  EXPECT_EQ(image->merge_size, 2);
  EXPECT_EQ(image->image_mean, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(image->image_std, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));
  EXPECT_DOUBLE_EQ(image->rescale_factor, 1.0 / 255.0);
  EXPECT_EQ(image->resample, 3);

  Result<VideoPreprocessConfig> video = LoadVideoPreprocessConfig(dir);
  ASSERT_TRUE(video.ok()) << video.status().ToString();
  EXPECT_EQ(video->min_pixels, 4096);
  EXPECT_EQ(video->max_pixels, 25165824);
  EXPECT_EQ(video->fps, 2.0);
  EXPECT_EQ(video->min_frames, 4);
  EXPECT_EQ(video->max_frames, 768);

  Result<GenerationConfig> gen = LoadGenerationConfig(dir);
  ASSERT_TRUE(gen.ok()) << gen.status().ToString();
  EXPECT_EQ(gen->bos_token_id, 151643);
  EXPECT_EQ(gen->eos_token_ids, (std::vector<int64_t>{151645, 151643}));
  EXPECT_EQ(gen->pad_token_id, 151643);
  EXPECT_FALSE(gen->do_sample);
}

TEST(PreprocessConfigTest, OlderMinMaxPixelsLayout) {
  Result<ImagePreprocessConfig> c = ParseImagePreprocessConfig(
      R"({"min_pixels": 3136, "max_pixels": 1003520, "patch_size": 14, "temporal_patch_size": 2,
          "merge_size": 2, "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->min_pixels, 3136);
  EXPECT_EQ(c->max_pixels, 1003520);
  EXPECT_EQ(c->patch_size, 14);
  EXPECT_FLOAT_EQ(c->image_std[2], 0.27577711f);
}

TEST(PreprocessConfigTest, InvalidValues) {
  for (const char* json : {
           R"({"size": {"shortest_edge": 0, "longest_edge": 10}, "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5]})",
           R"({"size": {"shortest_edge": 100, "longest_edge": 10}, "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5]})",
           R"({"size": {"shortest_edge": 10, "longest_edge": 100}, "patch_size": 0, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5]})",
           R"({"size": {"shortest_edge": 10, "longest_edge": 100}, "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5,0.5], "image_std": [0.5,0.5,0.5]})",
           R"({"size": {"shortest_edge": 10, "longest_edge": 100}, "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.0,0.5]})",
           R"({"patch_size": 16})",
           R"(not json)",
       }) {
    SCOPED_TRACE(json);
    EXPECT_FALSE(ParseImagePreprocessConfig(json).ok());
  }
  EXPECT_FALSE(ParseGenerationConfig(R"({"top_p": 0})").ok());
  EXPECT_FALSE(ParseGenerationConfig(R"({"temperature": -1})").ok());
  EXPECT_FALSE(ParseGenerationConfig(R"({"eos_token_id": "x"})").ok());
  EXPECT_EQ(LoadGenerationConfig("/nonexistent-ocular-dir").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace ocular::qwen3vl
