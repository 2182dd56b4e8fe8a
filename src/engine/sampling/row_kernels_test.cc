// Every row kernel against a plain reference, on every ISA this CPU has, for lengths around the
// vector widths (8 lanes, 16 per step, 32 per argmax step, 64 per exp block) and misaligned rows.
#include "engine/sampling/row_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace ocular::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<RowIsa> Isas() {
  std::vector<RowIsa> isas = {RowIsa::kScalar};
  if (BestRowIsa() == RowIsa::kAvx2) isas.push_back(RowIsa::kAvx2);
  return isas;
}

const int64_t kLengths[] = {0,  1,  2,  7,  8,  9,  15,  16,   17,
                            31, 32, 33, 63, 64, 65, 100, 1000, 151936};

// A row with duplicates (values on a coarse grid), some -inf, and (optionally) NaN / +inf.
std::vector<float> MakeRow(int64_t n, uint32_t seed, bool specials) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> grid(-40, 40);
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<float> row(static_cast<size_t>(n) + 1);  // +1: room for a misaligned view
  for (auto& v : row) {
    v = static_cast<float>(grid(rng)) * 0.25f;
    const int p = pick(rng);
    if (p < 3) v = -kInf;
    if (specials && p == 3) v = kNaN;
    if (specials && p == 4 && n > 1000) v = kInf;
  }
  return row;
}

int64_t ReferenceArgmax(const float* v, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(v[i]) || v[i] == -kInf) continue;
    if (best < 0 || v[i] > v[best]) best = i;
  }
  return best;
}

TEST(RowKernelsTest, ArgmaxMatchesReferenceWithTiesNaNAndInf) {
  for (RowIsa isa : Isas()) {
    for (int64_t n : kLengths) {
      for (int offset = 0; offset < 2; ++offset) {
        std::vector<float> row = MakeRow(n, static_cast<uint32_t>(n * 2 + offset), true);
        const float* v = row.data() + offset;
        EXPECT_EQ(ArgmaxRow(v, n, isa), ReferenceArgmax(v, n))
            << "isa " << static_cast<int>(isa) << " n " << n << " offset " << offset;
      }
    }
    // Ties in different vector lanes and accumulators: the lowest index wins.
    std::vector<float> tie(200, 0.0f);
    tie[150] = 5.0f;
    tie[37] = 5.0f;
    tie[90] = 5.0f;
    EXPECT_EQ(ArgmaxRow(tie.data(), 200, isa), 37);
    std::vector<float> all_bad = {kNaN, -kInf, kNaN};
    EXPECT_EQ(ArgmaxRow(all_bad.data(), 3, isa), -1);
    EXPECT_EQ(ArgmaxRow(all_bad.data(), 0, isa), -1);
  }
}

TEST(RowKernelsTest, SanitizeCopyMatchesReference) {
  for (RowIsa isa : Isas()) {
    for (int64_t n : kLengths) {
      std::vector<float> row = MakeRow(n, static_cast<uint32_t>(n + 5), true);
      std::vector<float> out(static_cast<size_t>(n) + 1);
      const float max_value = SanitizeCopyRow(row.data() + 1, out.data(), n, isa);
      float want_max = -kInf;
      for (int64_t i = 0; i < n; ++i) {
        float want = row[i + 1];
        if (std::isnan(want)) want = -kInf;
        if (want == kInf) want = FLT_MAX;
        ASSERT_EQ(out[i], want) << "n " << n << " i " << i;
        want_max = std::max(want_max, want);
      }
      EXPECT_EQ(max_value, want_max) << "n " << n;
    }
  }
}

TEST(RowKernelsTest, TopKMatchesFullSort) {
  for (RowIsa isa : Isas()) {
    for (int64_t n : kLengths) {
      std::vector<float> row = MakeRow(n, static_cast<uint32_t>(n + 11), false);
      const float* v = row.data() + 1;
      std::vector<Candidate> sorted;
      for (int64_t i = 0; i < n; ++i) {
        if (v[i] > -kInf) sorted.push_back({v[i], static_cast<int32_t>(i)});
      }
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const Candidate& a, const Candidate& b) { return a.value > b.value; });
      for (int64_t k : {int64_t{1}, int64_t{5}, int64_t{20}, n, n + 3}) {
        std::vector<Candidate> got;
        TopKRow(v, n, k, isa, &got);
        const size_t want = std::min(static_cast<size_t>(std::max<int64_t>(k, 0)), sorted.size());
        ASSERT_EQ(got.size(), want) << "n " << n << " k " << k;
        for (size_t i = 0; i < want; ++i) {
          ASSERT_EQ(got[i].id, sorted[i].id) << "n " << n << " k " << k << " rank " << i;
          ASSERT_EQ(got[i].value, sorted[i].value);
        }
      }
    }
  }
}

TEST(RowKernelsTest, CollectAtLeastMatchesFilter) {
  for (RowIsa isa : Isas()) {
    for (int64_t n : kLengths) {
      std::vector<float> row = MakeRow(n, static_cast<uint32_t>(n + 17), false);
      for (float threshold : {-FLT_MAX, -1.0f, 0.0f, 7.5f, 100.0f}) {
        std::vector<Candidate> got;
        CollectAtLeastRow(row.data() + 1, n, threshold, isa, &got);
        std::vector<int32_t> want;
        for (int64_t i = 0; i < n; ++i) {
          if (row[i + 1] >= threshold) want.push_back(static_cast<int32_t>(i));
        }
        ASSERT_EQ(got.size(), want.size()) << "n " << n;
        for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i].id, want[i]);
      }
    }
  }
}

// Tolerance: the AVX2 exp has a relative error of a few float ulps (Cephes polynomial,
// ~2^-22), and each 64-term block is summed in float in 8 lanes of 8 terms plus a tree of 3
// levels: about 11 roundings of 2^-24 relative each. 2^-22 + 11 * 2^-24 ~ 9e-7; allow 2e-6.
constexpr double kSumExpRelTol = 2e-6;

TEST(RowKernelsTest, SumExpMatchesDoubleReference) {
  for (RowIsa isa : Isas()) {
    for (int64_t n : kLengths) {
      std::vector<float> row = MakeRow(n, static_cast<uint32_t>(n + 23), false);
      const float* v = row.data() + 1;
      float shift = -kInf;
      for (int64_t i = 0; i < n; ++i) shift = std::max(shift, v[i]);
      if (n == 0) shift = 0.0f;
      for (float scale : {1.0f, 1.0f / 0.7f, 3.0f}) {
        std::vector<double> blocks;
        const double got = SumExpRow(v, n, shift, scale, isa, &blocks);
        double want = 0.0;
        std::vector<double> want_blocks;
        for (int64_t i = 0; i < n; ++i) {
          if (i % kSumExpBlock == 0) want_blocks.push_back(0.0);
          const double term = std::exp((static_cast<double>(v[i]) - shift) * scale);
          want += term;
          want_blocks.back() += term;
        }
        EXPECT_NEAR(got, want, kSumExpRelTol * want + 1e-300) << "n " << n << " scale " << scale;
        ASSERT_EQ(blocks.size(), want_blocks.size());
        for (size_t b = 0; b < blocks.size(); ++b) {
          ASSERT_NEAR(blocks[b], want_blocks[b], kSumExpRelTol * want_blocks[b] + 1e-300);
        }
      }
    }
  }
}

TEST(RowKernelsTest, SumExpAcrossTheWholeExponentRange) {
  // 64 equal terms per call probe the exp at one argument: t from 0 down past underflow.
  for (RowIsa isa : Isas()) {
    for (double t = 0.0; t >= -100.0; t -= 0.37) {
      std::vector<float> block(64, static_cast<float>(t));
      const double got = SumExpRow(block.data(), 64, 0.0f, 1.0f, isa, nullptr);
      const double want = 64.0 * std::exp(static_cast<double>(static_cast<float>(t)));
      if (t < -87.0) {
        // Below -87 the vector exp flushes to 0 (terms < 1.7e-38 of the largest one).
        EXPECT_LE(got, want * (1.0 + kSumExpRelTol)) << t;
      } else {
        EXPECT_NEAR(got, want, kSumExpRelTol * want) << t;
      }
    }
  }
}

}  // namespace
}  // namespace ocular::sampling
