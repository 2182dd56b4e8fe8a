// Empirical frequencies of the sampler against an independent full-sort reference of the
// filtered softmax, with bounds derived from the number of draws.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "engine/sampling/sampler.h"

namespace ocular::sampling {
namespace {

// Reference: softmax(logits / T) in double, then top-k (value desc, id asc), renormalize,
// top-p smallest prefix with cumulative >= p, min-p relative to the top, renormalize.
std::vector<double> ReferenceProbs(const std::vector<float>& logits, const SamplingParams& p) {
  const size_t n = logits.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  const double top = logits[order[0]];
  std::vector<double> w(n, 0.0);
  size_t kept = (p.top_k > 0 && static_cast<size_t>(p.top_k) < n) ? p.top_k : n;
  double mass = 0.0;
  for (size_t r = 0; r < kept; ++r) {
    w[order[r]] = std::exp((logits[order[r]] - top) / p.temperature);
    mass += w[order[r]];
  }
  if (p.top_p < 1.0f) {
    double cumulative = 0.0;
    for (size_t r = 0; r < kept; ++r) {
      cumulative += w[order[r]];
      if (cumulative >= p.top_p * mass) {
        kept = r + 1;
        break;
      }
    }
  }
  if (p.min_p > 0.0f) {
    size_t r = 1;
    while (r < kept && w[order[r]] >= p.min_p) ++r;
    kept = r;
  }
  std::vector<double> probs(n, 0.0);
  double kept_mass = 0.0;
  for (size_t r = 0; r < kept; ++r) kept_mass += w[order[r]];
  for (size_t r = 0; r < kept; ++r) probs[order[r]] = w[order[r]] / kept_mass;
  return probs;
}

// Upper quantile of chi-square with `df` degrees of freedom at tail probability ~1e-6
// (Wilson-Hilferty cube approximation; z = 4.75 is the 1e-6 normal upper quantile).
double ChiSquareBound(int df) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + 4.75 * std::sqrt(a), 3.0);
}

void ExpectMatchesReference(const std::vector<float>& logits, const SamplingParams& params,
                            int draws, RowIsa isa) {
  const std::vector<double> probs = ReferenceProbs(logits, params);
  std::vector<int64_t> counts(logits.size(), 0);
  Sampler sampler(isa);
  for (int i = 0; i < draws; ++i) {
    Result<SampleResult> r = sampler.Sample(logits, params, {}, static_cast<uint64_t>(i));
    ASSERT_TRUE(r.ok());
    ++counts[static_cast<size_t>(r->token)];
  }
  double chi2 = 0.0;
  int bins = 0;
  for (size_t t = 0; t < logits.size(); ++t) {
    const double expected = probs[t] * draws;
    if (probs[t] == 0.0) {
      EXPECT_EQ(counts[t], 0) << "token " << t << " is outside the filtered support";
      continue;
    }
    // Per token: a binomial count within 5.5 standard deviations (two-sided ~4e-8 each).
    const double sd = std::sqrt(draws * probs[t] * (1.0 - probs[t]));
    EXPECT_NEAR(static_cast<double>(counts[t]), expected, 5.5 * sd + 1.0) << "token " << t;
    chi2 += (counts[t] - expected) * (counts[t] - expected) / expected;
    ++bins;
  }
  if (bins > 1) {
    EXPECT_LT(chi2, ChiSquareBound(bins - 1)) << "bins " << bins;
  }
}

std::vector<RowIsa> Isas() {
  std::vector<RowIsa> isas = {RowIsa::kScalar};
  if (BestRowIsa() == RowIsa::kAvx2) isas.push_back(RowIsa::kAvx2);
  return isas;
}

const std::vector<float> kSmall = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -3.0f, 1.0f, 0.25f};

TEST(SamplerDistributionTest, TemperatureOnlyMatchesSoftmax) {
  for (RowIsa isa : Isas()) {
    SamplingParams p;
    p.temperature = 0.7f;
    p.seed = 42;
    ExpectMatchesReference(kSmall, p, 200000, isa);
  }
}

TEST(SamplerDistributionTest, FullRowAcrossSeveralExpBlocks) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> logits(200);  // 4 blocks of the block-sum inverse CDF, the last partial
  for (auto& v : logits) v = uniform(rng);
  for (RowIsa isa : Isas()) {
    SamplingParams p;
    p.temperature = 1.3f;
    p.seed = 7;
    ExpectMatchesReference(logits, p, 200000, isa);
  }
}

TEST(SamplerDistributionTest, TopKTopPAndMinPMatchTheFilteredSoftmax) {
  for (RowIsa isa : Isas()) {
    SamplingParams p;
    p.temperature = 0.9f;
    p.seed = 5;
    p.top_k = 3;
    ExpectMatchesReference(kSmall, p, 100000, isa);
    p.top_k = 0;
    p.top_p = 0.8f;
    ExpectMatchesReference(kSmall, p, 100000, isa);
    p.top_k = 5;
    p.top_p = 0.9f;
    ExpectMatchesReference(kSmall, p, 100000, isa);
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.3f;
    ExpectMatchesReference(kSmall, p, 100000, isa);
    p.top_k = 20;  // Qwen3-VL Instruct defaults with a min-p on top
    p.top_p = 0.8f;
    p.temperature = 0.7f;
    p.min_p = 0.05f;
    ExpectMatchesReference(kSmall, p, 100000, isa);
  }
}

}  // namespace
}  // namespace ocular::sampling
