#include "engine/sampling/sampler.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "base/check.h"
#include "engine/sampling/philox.h"

namespace ocular::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float SanitizeOne(float v) {
  if (std::isnan(v)) return kNegInf;
  return v > FLT_MAX ? FLT_MAX : v;
}

// Candidate-collection thresholds for top-p without top-k, in units of temperature-scaled
// logits below the maximum: e^-8 ~ 3e-4 of the top probability first, then wider. Each round
// keeps every token above the cut, so the nucleus is a prefix of the candidates as soon as
// their mass reaches top_p of the whole row.
constexpr float kNucleusCuts[] = {-8.0f, -16.0f, -32.0f, -64.0f};

}  // namespace

Result<SampleResult> Sampler::Sample(std::span<const float> logits, const SamplingParams& params,
                                     const TokenHistory& history, uint64_t position) {
  RETURN_IF_ERROR(ValidateSamplingParams(params));
  const int64_t vocab = static_cast<int64_t>(logits.size());
  if (vocab == 0 || vocab > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument("logits row size must be in [1, 2^31)");
  }
  const bool penalties = params.repetition_penalty != 1.0f || params.presence_penalty != 0.0f ||
                         params.frequency_penalty != 0.0f;
  const bool want_logprobs = params.num_logprobs >= 0;
  SampleResult result;

  // Fast path: plain greedy reads the caller's row once (NaN never wins, +inf does).
  if (params.greedy() && !penalties && !want_logprobs) {
    const int64_t token = ArgmaxRow(logits.data(), vocab, isa_);
    if (token < 0) return InvalidArgument("logits row has no finite value");
    result.token = static_cast<int32_t>(token);
    return result;
  }

  work_.resize(static_cast<size_t>(vocab));
  float max_value = SanitizeCopyRow(logits.data(), work_.data(), vocab, isa_);
  if (!(max_value > kNegInf)) return InvalidArgument("logits row has no finite value");

  double log_z = 0.0;
  if (want_logprobs) {
    // Raw distribution: log-softmax of the sanitized logits, before any modification.
    log_z = static_cast<double>(max_value) +
            std::log(SumExpRow(work_.data(), vocab, max_value, 1.0f, isa_, nullptr));
    if (params.num_logprobs > 0) {
      TopKRow(work_.data(), vocab, params.num_logprobs, isa_, &cand_);
      result.top_logprobs.reserve(cand_.size());
      for (const Candidate& c : cand_) {
        result.top_logprobs.push_back(
            {c.id, static_cast<float>(static_cast<double>(c.value) - log_z)});
      }
    }
  }

  if (penalties) {
    RETURN_IF_ERROR(ApplyPenalties(work_, history, params.repetition_penalty,
                                   params.presence_penalty, params.frequency_penalty));
  }

  int64_t token = -1;
  const float inv_temperature = params.greedy() ? 0.0f : 1.0f / params.temperature;
  if (params.greedy() || !std::isfinite(inv_temperature)) {
    // A temperature so small that 1/T overflows is greedy in every practical sense.
    token = ArgmaxRow(work_.data(), vocab, isa_);
  } else {
    if (penalties) {
      const int64_t best = ArgmaxRow(work_.data(), vocab, isa_);
      max_value = best < 0 ? kNegInf : work_[static_cast<size_t>(best)];
    }
    if (max_value > kNegInf) {
      const double u = UniformDraw(params.seed, position);
      const bool top_k_on = params.top_k > 0 && params.top_k < vocab;
      const bool top_p_on = params.top_p < 1.0f;
      const bool min_p_on = params.min_p > 0.0f;
      cand_.clear();
      if (top_k_on) {
        TopKRow(work_.data(), vocab, params.top_k, isa_, &cand_);
        token = SampleCandidates(inv_temperature, params.top_p, 0.0, params.min_p, u);
      } else if (top_p_on) {
        const double full_mass =
            SumExpRow(work_.data(), vocab, max_value, inv_temperature, isa_, nullptr);
        const double wanted = static_cast<double>(params.top_p) * full_mass;
        bool enough = false;
        for (float cut : kNucleusCuts) {
          cand_.clear();
          CollectAtLeastRow(work_.data(), vocab, max_value + cut * params.temperature, isa_,
                            &cand_);
          double mass = 0.0;
          for (const Candidate& c : cand_) {
            mass += std::exp(static_cast<double>(c.value - max_value) * inv_temperature);
          }
          if (mass >= wanted) {
            enough = true;
            break;
          }
        }
        if (!enough) {
          cand_.clear();
          CollectAtLeastRow(work_.data(), vocab, -FLT_MAX, isa_, &cand_);
        }
        std::sort(cand_.begin(), cand_.end(), internal::CandidateBetter);
        token = SampleCandidates(inv_temperature, params.top_p, full_mass, params.min_p, u);
      } else if (min_p_on) {
        // Loose cut (exact filtering happens on the weights); min_p = 1 keeps the maximum.
        const float cut = max_value + params.temperature * std::log(params.min_p) - 1e-3f;
        CollectAtLeastRow(work_.data(), vocab, std::max(cut, -FLT_MAX), isa_, &cand_);
        std::sort(cand_.begin(), cand_.end(), internal::CandidateBetter);
        token = SampleCandidates(inv_temperature, 1.0f, 0.0, params.min_p, u);
      } else {
        token = SampleFullRow(max_value, inv_temperature, u);
      }
    }
  }
  if (token < 0) return InvalidArgument("no token can be sampled from the penalized logits");
  result.token = static_cast<int32_t>(token);
  if (want_logprobs) {
    result.has_logprobs = true;
    result.logprob = static_cast<float>(
        static_cast<double>(SanitizeOne(logits[static_cast<size_t>(token)])) - log_z);
  }
  return result;
}

int32_t Sampler::SampleFullRow(float max_value, float inv_temperature, double u) {
  const int64_t vocab = static_cast<int64_t>(work_.size());
  const double total =
      SumExpRow(work_.data(), vocab, max_value, inv_temperature, isa_, &block_sums_);
  const double target = u * total;
  // Find the block holding the target, then the token inside it.
  double cumulative = 0.0;
  size_t block = 0;
  for (; block + 1 < block_sums_.size(); ++block) {
    if (cumulative + block_sums_[block] > target) break;
    cumulative += block_sums_[block];
  }
  const int64_t begin = static_cast<int64_t>(block) * kSumExpBlock;
  const int64_t end = std::min(vocab, begin + kSumExpBlock);
  int32_t last_positive = -1;
  for (int64_t i = begin; i < end; ++i) {
    const double w = std::exp(static_cast<double>(work_[i] - max_value) * inv_temperature);
    if (w <= 0.0) continue;
    last_positive = static_cast<int32_t>(i);
    cumulative += w;
    if (cumulative > target) return last_positive;
  }
  if (last_positive >= 0) return last_positive;  // rounding between the two exp evaluations
  // The chosen block had no mass (rounding at a block edge): take the most likely token.
  return static_cast<int32_t>(ArgmaxRow(work_.data(), vocab, isa_));
}

int32_t Sampler::SampleCandidates(float inv_temperature, float top_p, double full_mass, float min_p,
                                  double u) {
  // Drop -inf candidates (top-k over a row with fewer than k finite values keeps none, but a
  // penalty can push FLT_MAX-scale values to -inf).
  while (!cand_.empty() && !(cand_.back().value > kNegInf)) cand_.pop_back();
  if (cand_.empty()) return -1;
  const float top_value = cand_.front().value;
  weights_.resize(cand_.size());
  double mass = 0.0;
  for (size_t i = 0; i < cand_.size(); ++i) {
    weights_[i] = std::exp(static_cast<double>(cand_[i].value - top_value) * inv_temperature);
    mass += weights_[i];
  }
  size_t kept = cand_.size();
  if (top_p < 1.0f) {
    // Smallest prefix whose probability is >= top_p (of the whole row, or of the top-k set).
    const double wanted = static_cast<double>(top_p) * (full_mass > 0.0 ? full_mass : mass);
    double cumulative = 0.0;
    for (size_t i = 0; i < cand_.size(); ++i) {
      cumulative += weights_[i];
      if (cumulative >= wanted) {
        kept = i + 1;
        break;
      }
    }
  }
  if (min_p > 0.0f) {
    // weights are relative to the most likely token (weight 1), so min_p compares directly.
    size_t n = 1;
    while (n < kept && weights_[n] >= static_cast<double>(min_p)) ++n;
    kept = n;
  }
  double kept_mass = 0.0;
  for (size_t i = 0; i < kept; ++i) kept_mass += weights_[i];
  const double target = u * kept_mass;
  double cumulative = 0.0;
  for (size_t i = 0; i < kept; ++i) {
    cumulative += weights_[i];
    if (cumulative > target) return cand_[i].id;
  }
  return cand_[kept - 1].id;
}

}  // namespace ocular::sampling
