// Per-request sampling parameters, their validation, and how they are resolved from a model's
// generation_config.json defaults plus the request's own values.
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"

namespace ocular::sampling {

// Largest number of top alternatives a request may ask for (OpenAI's top_logprobs limit).
constexpr int32_t kMaxTopLogprobs = 20;

struct SamplingParams {
  // 0 = greedy (argmax, ties -> lowest id). Otherwise logits are divided by it.
  float temperature = 1.0f;
  // Keep the k most likely tokens; 0 or -1 = off. k >= vocab is the same as off.
  int32_t top_k = 0;
  // Nucleus: keep the smallest most-likely set whose probability is >= top_p; 1 = off.
  float top_p = 1.0f;
  // Keep tokens whose probability is >= min_p * (probability of the most likely token); 0 = off.
  float min_p = 0.0f;
  // HF semantics over tokens seen in prompt + output: logit > 0 ? logit / p : logit * p.
  float repetition_penalty = 1.0f;
  // OpenAI semantics over generated tokens: logit -= presence * (count > 0) + frequency * count.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // Key of the request's random stream; the engine draws one at admission when the request has
  // none, so every request is reproducible from its recorded seed.
  uint64_t seed = 0;
  // -1 = no logprobs; 0 = logprob of the chosen token only; N = also the N most likely tokens.
  // Reported from the raw model distribution (log-softmax of the unmodified logits, before
  // penalties, temperature and filtering), like vLLM's default "raw_logprobs" mode.
  int32_t num_logprobs = -1;

  bool greedy() const { return temperature == 0.0f || top_k == 1; }
};

// InvalidArgument for out-of-range values (temperature < 0 or non-finite, top_p outside (0, 1],
// min_p outside [0, 1], repetition_penalty <= 0, |presence|, |frequency| > 2, top_k < -1,
// num_logprobs outside [-1, kMaxTopLogprobs]).
Status ValidateSamplingParams(const SamplingParams& params);

// The sampling fields of a model's generation_config.json; absent fields stay unset. Parsing the
// file is the loader's job; this is the plain-value hand-off.
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<float> repetition_penalty;
  std::optional<float> presence_penalty;
};

// The values a request set explicitly (API fields); unset ones fall back to the defaults.
struct SamplingOverrides {
  std::optional<float> temperature;
  std::optional<int32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<float> presence_penalty;
  std::optional<float> frequency_penalty;
  std::optional<uint64_t> seed;
  std::optional<int32_t> num_logprobs;
};

// Precedence: request > generation_config.json > SamplingParams' built-in values. A config with
// do_sample == false makes greedy the default (HF behaviour) unless the request sets a
// temperature. `fallback_seed` is used when the request has no seed. Not validated: call
// ValidateSamplingParams on the result.
SamplingParams ResolveSamplingParams(const GenerationDefaults& defaults,
                                     const SamplingOverrides& request, uint64_t fallback_seed);

}  // namespace ocular::sampling
