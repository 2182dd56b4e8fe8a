// The per-request token statistics that penalties need, kept incrementally so a decode step
// costs O(distinct tokens), not O(sequence length). Thread-compatible (one owner: the request).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace ocular::sampling {

class TokenHistory {
 public:
  TokenHistory() = default;
  explicit TokenHistory(std::span<const int32_t> prompt_tokens);

  // Records one generated token (call after every sampled token).
  void AddOutput(int32_t token);

  // Distinct tokens of prompt + output, in first-seen order (repetition penalty).
  std::span<const int32_t> seen_tokens() const { return seen_list_; }
  // Distinct generated tokens in first-seen order, and count_of_output(token) for each.
  std::span<const int32_t> output_tokens() const { return output_list_; }
  int32_t output_count(int32_t token) const;

 private:
  void MarkSeen(int32_t token);

  std::vector<int32_t> seen_list_;
  std::unordered_map<int32_t, bool> seen_;  // token -> true (set semantics)
  std::vector<int32_t> output_list_;
  std::unordered_map<int32_t, int32_t> output_counts_;  // token -> times generated
};

// Applies repetition, then presence and frequency penalties in place to logits ([vocab], f32).
// InvalidArgument if the history holds a token id outside [0, vocab). No-op for neutral values.
Status ApplyPenalties(std::span<float> logits, const TokenHistory& history,
                      float repetition_penalty, float presence_penalty, float frequency_penalty);

}  // namespace ocular::sampling
