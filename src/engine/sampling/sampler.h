// Turns one logits row into one token: penalties -> temperature -> top-k -> top-p -> min-p ->
// a draw from the request's counter-based random stream (HF's processor order). Greedy is a
// single argmax pass; top-k, top-p and min-p never sort the whole vocabulary.
//
// Non-finite logits: NaN is treated as -inf (never chosen, probability 0, logprob -inf) and
// +inf as FLT_MAX (so +inf tokens share all the probability; greedy picks the lowest such id).
// A row with no value above -inf is an InvalidArgument (nothing can be sampled).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "engine/sampling/row_kernels.h"
#include "engine/sampling/sampling_params.h"
#include "engine/sampling/token_history.h"

namespace ocular::sampling {

struct TokenLogprob {
  int32_t token;
  float logprob;
};

struct SampleResult {
  int32_t token = -1;
  // Filled only when params.num_logprobs >= 0: log-softmax of the raw logits (no penalties,
  // temperature or filters) at `token`, and the num_logprobs most likely raw tokens
  // (most likely first, ties -> lower id).
  bool has_logprobs = false;
  float logprob = 0.0f;
  std::vector<TokenLogprob> top_logprobs;
};

// Holds scratch buffers (a vocab-sized copy of the row), so one Sampler serves many requests.
// Thread-compatible: use one per thread.
class Sampler {
 public:
  Sampler() : isa_(BestRowIsa()) {}
  explicit Sampler(RowIsa isa) : isa_(isa) {}

  // logits: [vocab], f32, the raw model output for this request's next token. `position` is the
  // index of the token being sampled in the request's output (0 for the first generated token);
  // together with params.seed it selects the random draw, so replaying a request reproduces it.
  Result<SampleResult> Sample(std::span<const float> logits, const SamplingParams& params,
                              const TokenHistory& history, uint64_t position);

 private:
  // Draws from the full distribution exp((work - max) / T) by inverse CDF over block sums.
  int32_t SampleFullRow(float max_value, float inv_temperature, double u);
  // Filters sorted candidates by top-p and min-p, then draws one. The nucleus is measured
  // against `full_mass` (the whole row's exp-sum) when > 0, else against the candidates' own
  // mass (top-k ran first, so top-p renormalizes over the k kept tokens as HF does).
  // Requires cand_ sorted best first and non-empty.
  int32_t SampleCandidates(float inv_temperature, float top_p, double full_mass, float min_p,
                           double u);

  RowIsa isa_;
  std::vector<float> work_;         // [vocab], f32: sanitized, penalized logits
  std::vector<Candidate> cand_;     // [num_candidates]: kept tokens, best first
  std::vector<double> weights_;     // [num_candidates], f64: exp((value - max) / T)
  std::vector<double> block_sums_;  // [ceil(vocab / kSumExpBlock)], f64
};

}  // namespace ocular::sampling
