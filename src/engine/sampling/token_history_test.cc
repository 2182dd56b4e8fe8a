#include "engine/sampling/token_history.h"

#include <gtest/gtest.h>

#include <vector>

namespace ocular::sampling {
namespace {

TEST(TokenHistoryTest, TracksSeenAndOutputCounts) {
  const std::vector<int32_t> prompt = {4, 1, 4};
  TokenHistory h(prompt);
  h.AddOutput(2);
  h.AddOutput(4);
  h.AddOutput(2);
  EXPECT_EQ(std::vector<int32_t>(h.seen_tokens().begin(), h.seen_tokens().end()),
            (std::vector<int32_t>{4, 1, 2}));
  EXPECT_EQ(std::vector<int32_t>(h.output_tokens().begin(), h.output_tokens().end()),
            (std::vector<int32_t>{2, 4}));
  EXPECT_EQ(h.output_count(2), 2);
  EXPECT_EQ(h.output_count(4), 1);
  EXPECT_EQ(h.output_count(1), 0);  // prompt-only tokens have no output count
}

// Hand-computed: logits [2, -1, 0.5, 3, -2], prompt {0, 1}, output {3, 3, 4}.
// Repetition 2 on seen {0,1,3,4}: 2 -> 1, -1 -> -2, 3 -> 1.5, -2 -> -4 (token 2 unseen: 0.5).
// Presence 0.5 + frequency 0.25 * count on outputs: token 3 (x2): 1.5 - 0.5 - 0.5 = 0.5;
// token 4 (x1): -4 - 0.5 - 0.25 = -4.75.
TEST(TokenHistoryTest, AppliesHfRepetitionThenOpenAiPenalties) {
  const std::vector<int32_t> prompt = {0, 1};
  TokenHistory h(prompt);
  for (int32_t t : {3, 3, 4}) h.AddOutput(t);
  std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f, -2.0f};
  ASSERT_TRUE(ApplyPenalties(logits, h, 2.0f, 0.5f, 0.25f).ok());
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -2.0f, 0.5f, 0.5f, -4.75f}));
}

TEST(TokenHistoryTest, RepetitionPenaltyBelowOneBoostsAndZeroStaysZero) {
  const std::vector<int32_t> prompt = {0, 1, 2};
  TokenHistory h(prompt);
  std::vector<float> logits = {2.0f, -1.0f, 0.0f};
  ASSERT_TRUE(ApplyPenalties(logits, h, 0.5f, 0.0f, 0.0f).ok());
  EXPECT_EQ(logits, (std::vector<float>{4.0f, -0.5f, 0.0f}));
}

TEST(TokenHistoryTest, NeutralPenaltiesChangeNothingAndBadIdsAreRejected) {
  const std::vector<int32_t> prompt = {0, 7};
  TokenHistory h(prompt);
  std::vector<float> logits = {1.0f, 2.0f};
  ASSERT_TRUE(ApplyPenalties(logits, h, 1.0f, 0.0f, 0.0f).ok());
  EXPECT_EQ(logits, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(ApplyPenalties(logits, h, 1.3f, 0.0f, 0.0f).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ocular::sampling
