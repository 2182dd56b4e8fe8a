#include "tensor/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/half.h"

namespace ocular {
namespace {

std::vector<float> RandomRow(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(QuantTest, Q8_0RoundTripWithinHalfStep) {
  auto x = RandomRow(256, 1);
  std::vector<BlockQ8_0> q(256 / 32);
  ref::QuantizeRowQ8_0(x.data(), q.data(), 256);
  std::vector<float> y(256);
  ref::DequantizeRow(DType::kQ8_0, q.data(), y.data(), 256);
  for (int b = 0; b < 8; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    float d = amax / 127.0f;
    // Error: half a quantisation step plus the f16 rounding of the scale (2^-11 relative).
    float tol = 0.5f * d + amax * std::ldexp(1.0f, -11) + 1e-7f;
    for (int j = 0; j < 32; ++j) EXPECT_NEAR(y[b * 32 + j], x[b * 32 + j], tol);
  }
}

TEST(QuantTest, Q4_0RoundTripWithinHalfStep) {
  auto x = RandomRow(128, 2);
  std::vector<BlockQ4_0> q(4);
  ref::QuantizeRowQ4_0(x.data(), q.data(), 128);
  std::vector<float> y(128);
  ref::DequantizeRow(DType::kQ4_0, q.data(), y.data(), 128);
  for (int b = 0; b < 4; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    float d = amax / 8.0f;
    // The grid is [-8d, 7d] oriented towards the largest magnitude: values of the other sign
    // beyond 7d clamp, so the worst case is one full step d (plus the f16 scale rounding).
    float tol = d + amax * std::ldexp(1.0f, -10) + 1e-6f;
    for (int j = 0; j < 32; ++j) EXPECT_NEAR(y[b * 32 + j], x[b * 32 + j], tol);
  }
}

// The k-quant writers against the format's decoder: each value within half of its
// sub-block's step, plus what rounding the sub-block scale to 6 (q4_k) or 8 (q6_k) bits
// against the f16 super-scale can cost at the ends of the range (15 or 31 half super-steps),
// plus the min's rounding (q4_k). Rows of sub-blocks of very different magnitude.
TEST(QuantTest, Q4_KRoundTripWithinStep) {
  auto x = RandomRow(512, 3);
  for (int i = 0; i < 512; ++i) x[i] *= (i / 32 % 3 == 0) ? 0.05f : 1.0f + 0.5f * float(i / 64);
  std::vector<BlockQ4_K> q(2);
  ref::QuantizeRowQ4_K(x.data(), q.data(), 512);
  std::vector<float> y(512);
  ref::DequantizeRow(DType::kQ4_K, q.data(), y.data(), 512);
  for (int b = 0; b < 2; ++b) {
    const float d = F16ToF32(q[b].d), dmin = F16ToF32(q[b].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, mn;
      ref::Q4KScaleMin(s, q[b].scales, &sc, &mn);
      float amax = 0;
      for (int c = 0; c < 32; ++c) amax = std::fmax(amax, std::fabs(x[256 * b + 32 * s + c]));
      const float tol = 0.5f * d * sc + 7.5f * d + 0.5f * dmin + amax * std::ldexp(1.0f, -10);
      for (int c = 0; c < 32; ++c) {
        const int i = 256 * b + 32 * s + c;
        EXPECT_NEAR(y[i], x[i], tol) << "block " << b << " sub-block " << s << " value " << c;
      }
    }
  }
}

TEST(QuantTest, Q6_KRoundTripWithinStep) {
  auto x = RandomRow(512, 4);
  for (int i = 0; i < 512; ++i) x[i] *= (i / 16 % 5 == 0) ? 0.02f : 1.0f + 0.25f * float(i / 64);
  std::vector<BlockQ6_K> q(2);
  ref::QuantizeRowQ6_K(x.data(), q.data(), 512);
  std::vector<float> y(512);
  ref::DequantizeRow(DType::kQ6_K, q.data(), y.data(), 512);
  for (int b = 0; b < 2; ++b) {
    const float d = F16ToF32(q[b].d);
    for (int s = 0; s < 16; ++s) {
      float amax = 0;
      for (int c = 0; c < 16; ++c) amax = std::fmax(amax, std::fabs(x[256 * b + 16 * s + c]));
      const float tol = 0.5f * d * q[b].scales[s] + 15.5f * d + amax * std::ldexp(1.0f, -10);
      for (int c = 0; c < 16; ++c) {
        const int i = 256 * b + 16 * s + c;
        EXPECT_NEAR(y[i], x[i], tol) << "block " << b << " sub-block " << s << " value " << c;
      }
    }
  }
}

// Hand-built blocks: values follow directly from the format definition.
TEST(QuantTest, Q4_KDecodesHandBuiltBlock) {
  BlockQ4_K b{};
  b.d = F32ToF16(0.5f);
  b.dmin = F32ToF16(0.25f);
  // Sub-block 0: scale 3, min 2. Sub-block 5: scale 17 (needs the high bits), min 33.
  b.scales[0] = 3;
  b.scales[4] = 2;
  // j = 5: scale = (q[9] & 0xF) | ((q[1] >> 6) << 4); min = (q[9] >> 4) | ((q[5] >> 6) << 4)
  b.scales[9] = static_cast<uint8_t>(1 | (1 << 4));
  b.scales[1] = static_cast<uint8_t>(1 << 6);
  b.scales[5] = static_cast<uint8_t>(2 << 6);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  std::vector<float> y(256);
  ref::DequantizeRow(DType::kQ4_K, &b, y.data(), 256);
  for (int l = 0; l < 32; ++l) EXPECT_FLOAT_EQ(y[l], 0.5f * 3 * (l % 16) - 0.25f * 2);
  // Sub-block 5 = high nibbles of bytes 64..95 (second half of the third 64-value group).
  for (int l = 0; l < 32; ++l) {
    EXPECT_FLOAT_EQ(y[160 + l], 0.5f * 17 * (15 - (64 + l) % 16) - 0.25f * 33);
  }
}

TEST(QuantTest, Q6_KDecodesHandBuiltBlock) {
  BlockQ6_K b{};
  b.d = F32ToF16(0.125f);
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s - 8);
  // Every quant = 32 + 5 -> value 5: low nibble 5, high bits 2 (binary 10 -> 32).
  for (int i = 0; i < 128; ++i) b.ql[i] = 0x55;
  for (int i = 0; i < 64; ++i) b.qh[i] = 0xAA;
  std::vector<float> y(256);
  ref::DequantizeRow(DType::kQ6_K, &b, y.data(), 256);
  for (int i = 0; i < 256; ++i) {
    // Value i sits in 16-value sub-block: half h = i/128, within half: r = i%128,
    // quarter qd = r/32, l = r%32 -> scale index 8*h + l/16 + 2*qd.
    int h = i / 128, r = i % 128, qd = r / 32, l = r % 32;
    int s = 8 * h + l / 16 + 2 * qd;
    EXPECT_FLOAT_EQ(y[i], 0.125f * (s - 8) * 5) << i;
  }
}

}  // namespace
}  // namespace ocular
