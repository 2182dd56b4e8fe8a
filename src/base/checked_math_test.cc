#include "base/checked_math.h"

#include <gtest/gtest.h>

#include <limits>

namespace ocular {
namespace {

TEST(CheckedMathTest, DetectsOverflow) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t out = 0;
  EXPECT_TRUE(CheckedAdd(1, 2, &out));
  EXPECT_EQ(out, 3u);
  EXPECT_FALSE(CheckedAdd(kMax, 1, &out));
  EXPECT_TRUE(CheckedMul(1ull << 31, 1ull << 32, &out));
  EXPECT_FALSE(CheckedMul(1ull << 32, 1ull << 32, &out));
  EXPECT_TRUE(CheckedProduct({2, 3, 7}, &out));
  EXPECT_EQ(out, 42u);
  EXPECT_FALSE(CheckedProduct({1ull << 20, 1ull << 20, 1ull << 20, 1ull << 20}, &out));
  EXPECT_TRUE(CheckedAlignUp(33, 32, &out));
  EXPECT_EQ(out, 64u);
  EXPECT_FALSE(CheckedAlignUp(kMax - 3, 32, &out));
  EXPECT_TRUE(IsPowerOfTwo(1));
  EXPECT_TRUE(IsPowerOfTwo(1 << 20));
  EXPECT_FALSE(IsPowerOfTwo(0));
  EXPECT_FALSE(IsPowerOfTwo(48));
}

}  // namespace
}  // namespace ocular
