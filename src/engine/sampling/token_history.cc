#include "engine/sampling/token_history.h"

namespace ocular::sampling {

TokenHistory::TokenHistory(std::span<const int32_t> prompt_tokens) {
  for (int32_t t : prompt_tokens) MarkSeen(t);
}

void TokenHistory::MarkSeen(int32_t token) {
  if (seen_.emplace(token, true).second) seen_list_.push_back(token);
}

void TokenHistory::AddOutput(int32_t token) {
  MarkSeen(token);
  int32_t& count = output_counts_[token];
  if (count == 0) output_list_.push_back(token);
  ++count;
}

int32_t TokenHistory::output_count(int32_t token) const {
  auto it = output_counts_.find(token);
  return it == output_counts_.end() ? 0 : it->second;
}

Status ApplyPenalties(std::span<float> logits, const TokenHistory& history,
                      float repetition_penalty, float presence_penalty, float frequency_penalty) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  auto in_range = [vocab](int32_t t) { return t >= 0 && t < vocab; };
  if (repetition_penalty != 1.0f) {
    for (int32_t t : history.seen_tokens()) {
      if (!in_range(t)) return InvalidArgument("token id outside the vocabulary");
      float& v = logits[static_cast<size_t>(t)];
      v = v > 0.0f ? v / repetition_penalty : v * repetition_penalty;
    }
  }
  if (presence_penalty != 0.0f || frequency_penalty != 0.0f) {
    for (int32_t t : history.output_tokens()) {
      if (!in_range(t)) return InvalidArgument("token id outside the vocabulary");
      const int32_t count = history.output_count(t);
      logits[static_cast<size_t>(t)] -=
          presence_penalty + frequency_penalty * static_cast<float>(count);
    }
  }
  return OkStatus();
}

}  // namespace ocular::sampling
