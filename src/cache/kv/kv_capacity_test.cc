#include "cache/kv/kv_capacity.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace ocular::kv {
namespace {

TEST(KvCapacityTest, BytesPerTokenFollowsTheFormula) {
  // 2 (K, V) * 28 layers * 8 KV heads * 128 head dim * 2 bytes (bf16) = 114,688.
  const Result<uint64_t> bytes = KvBytesPerToken(28, 8, 128, 2);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, 114688u);
}

TEST(KvCapacityTest, BytesPerTokenRejectsZeroAndOverflow) {
  EXPECT_EQ(KvBytesPerToken(0, 8, 128, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBytesPerToken(28, 8, 0, 2).status().code(), StatusCode::kInvalidArgument);
  const uint64_t huge = uint64_t{1} << 40;
  EXPECT_EQ(KvBytesPerToken(huge, huge, 1, 1).status().code(), StatusCode::kOutOfRange);
}

TEST(KvCapacityTest, BlocksForBudgetRoundsDown) {
  // 1 GiB / (114,688 B * 16 tokens = 1,835,008 B per block) = 585.1... -> 585 blocks.
  const Result<int32_t> blocks = KvNumBlocksForBudget(uint64_t{1} << 30, 114688, 16);
  ASSERT_TRUE(blocks.ok());
  EXPECT_EQ(*blocks, 585);
  // Exactly one block fits.
  EXPECT_EQ(*KvNumBlocksForBudget(100 * 16, 100, 16), 1);
}

TEST(KvCapacityTest, BlocksForBudgetErrors) {
  EXPECT_EQ(KvNumBlocksForBudget(100 * 16 - 1, 100, 16).status().code(),
            StatusCode::kOutOfRange);  // less than one block
  EXPECT_EQ(KvNumBlocksForBudget(1 << 20, 0, 16).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvNumBlocksForBudget(1 << 20, 100, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvNumBlocksForBudget(UINT64_MAX, UINT64_MAX / 2, 16).status().code(),
            StatusCode::kOutOfRange);  // bytes per block overflow
}

TEST(KvCapacityTest, BlocksForHugeBudgetAreCapped) {
  const Result<int32_t> blocks = KvNumBlocksForBudget(UINT64_MAX, 1, 1);
  ASSERT_TRUE(blocks.ok());
  EXPECT_EQ(*blocks, std::numeric_limits<int32_t>::max());
}

}  // namespace
}  // namespace ocular::kv
