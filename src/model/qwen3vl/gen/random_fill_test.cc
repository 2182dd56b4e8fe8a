#include "model/qwen3vl/gen/random_fill.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "tensor/quant.h"

namespace ocular::qwen3vl::gen {
namespace {

TEST(RandomFillTest, MomentsMatchTheRule) {
  const size_t n = 1 << 20;
  std::vector<float> v(n);
  FillF32(7, 3, {1.0f, 0.05f}, 0, v);
  double sum = 0, sum2 = 0;
  float lo = v[0], hi = v[0];
  for (float x : v) {
    sum += x;
    sum2 += double(x) * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  // Standard error of the mean: 0.05 / sqrt(n) ~ 5e-5; allow 6 of them.
  EXPECT_NEAR(mean, 1.0, 6 * 0.05 / std::sqrt(double(n)));
  // Variance of the sample variance ~ 2 sigma^4 / n (kurtosis of Irwin-Hall(4) is lower).
  EXPECT_NEAR(var, 0.0025, 6 * 0.0025 * std::sqrt(2.0 / n));
  // Irwin-Hall(4) is bounded at +-sqrt(12) sigma.
  EXPECT_GE(lo, 1.0f - 3.47f * 0.05f);
  EXPECT_LE(hi, 1.0f + 3.47f * 0.05f);
}

TEST(RandomFillTest, ChunkingDoesNotChangeValues) {
  std::vector<float> whole(1000), parts(1000);
  FillF32(42, 9, {0.0f, 1.0f}, 0, whole);
  FillF32(42, 9, {0.0f, 1.0f}, 0, std::span<float>(parts.data(), 333));
  FillF32(42, 9, {0.0f, 1.0f}, 333, std::span<float>(parts.data() + 333, 667));
  EXPECT_EQ(whole, parts);
  std::vector<float> other_seed(1000), other_tensor(1000);
  FillF32(43, 9, {0.0f, 1.0f}, 0, other_seed);
  FillF32(42, 10, {0.0f, 1.0f}, 0, other_tensor);
  EXPECT_NE(whole, other_seed);
  EXPECT_NE(whole, other_tensor);
}

TEST(RandomFillTest, StreamIsIndependentOfThreadsAndChunks) {
  auto run = [](int threads, uint64_t chunk_bytes, DType dtype) {
    ThreadPool pool(threads);
    std::vector<uint8_t> out;
    Status s = StreamTensor(pool, 5, 2, {0.0f, 0.1f}, 64 * 96, 64, dtype, chunk_bytes,
                            [&](std::span<const uint8_t> b) {
                              out.insert(out.end(), b.begin(), b.end());
                              return OkStatus();
                            });
    EXPECT_TRUE(s.ok());
    return out;
  };
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    SCOPED_TRACE(DTypeName(dtype));
    std::vector<uint8_t> a = run(1, 1 << 20, dtype);
    uint64_t expected_bytes = 0;
    ASSERT_TRUE(DTypeBytes(dtype, 64 * 96, &expected_bytes));
    EXPECT_EQ(a.size(), expected_bytes);
    EXPECT_EQ(a, run(2, 256 * 7, dtype));  // 7 rows per chunk: uneven split
    EXPECT_EQ(a, run(2, 1, dtype));        // one row per chunk
  }
  // The k-quants (256-value rows) likewise.
  for (DType dtype : {DType::kQ4_K, DType::kQ6_K}) {
    SCOPED_TRACE(DTypeName(dtype));
    auto run_k = [&](int threads, uint64_t chunk_bytes) {
      ThreadPool pool(threads);
      std::vector<uint8_t> out;
      EXPECT_TRUE(StreamTensor(pool, 5, 2, {0.0f, 0.1f}, 256 * 9, 256, dtype, chunk_bytes,
                               [&](std::span<const uint8_t> b) {
                                 out.insert(out.end(), b.begin(), b.end());
                                 return OkStatus();
                               }).ok());
      return out;
    };
    std::vector<uint8_t> a = run_k(1, 1 << 20);
    uint64_t expected_bytes = 0;
    ASSERT_TRUE(DTypeBytes(dtype, 256 * 9, &expected_bytes));
    EXPECT_EQ(a.size(), expected_bytes);
    EXPECT_EQ(a, run_k(2, 1024 * 4));
  }
  // q8_0 output dequantizes to the f32 values within half a quantization step.
  std::vector<uint8_t> f32 = run(1, 1 << 20, DType::kF32), q8 = run(1, 1 << 20, DType::kQ8_0);
  std::vector<float> deq(64 * 96);
  ref::DequantizeRow(DType::kQ8_0, q8.data(), deq.data(), 64 * 96);
  const float* ref = reinterpret_cast<const float*>(f32.data());
  for (int b = 0; b < 64 * 96 / 32; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::abs(ref[b * 32 + i]));
    for (int i = 0; i < 32; ++i) {
      // Half a step, plus the f16 rounding of the block scale (2^-11 relative) times 127.
      ASSERT_NEAR(deq[b * 32 + i], ref[b * 32 + i], amax / 127 * (0.5f + 127 * 0x1p-11f) + 1e-6f);
    }
  }
}

TEST(RandomFillTest, FastQ8_0MatchesTheReferenceBitForBit) {
  std::vector<float> x(32 * 4096);
  FillF32(11, 1, {0.0f, 0.3f}, 0, x);
  // Hand-made blocks: exact halves (amax 127 -> scale 1), zeros, one outlier, small values.
  for (int j = 0; j < 32; ++j) {
    x[j] = (j == 0 ? 127.0f : static_cast<float>(j) - 15.5f);
    x[32 + j] = 0.0f;
    x[64 + j] = j == 5 ? 1e4f : static_cast<float>(j);
    x[96 + j] = (j % 2 ? 1 : -1) * 1e-4f * static_cast<float>(j);
    x[128 + j] = j == 0 ? -127.0f : static_cast<float>(j) * 0.5f - 7.5f;
  }
  std::vector<BlockQ8_0> a(x.size() / 32), b(x.size() / 32);
  ref::QuantizeRowQ8_0(x.data(), a.data(), static_cast<int64_t>(x.size()));
  QuantizeRowQ8_0Fast(x.data(), b.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(BlockQ8_0)), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].d, b[i].d) << i;
    for (int j = 0; j < 32; ++j) ASSERT_EQ(a[i].qs[j], b[i].qs[j]) << i << " " << j;
  }
}

}  // namespace
}  // namespace ocular::qwen3vl::gen
