#include "engine/sampling/sampling_params.h"

#include <cmath>
#include <string>

namespace ocular::sampling {

Status ValidateSamplingParams(const SamplingParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f) {
    return InvalidArgument("temperature must be a finite number >= 0");
  }
  if (p.top_k < -1) return InvalidArgument("top_k must be -1, 0 (off) or positive");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) return InvalidArgument("top_p must be in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) return InvalidArgument("min_p must be in [0, 1]");
  if (!std::isfinite(p.repetition_penalty) || p.repetition_penalty <= 0.0f) {
    return InvalidArgument("repetition_penalty must be a finite number > 0");
  }
  if (!(std::fabs(p.presence_penalty) <= 2.0f)) {
    return InvalidArgument("presence_penalty must be in [-2, 2]");
  }
  if (!(std::fabs(p.frequency_penalty) <= 2.0f)) {
    return InvalidArgument("frequency_penalty must be in [-2, 2]");
  }
  if (p.num_logprobs < -1 || p.num_logprobs > kMaxTopLogprobs) {
    return InvalidArgument("top_logprobs must be in [0, " + std::to_string(kMaxTopLogprobs) + "]");
  }
  return OkStatus();
}

SamplingParams ResolveSamplingParams(const GenerationDefaults& d, const SamplingOverrides& r,
                                     uint64_t fallback_seed) {
  SamplingParams p;
  if (d.temperature) p.temperature = *d.temperature;
  if (d.do_sample.has_value() && !*d.do_sample) p.temperature = 0.0f;
  if (d.top_p) p.top_p = *d.top_p;
  if (d.top_k) p.top_k = *d.top_k;
  if (d.repetition_penalty) p.repetition_penalty = *d.repetition_penalty;
  if (d.presence_penalty) p.presence_penalty = *d.presence_penalty;

  if (r.temperature) p.temperature = *r.temperature;
  if (r.top_k) p.top_k = *r.top_k;
  if (r.top_p) p.top_p = *r.top_p;
  if (r.min_p) p.min_p = *r.min_p;
  if (r.repetition_penalty) p.repetition_penalty = *r.repetition_penalty;
  if (r.presence_penalty) p.presence_penalty = *r.presence_penalty;
  if (r.frequency_penalty) p.frequency_penalty = *r.frequency_penalty;
  if (r.num_logprobs) p.num_logprobs = *r.num_logprobs;
  p.seed = r.seed.value_or(fallback_seed);
  return p;
}

}  // namespace ocular::sampling
