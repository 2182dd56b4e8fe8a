// Test helper: logits of a fixed 6-token prompt and two decode steps of a model,
// for tests that compare one model (precision, placement, weight type) against another.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "model/qwen3vl/model.h"
#include "model/qwen3vl/sequence.h"

namespace ocular::qwen3vl::testing {

// [3, vocab]: after the prompt, then after tokens 5 and 6.
inline std::vector<float> PromptAndTwoSteps(Qwen3VLModel& model) {
  SequenceRunner seq(model, 32);
  const std::vector<int32_t> ids = {11, 42, 7, 99, 3, 250};
  std::vector<int64_t> pos(ids.size());
  std::iota(pos.begin(), pos.end(), 0);
  std::vector<float> logits, all;
  EXPECT_TRUE(seq.Prefill(ids, pos.data(), pos.data(), pos.data(), {}, &logits).ok());
  all = logits;
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(seq.Step(5 + i, static_cast<int64_t>(ids.size()) + i, &logits).ok());
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

}  // namespace ocular::qwen3vl::testing
