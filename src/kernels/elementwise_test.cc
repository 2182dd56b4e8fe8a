// Conversions, norms, activations and rotary on every dispatch path against the references.
// Each tolerance is derived in a comment from the kernel's arithmetic (u = f32 unit roundoff).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"

namespace ocular::kernels {
namespace {

using testing::kU32;

// Lengths around the lane counts (8 and 16) and odd sizes.
const int64_t kLengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1027};

class ElementwiseTest : public ::testing::TestWithParam<Isa> {
 protected:
  testing::PathContext pc_{GetParam()};
  std::mt19937 rng_{7};
};

// The attention's several-keys dot product: each output bit for bit the single dot product
// of the same path, for key counts around its group of four and odd lengths; and within the
// f32 rounding of a double-precision sum.
TEST_P(ElementwiseTest, DotKeysEqualsDotBitForBit) {
  const cpu::CpuKernels& kern = cpu::KernelsFor(pc_.ctx.isa());
  for (int64_t n : {1, 16, 37, 128, 130}) {
    const std::vector<float> q = testing::RandomFloats(rng_, n);
    std::vector<std::vector<float>> keys;
    std::vector<const float*> ptrs;
    for (int j = 0; j < 13; ++j) keys.push_back(testing::RandomFloats(rng_, n));
    for (const auto& k : keys) ptrs.push_back(k.data());
    for (int count : {0, 1, 3, 4, 5, 8, 13}) {
      std::vector<float> got(14, -7.0f);
      kern.dot_keys(q.data(), ptrs.data(), count, n, got.data());
      for (int j = 0; j < count; ++j) {
        const float want = kern.dot(q.data(), ptrs[j], n);
        ASSERT_EQ(0, std::memcmp(&got[j], &want, 4)) << "n " << n << " count " << count << " key " << j;
        double exact = 0;
        for (int64_t d = 0; d < n; ++d) exact += double(q[d]) * double(keys[j][d]);
        EXPECT_NEAR(got[j], exact, 2.0 * n * kU32 * n) << "n " << n;
      }
      EXPECT_EQ(got[count], -7.0f) << "wrote past count";
    }
  }
}

TEST_P(ElementwiseTest, ConversionsAreBitExact) {
  for (int64_t n : kLengths) {
    std::vector<float> x = testing::RandomFloats(rng_, n + 1, -70000.0f, 70000.0f);
    // Special values: ties, subnormals of both formats, infinities, NaN, signed zero.
    const float specials[] = {0.0f, -0.0f, 1.0f + 0x1p-8f, 1.0f + 0x1p-7f + 0x1p-8f, 1e-40f,
                              -3e-39f, 6e-8f, 3e-5f, 65519.0f, 65520.0f,
                              std::numeric_limits<float>::infinity(), -1e30f};
    for (int64_t i = 0; i < n && i < 12; ++i) x[i + 1] = specials[i];
    std::vector<uint16_t> a(n + 1), b(n + 1);
    ConvertF32ToBf16(pc_.ctx, x.data() + 1, a.data() + 1, n);
    ref::ConvertF32ToBf16(x.data() + 1, b.data() + 1, n);
    ASSERT_EQ(a, b) << "bf16 n=" << n;
    ConvertF32ToF16(pc_.ctx, x.data() + 1, a.data() + 1, n);
    ref::ConvertF32ToF16(x.data() + 1, b.data() + 1, n);
    ASSERT_EQ(a, b) << "f16 n=" << n;
    std::vector<float> r1(x), r2(x);
    RoundToBf16(pc_.ctx, r1.data() + 1, n);
    ref::RoundToBf16(r2.data() + 1, n);
    ASSERT_EQ(0, std::memcmp(r1.data(), r2.data(), r1.size() * 4)) << "round n=" << n;
  }
  // NaN stays NaN.
  float nan = std::numeric_limits<float>::quiet_NaN();
  uint16_t h = 0;
  ConvertF32ToBf16(pc_.ctx, &nan, &h, 1);
  EXPECT_TRUE(std::isnan(Bf16ToF32(h)));
  ConvertF32ToF16(pc_.ctx, &nan, &h, 1);
  EXPECT_TRUE(std::isnan(F16ToF32(h)));
}

TEST_P(ElementwiseTest, RmsNorm) {
  // sum of squares: relative error <= dim*u; the 1/sqrt adds <= (dim/2 + 2)u; two products
  // 2u: |err| <= (dim + 6) u |y|.
  for (int64_t dim : kLengths) {
    if (dim == 0) continue;
    const int64_t rows = 3;
    std::vector<float> x = testing::RandomFloats(rng_, rows * dim + 1, -4.0f, 4.0f);
    std::vector<float> w = testing::RandomFloats(rng_, dim);
    for (bool with_w : {true, false}) {
      std::vector<float> y(rows * dim + 1), want(rows * dim + 1);
      const float* wp = with_w ? w.data() : nullptr;
      RmsNorm(pc_.ctx, x.data() + 1, wp, 1e-6f, y.data() + 1, rows, dim);
      ref::RmsNorm(x.data() + 1, wp, 1e-6f, want.data() + 1, rows, dim);
      for (int64_t i = 1; i <= rows * dim; ++i) {
        ASSERT_NEAR(y[i], want[i], (dim + 6) * kU32 * std::fabs(want[i]) + 1e-37) << dim;
      }
      // In place gives the same result.
      std::vector<float> inplace(x);
      RmsNorm(pc_.ctx, inplace.data() + 1, wp, 1e-6f, inplace.data() + 1, rows, dim);
      ASSERT_EQ(0, std::memcmp(inplace.data() + 1, y.data() + 1, rows * dim * 4));
    }
  }
}

TEST_P(ElementwiseTest, LayerNorm) {
  // mean: |err| <= dim u mean|x|; variance of the centred values: relative (dim + 4)u plus
  // the mean's error; so |err_i| <= (2 dim + 8) u (|x_i - mean| + mean|x|) inv |w_i| + u|b_i|.
  for (int64_t dim : kLengths) {
    if (dim == 0) continue;
    const int64_t rows = 2;
    std::vector<float> x = testing::RandomFloats(rng_, rows * dim, 0.5f, 3.0f);
    std::vector<float> w = testing::RandomFloats(rng_, dim), b = testing::RandomFloats(rng_, dim);
    std::vector<float> y(rows * dim), want(rows * dim);
    LayerNorm(pc_.ctx, x.data(), w.data(), b.data(), 1e-6f, y.data(), rows, dim);
    ref::LayerNorm(x.data(), w.data(), b.data(), 1e-6f, want.data(), rows, dim);
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, mabs = 0, var = 0;
      for (int64_t i = 0; i < dim; ++i) mean += x[r * dim + i], mabs += std::fabs(x[r * dim + i]);
      mean /= dim;
      mabs /= dim;
      for (int64_t i = 0; i < dim; ++i) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
      const double inv = 1.0 / std::sqrt(var / dim + 1e-6);
      for (int64_t i = 0; i < dim; ++i) {
        const int64_t e = r * dim + i;
        const double tol = (2.0 * dim + 8) * kU32 * (std::fabs(x[e] - mean) + mabs) * inv *
                               std::fabs(w[i]) + 2 * kU32 * std::fabs(b[i]) + 1e-37;
        ASSERT_NEAR(y[e], want[e], tol) << dim;
      }
    }
  }
}

// Exp-based kernels: Exp has a few ulp of relative error (simd_body.h); a function of
// exp(a(x)) inherits |a| * (rounding of a) on top. Where Exp saturates (argument beyond
// +-87.3), the true result is below |x| e^-87.3 < 1.2e-38 |x|: that is the absolute floor.
double Floor(float x) { return 1.2e-38 * std::fabs(x) + 1e-38; }
TEST_P(ElementwiseTest, SoftmaxSwiGluGelu) {
  for (int64_t n : kLengths) {
    if (n == 0) continue;
    std::vector<float> x = testing::RandomFloats(rng_, n, -30.0f, 30.0f);
    std::vector<float> up = testing::RandomFloats(rng_, n, -2.0f, 2.0f);
    {  // softmax: exp of (x - max) with |x - max| <= 60: rel 60u + 8u; sum (n u); divide u.
      std::vector<float> a(x), b(x);
      Softmax(pc_.ctx, a.data(), n);
      ref::Softmax(b.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], (70.0 + n) * kU32 * b[i] + 1e-38);
    }
    {  // silu(g) * up: exp(-g) rel (|g| + 6)u, then 1 + e, divide, multiply: +4u.
      std::vector<float> a(n), b(n);
      SwiGlu(pc_.ctx, x.data(), up.data(), a.data(), n);
      ref::SwiGlu(x.data(), up.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_NEAR(a[i], b[i], (std::fabs(x[i]) + 10) * kU32 * std::fabs(b[i]) + Floor(x[i] * up[i])) << i;
      }
    }
    {  // gelu tanh = x / (1 + exp(-2u(x))): |2u(x)| (3u) from forming u, plus 10u.
      std::vector<float> a(x), b(x);
      GeluTanh(pc_.ctx, a.data(), n);
      ref::GeluTanh(b.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double v = x[i];
        const double arg = 2 * 0.7978845608 * std::fabs(v + 0.044715 * v * v * v);
        ASSERT_NEAR(a[i], b[i], (3 * arg + 10) * kU32 * std::fabs(b[i]) + Floor(x[i])) << v;
      }
    }
    {  // gelu erf via erfc fit: fit error 1.2e-7 relative, exponent z^2 + 2 formed with
       // ~3u relative error each, plus 12u of roundings.
      std::vector<float> a(x), b(x);
      GeluErf(pc_.ctx, a.data(), n);
      ref::GeluErf(b.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double z2 = 0.5 * double(x[i]) * x[i];
        ASSERT_NEAR(a[i], b[i], (1.2e-7 + (3 * (z2 + 2) + 12) * kU32) * std::fabs(b[i]) + Floor(x[i]))
            << x[i];
      }
    }
    {  // add and scale: exact per element (one rounding each, same as the reference).
      std::vector<float> a(x), b(x);
      AddInPlace(pc_.ctx, a.data(), up.data(), n);
      ref::AddInPlace(b.data(), up.data(), n);
      ASSERT_EQ(a, b);
      Scale(pc_.ctx, a.data(), 0.37f, n);
      ref::Scale(b.data(), 0.37f, n);
      ASSERT_EQ(a, b);
    }
  }
}

TEST_P(ElementwiseTest, GeluAndSiluKnownValues) {
  // Independent values: gelu_erf(1) = 0.5 (1 + erf(1/sqrt 2)) = 0.841344746...,
  // gelu_erf(-1) = -0.158655254, silu(1) = 1 / (1 + e^-1) = 0.731058579.
  float v[2] = {1.0f, -1.0f};
  GeluErf(pc_.ctx, v, 2);
  EXPECT_NEAR(v[0], 0.8413447460685429, 3e-7);
  EXPECT_NEAR(v[1], -0.15865525393145707, 3e-7);
  float g = 1.0f, u = 1.0f, out = 0.0f;
  SwiGlu(pc_.ctx, &g, &u, &out, 1);
  EXPECT_NEAR(out, 0.7310585786300049, 2e-7);
}

TEST_P(ElementwiseTest, RopeNeox) {
  // Two products and one add per output: |err| <= 3u (|a c| + |b s|).
  for (int head_dim : {2, 16, 64, 72, 128, 34}) {
    for (int rot_dim : {head_dim, head_dim / 2 / 2 * 2}) {
      const int64_t tokens = 5;
      const int heads = 3;
      const int64_t stride = heads * head_dim + 5;
      std::vector<float> x = testing::RandomFloats(rng_, tokens * stride);
      std::vector<float> ang = testing::RandomFloats(rng_, tokens * (rot_dim / 2), -50.0f, 50.0f);
      std::vector<float> c(ang.size()), s(ang.size());
      for (size_t i = 0; i < ang.size(); ++i) c[i] = std::cos(ang[i]), s[i] = std::sin(ang[i]);
      std::vector<float> a(x), b(x);
      RopeNeox(pc_.ctx, a.data(), tokens, heads, head_dim, stride, c.data(), s.data(), rot_dim);
      ref::RopeNeox(b.data(), tokens, heads, head_dim, stride, c.data(), s.data(), rot_dim);
      const int half = rot_dim / 2;
      for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t e = 0; e < stride; ++e) {
          const int64_t i = t * stride + e;
          const int h = static_cast<int>(e / head_dim), d = static_cast<int>(e % head_dim);
          if (h >= heads || d >= rot_dim) {
            ASSERT_EQ(a[i], x[i]) << "untouched element changed";
            continue;
          }
          const int p = d < half ? d : d - half;
          const int64_t base = t * stride + h * head_dim;
          const double mag = std::fabs(x[base + p] * c[t * half + p]) +
                             std::fabs(x[base + p + half] * s[t * half + p]) +
                             std::fabs(x[base + p + half] * c[t * half + p]) +
                             std::fabs(x[base + p] * s[t * half + p]);
          ASSERT_NEAR(a[i], b[i], 3 * kU32 * mag + 1e-38);
        }
      }
    }
  }
}

// Large inputs are split over the pool; every element or row is computed exactly as on one
// thread, so the results must be bit-identical to a one-thread context's (split boundaries
// change nothing), and they stay within the reference tolerances checked above.
TEST_P(ElementwiseTest, LargeInputsSplitOverThePoolGiveOneThreadResults) {
  testing::PathContext one(GetParam(), true, 1);
  const int64_t rows = 97, dim = 1031, n = rows * dim;
  std::vector<float> x = testing::RandomFloats(rng_, n, -4, 4), u = testing::RandomFloats(rng_, n);
  std::vector<float> w = testing::RandomFloats(rng_, dim), b = testing::RandomFloats(rng_, dim);
  auto both = [&](auto&& fn) {
    std::vector<float> a(x), c(x);
    fn(pc_.ctx, a);
    fn(one.ctx, c);
    ASSERT_EQ(0, std::memcmp(a.data(), c.data(), n * 4));
  };
  both([&](const ComputeContext& c, std::vector<float>& v) {
    RmsNorm(c, v.data(), w.data(), 1e-6f, v.data(), rows, dim);
  });
  both([&](const ComputeContext& c, std::vector<float>& v) {
    LayerNorm(c, v.data(), w.data(), b.data(), 1e-6f, v.data(), rows, dim);
  });
  both([&](const ComputeContext& c, std::vector<float>& v) { GeluErf(c, v.data(), n); });
  both([&](const ComputeContext& c, std::vector<float>& v) { GeluTanh(c, v.data(), n); });
  both([&](const ComputeContext& c, std::vector<float>& v) {
    SwiGlu(c, v.data(), u.data(), v.data(), n);
  });
  both([&](const ComputeContext& c, std::vector<float>& v) { AddInPlace(c, v.data(), u.data(), n); });
  std::vector<float> cs(rows * 8), sn(rows * 8);
  for (size_t i = 0; i < cs.size(); ++i) cs[i] = std::cos(0.1f * i), sn[i] = std::sin(0.1f * i);
  both([&](const ComputeContext& c, std::vector<float>& v) {
    RopeNeox(c, v.data(), rows, 1, dim, dim, cs.data(), sn.data(), 16);
  });
}

TEST(MropeTest, InterleavedSectionsPickTheSpecifiedAxis) {
  // Spec 4.2 with sections [24, 20, 20], head_dim 128, theta 5e6: slot i < 60 with i % 3 == 1
  // uses h, == 2 uses w, the rest (and 60..63) t. Expected angles from double arithmetic.
  const int sections[3] = {24, 20, 20};
  const int64_t pt[2] = {5, 0}, ph[2] = {7, 3}, pw[2] = {11, 1000};
  std::vector<float> c(2 * 64), s(2 * 64);
  MropeCosSin(pt, ph, pw, 2, 5e6f, 128, sections, c.data(), s.data());
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < 64; ++i) {
      int64_t pos = pt[t];
      if (i < 60 && i % 3 == 1) pos = ph[t];
      if (i < 60 && i % 3 == 2) pos = pw[t];
      const double angle = pos * std::pow(5e6, -2.0 * i / 128.0);
      // f32 inv_freq and product: relative angle error <= 4u.
      const double tol = 4 * kU32 * std::fabs(angle) + 2 * kU32;
      ASSERT_NEAR(c[t * 64 + i], std::cos(angle), tol) << t << " " << i;
      ASSERT_NEAR(s[t * 64 + i], std::sin(angle), tol) << t << " " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ElementwiseTest, ::testing::ValuesIn(testing::AvailableIsas()),
                         testing::IsaParamName);

}  // namespace
}  // namespace ocular::kernels
