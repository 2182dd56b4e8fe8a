#include "tensor/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ocular {
namespace {

// The hardware conversion (F16C / AVX512-FP16 via _Float16) is an independent reference.
TEST(HalfTest, F16RoundTripsEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = F16ToF32(static_cast<uint16_t>(h));
    _Float16 hw;
    uint16_t hbits = static_cast<uint16_t>(h);
    std::memcpy(&hw, &hbits, 2);
    float ref = static_cast<float>(hw);
    if (std::isnan(ref)) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    ASSERT_EQ(F32Bits(f), F32Bits(ref)) << "h=" << h;
    ASSERT_EQ(F32ToF16(f), h) << "h=" << h;
  }
}

TEST(HalfTest, F32ToF16MatchesCompilerRounding) {
  // Sweep many f32 bit patterns including ties, subnormals and overflow.
  for (uint64_t u = 0; u < (1ull << 32); u += 65521) {
    float f = F32FromBits(static_cast<uint32_t>(u));
    if (std::isnan(f)) continue;
    _Float16 hw = static_cast<_Float16>(f);
    uint16_t ref;
    std::memcpy(&ref, &hw, 2);
    ASSERT_EQ(F32ToF16(f), ref) << "u=" << u;
  }
}

TEST(HalfTest, Bf16RoundsToNearestEven) {
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBf16(F32FromBits(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(F32ToBf16(F32FromBits(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(F32ToBf16(F32FromBits(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(Bf16ToF32(F32ToBf16(-2.5f)), -2.5f);
  // Every bf16 value round-trips.
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = Bf16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(F32ToBf16(f), h);
  }
}

}  // namespace
}  // namespace ocular
