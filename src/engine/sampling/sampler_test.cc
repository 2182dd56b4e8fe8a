#include "engine/sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

namespace ocular::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int64_t kQwenVocab = 151936;

std::vector<RowIsa> Isas() {
  std::vector<RowIsa> isas = {RowIsa::kScalar};
  if (BestRowIsa() == RowIsa::kAvx2) isas.push_back(RowIsa::kAvx2);
  return isas;
}

std::vector<float> RandomLogits(int64_t n, uint32_t seed, float stddev = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

int32_t SampleOrDie(Sampler& s, std::span<const float> logits, const SamplingParams& p,
                    uint64_t position, const TokenHistory& h = {}) {
  Result<SampleResult> r = s.Sample(logits, p, h, position);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->token : -1;
}

// The set of tokens drawn over `draws` positions.
std::set<int32_t> DrawnSet(Sampler& s, std::span<const float> logits, const SamplingParams& p,
                           int draws) {
  std::set<int32_t> seen;
  for (int i = 0; i < draws; ++i) seen.insert(SampleOrDie(s, logits, p, static_cast<uint64_t>(i)));
  return seen;
}

TEST(SamplerTest, GreedyIsArgmaxWithLowestIdOnTies) {
  for (RowIsa isa : Isas()) {
    Sampler s(isa);
    SamplingParams p;
    p.temperature = 0.0f;
    std::vector<float> logits = RandomLogits(kQwenVocab, 1);
    const int64_t want = std::max_element(logits.begin(), logits.end()) - logits.begin();
    EXPECT_EQ(SampleOrDie(s, logits, p, 0), want);
    logits[1000] = logits[want];
    logits[150000] = logits[want];
    EXPECT_EQ(SampleOrDie(s, logits, p, 0), std::min<int64_t>(want, 1000));
    p.num_logprobs = 0;  // the copying path must agree
    EXPECT_EQ(SampleOrDie(s, logits, p, 0), std::min<int64_t>(want, 1000));
    p.temperature = 1.0f;
    p.top_k = 1;  // top_k = 1 is greedy too
    EXPECT_EQ(SampleOrDie(s, logits, p, 5), std::min<int64_t>(want, 1000));
  }
}

TEST(SamplerTest, GreedyAppliesPenalties) {
  Sampler s;
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 2.0f;
  const std::vector<int32_t> prompt = {0};
  TokenHistory h(prompt);
  const std::vector<float> logits = {5.0f, 4.0f};  // 5 / 2 = 2.5 < 4
  EXPECT_EQ(SampleOrDie(s, logits, p, 0, h), 1);
  p.repetition_penalty = 1.0f;
  p.presence_penalty = 0.5f;
  h.AddOutput(1);  // 4 - 0.5 = 3.5 < 5
  EXPECT_EQ(SampleOrDie(s, logits, p, 0, h), 0);
}

TEST(SamplerTest, SeededSamplingIsReproducible) {
  const std::vector<float> logits = RandomLogits(5000, 2, 0.5f);  // flat-ish: many outcomes
  SamplingParams p;
  p.temperature = 0.9f;
  p.top_k = 50;
  p.top_p = 0.95f;
  p.seed = 1234;
  Sampler a, b;
  std::vector<int32_t> first, second, other_seed;
  for (uint64_t pos = 0; pos < 64; ++pos) first.push_back(SampleOrDie(a, logits, p, pos));
  // A second sampler, interleaved with another request's draws, gives the same sequence.
  SamplingParams q = p;
  q.seed = 99;
  for (uint64_t pos = 0; pos < 64; ++pos) {
    second.push_back(SampleOrDie(b, logits, p, pos));
    other_seed.push_back(SampleOrDie(b, logits, q, pos));
  }
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other_seed);
  for (RowIsa isa : Isas()) {  // and the ISA does not change the outcome here
    Sampler c(isa);
    for (uint64_t pos = 0; pos < 64; ++pos) EXPECT_EQ(SampleOrDie(c, logits, p, pos), first[pos]);
  }
}

TEST(SamplerTest, TopKNeverLeavesTheKLargest) {
  for (RowIsa isa : Isas()) {
    Sampler s(isa);
    std::vector<float> logits = RandomLogits(kQwenVocab, 3, 1.0f);
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    const std::set<int32_t> top20(order.begin(), order.begin() + 20);
    SamplingParams p;
    p.temperature = 5.0f;  // flatten so every one of the 20 gets drawn
    p.top_k = 20;
    const std::set<int32_t> drawn = DrawnSet(s, logits, p, 2000);
    EXPECT_EQ(drawn, top20);
  }
}

// Probabilities [0.5, 0.3, 0.15, 0.05] (logits = log p, T = 1). Nucleus by hand:
// p = 0.45 -> {0}; 0.75 -> {0, 1} (0.5 < 0.75 <= 0.8); 0.85 -> {0, 1, 2}; 0.99 -> all.
TEST(SamplerTest, TopPKeepsTheSmallestSetReachingP) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                                     std::log(0.05f)};
  for (RowIsa isa : Isas()) {
    Sampler s(isa);
    SamplingParams p;
    p.top_p = 0.45f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0}));
    p.top_p = 0.75f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0, 1}));
    p.top_p = 0.85f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0, 1, 2}));
    p.top_p = 0.99f;
    EXPECT_EQ(DrawnSet(s, logits, p, 2000), (std::set<int32_t>{0, 1, 2, 3}));
    p.top_p = 1.0f;  // off
    EXPECT_EQ(DrawnSet(s, logits, p, 2000), (std::set<int32_t>{0, 1, 2, 3}));
    // With top-k first, top-p renormalizes over the k kept tokens (HF): over {0,1},
    // probabilities are 0.625 / 0.375, so p = 0.6 keeps only token 0.
    p.top_k = 2;
    p.top_p = 0.6f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0}));
    p.top_p = 0.7f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0, 1}));
  }
}

// One leading token (logit 3) and 999 equal tokens (logit 0), no top-k: the first cut
// (e^-8 of the top) holds only token 0, whose mass e^3 / Z (Z = e^3 + 999) is ~2%, so the cut
// must widen. top_p = (e^3 + 4.5) / Z needs exactly 5 tail tokens, taken in id order as they
// tie: the nucleus is {0, 1, 2, 3, 4, 5}.
TEST(SamplerTest, TopPWithoutTopKWidensTheCandidateCut) {
  std::vector<float> logits(1000, 0.0f);
  logits[0] = 3.0f;
  const double z = std::exp(3.0) + 999.0;
  for (RowIsa isa : Isas()) {
    Sampler s(isa);
    SamplingParams p;
    p.top_p = static_cast<float>((std::exp(3.0) + 4.5) / z);
    EXPECT_EQ(DrawnSet(s, logits, p, 2000), (std::set<int32_t>{0, 1, 2, 3, 4, 5}));
  }
}

// min_p keeps tokens with p >= min_p * p_max: with [0.5, 0.3, 0.15, 0.05], min_p = 0.2 keeps
// p >= 0.1 -> {0, 1, 2}; min_p = 0.7 keeps p >= 0.35 -> {0}; min_p = 0.5 -> {0, 1}.
TEST(SamplerTest, MinPKeepsTokensAboveAFractionOfTheTop) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                                     std::log(0.05f)};
  for (RowIsa isa : Isas()) {
    Sampler s(isa);
    SamplingParams p;
    p.min_p = 0.2f;
    EXPECT_EQ(DrawnSet(s, logits, p, 1000), (std::set<int32_t>{0, 1, 2}));
    p.min_p = 0.7f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0}));
    p.min_p = 0.5f;
    EXPECT_EQ(DrawnSet(s, logits, p, 500), (std::set<int32_t>{0, 1}));
    p.top_k = 3;  // min-p after top-k
    p.min_p = 0.2f;
    EXPECT_EQ(DrawnSet(s, logits, p, 1000), (std::set<int32_t>{0, 1, 2}));
  }
}

TEST(SamplerTest, LogprobsAreTheRawLogSoftmax) {
  for (RowIsa isa : Isas()) {
    for (int64_t vocab : {int64_t{7}, int64_t{1000}, kQwenVocab}) {
      Sampler s(isa);
      const std::vector<float> logits = RandomLogits(vocab, 5);
      double max_value = -1e300;
      for (float v : logits) max_value = std::max(max_value, static_cast<double>(v));
      double sum = 0.0;
      for (float v : logits) sum += std::exp(static_cast<double>(v) - max_value);
      const double log_z = max_value + std::log(sum);
      std::vector<int32_t> order(logits.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
      std::stable_sort(order.begin(), order.end(),
                       [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });

      SamplingParams p;
      p.temperature = 0.7f;
      p.top_k = 20;
      p.top_p = 0.8f;
      p.repetition_penalty = 1.3f;  // modifies sampling, never the reported logprobs
      p.num_logprobs = 5;
      const std::vector<int32_t> prompt = {order[0], order[1]};
      TokenHistory h(prompt);
      Result<SampleResult> r = s.Sample(logits, p, h, 3);
      ASSERT_TRUE(r.ok());
      ASSERT_TRUE(r->has_logprobs);
      // |error| ~ float rounding of log_z (magnitude ~10): 1e-5 covers a few float ulps plus
      // the SumExp relative error (2e-6) carried through log.
      EXPECT_NEAR(r->logprob, logits[r->token] - log_z, 1e-5);
      ASSERT_EQ(r->top_logprobs.size(), std::min<size_t>(5, logits.size()));
      for (size_t i = 0; i < r->top_logprobs.size(); ++i) {
        EXPECT_EQ(r->top_logprobs[i].token, order[i]);
        EXPECT_NEAR(r->top_logprobs[i].logprob, logits[order[i]] - log_z, 1e-5);
      }
      p.num_logprobs = -1;  // not asked: not computed
      r = s.Sample(logits, p, h, 3);
      ASSERT_TRUE(r.ok());
      EXPECT_FALSE(r->has_logprobs);
      EXPECT_TRUE(r->top_logprobs.empty());
    }
  }
}

TEST(SamplerTest, NonFiniteLogitsFollowTheDocumentedRules) {
  for (RowIsa isa : Isas()) {
    Sampler s(isa);
    SamplingParams greedy;
    greedy.temperature = 0.0f;
    SamplingParams sample;
    // NaN acts as -inf: never chosen.
    const std::vector<float> with_nan = {kNaN, 1.0f, kNaN, 0.5f};
    EXPECT_EQ(SampleOrDie(s, with_nan, greedy, 0), 1);
    EXPECT_EQ(DrawnSet(s, with_nan, sample, 500), (std::set<int32_t>{1, 3}));
    SamplingParams lp = sample;
    lp.num_logprobs = 4;
    Result<SampleResult> r = s.Sample(with_nan, lp, {}, 0);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->top_logprobs.size(), 2u);  // -inf tokens are not alternatives
    // All -inf except one: that one, always.
    std::vector<float> one(300, -kInf);
    one[123] = -50.0f;
    EXPECT_EQ(SampleOrDie(s, one, greedy, 0), 123);
    EXPECT_EQ(DrawnSet(s, one, sample, 50), (std::set<int32_t>{123}));
    SamplingParams top = sample;
    top.top_k = 10;
    top.top_p = 0.5f;
    EXPECT_EQ(DrawnSet(s, one, top, 50), (std::set<int32_t>{123}));
    // +inf tokens take all the probability; greedy picks the lowest.
    const std::vector<float> with_inf = {0.0f, kInf, 1.0f, kInf};
    EXPECT_EQ(SampleOrDie(s, with_inf, greedy, 0), 1);
    EXPECT_EQ(DrawnSet(s, with_inf, sample, 500), (std::set<int32_t>{1, 3}));
    // Nothing finite: an error, not a token.
    const std::vector<float> none = {kNaN, -kInf, kNaN};
    EXPECT_EQ(s.Sample(none, greedy, {}, 0).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.Sample(none, sample, {}, 0).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.Sample({}, sample, {}, 0).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SamplerTest, ParameterEdgeCases) {
  Sampler s;
  const std::vector<float> logits = {0.0f, -3.0f, 1.0f};
  SamplingParams p;
  p.top_k = 1000;  // k > vocab: no filtering
  EXPECT_EQ(DrawnSet(s, logits, p, 3000), (std::set<int32_t>{0, 1, 2}));
  p.top_k = 2;
  EXPECT_EQ(DrawnSet(s, logits, p, 1000), (std::set<int32_t>{0, 2}));
  p.top_k = 0;
  p.temperature = 1e-6f;  // tiny: the argmax only
  EXPECT_EQ(DrawnSet(s, logits, p, 200), (std::set<int32_t>{2}));
  p.temperature = 1e-40f;  // 1/T overflows: greedy
  EXPECT_EQ(DrawnSet(s, logits, p, 200), (std::set<int32_t>{2}));
  p.temperature = -1.0f;
  EXPECT_EQ(s.Sample(logits, p, {}, 0).status().code(), StatusCode::kInvalidArgument);
  p.temperature = 1.0f;
  p.repetition_penalty = 1.2f;
  const std::vector<int32_t> bad_prompt = {5};
  EXPECT_EQ(s.Sample(logits, p, TokenHistory(bad_prompt), 0).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ocular::sampling
