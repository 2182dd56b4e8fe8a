#include "engine/sampling/philox.h"

#include <gtest/gtest.h>

namespace ocular::sampling {
namespace {

// Known-answer vectors of Random123's tests/kat_vectors ("philox4x32 10" lines):
// counter[4], key[2] -> output[4].
TEST(PhiloxTest, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(Philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(Philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                          {0xffffffffu, 0xffffffffu}),
            (PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(Philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                          {0xa4093822u, 0x299f31d0u}),
            (PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(PhiloxTest, UniformDrawIsInUnitIntervalAndDependsOnSeedAndPosition) {
  double sum = 0.0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = UniformDraw(7, static_cast<uint64_t>(i));
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Mean of U(0,1) has standard deviation sqrt(1/12 / n) ~ 9.1e-4; allow 6 sigma.
  EXPECT_NEAR(sum / kDraws, 0.5, 6 * 9.2e-4);
  EXPECT_EQ(UniformDraw(7, 3), UniformDraw(7, 3));
  EXPECT_NE(UniformDraw(7, 3), UniformDraw(8, 3));
  EXPECT_NE(UniformDraw(7, 3), UniformDraw(7, 4));
  EXPECT_NE(UniformDraw(7, 3), UniformDraw(7, 3 + (uint64_t{1} << 32)));  // high counter word
}

}  // namespace
}  // namespace ocular::sampling
