#include "engine/sampling/sampling_params.h"

#include <gtest/gtest.h>

#include <limits>

namespace ocular::sampling {
namespace {

TEST(SamplingParamsTest, DefaultsAreValid) { EXPECT_TRUE(ValidateSamplingParams({}).ok()); }

TEST(SamplingParamsTest, RejectsOutOfRangeValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto bad = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    return ValidateSamplingParams(p).code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(bad([](SamplingParams& p) { p.temperature = -0.1f; }));
  EXPECT_TRUE(bad([&](SamplingParams& p) { p.temperature = nan; }));
  EXPECT_TRUE(
      bad([](SamplingParams& p) { p.temperature = std::numeric_limits<float>::infinity(); }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.top_k = -2; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.top_p = 0.0f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.top_p = 1.01f; }));
  EXPECT_TRUE(bad([&](SamplingParams& p) { p.top_p = nan; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.min_p = -0.1f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.min_p = 1.5f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.repetition_penalty = 0.0f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.presence_penalty = 2.5f; }));
  EXPECT_TRUE(bad([&](SamplingParams& p) { p.frequency_penalty = nan; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.num_logprobs = kMaxTopLogprobs + 1; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.num_logprobs = -2; }));
  EXPECT_FALSE(bad([](SamplingParams& p) { p.top_k = -1; }));
  EXPECT_FALSE(bad([](SamplingParams& p) { p.num_logprobs = kMaxTopLogprobs; }));
}

// Qwen3-VL Instruct generation_config.json (spec section 7): T 0.7, top_p 0.8, top_k 20,
// repetition_penalty 1.0; README eval adds presence_penalty 1.5.
TEST(SamplingParamsTest, ResolvesRequestOverConfigOverBuiltIn) {
  GenerationDefaults config;
  config.do_sample = true;
  config.temperature = 0.7f;
  config.top_p = 0.8f;
  config.top_k = 20;
  config.repetition_penalty = 1.0f;
  config.presence_penalty = 1.5f;

  SamplingParams p = ResolveSamplingParams(config, {}, 99);
  EXPECT_EQ(p.temperature, 0.7f);
  EXPECT_EQ(p.top_p, 0.8f);
  EXPECT_EQ(p.top_k, 20);
  EXPECT_EQ(p.repetition_penalty, 1.0f);
  EXPECT_EQ(p.presence_penalty, 1.5f);
  EXPECT_EQ(p.frequency_penalty, 0.0f);
  EXPECT_EQ(p.min_p, 0.0f);
  EXPECT_EQ(p.seed, 99u);
  EXPECT_EQ(p.num_logprobs, -1);

  SamplingOverrides request;
  request.temperature = 0.0f;
  request.top_k = 5;
  request.seed = 3407;
  request.num_logprobs = 2;
  p = ResolveSamplingParams(config, request, 99);
  EXPECT_EQ(p.temperature, 0.0f);
  EXPECT_TRUE(p.greedy());
  EXPECT_EQ(p.top_k, 5);
  EXPECT_EQ(p.top_p, 0.8f);
  EXPECT_EQ(p.seed, 3407u);
  EXPECT_EQ(p.num_logprobs, 2);

  // No config at all: built-in neutral values (plain sampling at T = 1).
  p = ResolveSamplingParams({}, {}, 1);
  EXPECT_EQ(p.temperature, 1.0f);
  EXPECT_EQ(p.top_k, 0);
  EXPECT_EQ(p.top_p, 1.0f);
}

TEST(SamplingParamsTest, DoSampleFalseMakesGreedyTheDefault) {
  GenerationDefaults config;
  config.do_sample = false;
  config.temperature = 0.7f;
  EXPECT_TRUE(ResolveSamplingParams(config, {}, 0).greedy());
  SamplingOverrides request;
  request.temperature = 0.5f;
  EXPECT_EQ(ResolveSamplingParams(config, request, 0).temperature, 0.5f);
}

}  // namespace
}  // namespace ocular::sampling
