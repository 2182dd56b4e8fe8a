// MatMul / GEMV / GatherRows / DequantizeRow on every dispatch path against the references.
// Tolerance for y[i, j]: (k + 4) * u_f32 * S_ij where S_ij = sum_c |x_ic w_jc| + |b_j| (the
// standard bound of a reordered f32 dot product; dequantized weights are bit-identical to the
// reference's), plus 2 * u_bf16 * S_ij when activations and weights are rounded to bf16.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <span>
#include <vector>

#include "base/aligned_buffer.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gemv_bf16.h"
#include "kernels/kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

using testing::kU32;
using testing::kUBf16;

// Weight storage in one dtype, built from random data; `offset` elements (plain dtypes, whose
// rows must be element-aligned) or bytes (block dtypes) of leading padding misalign the data.
struct TestWeight {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

TestWeight MakeWeight(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng, int offset) {
  TestWeight t;
  uint64_t row_bytes = 0;
  EXPECT_TRUE(DTypeBytes(dtype, static_cast<uint64_t>(cols), &row_bytes));
  if (!GetDTypeInfo(dtype).quantized) offset *= static_cast<int>(GetDTypeInfo(dtype).block_bytes);
  t.bytes.resize(offset + row_bytes * rows + 1);
  uint8_t* base = t.bytes.data() + offset;
  std::vector<float> f = testing::RandomFloats(rng, cols);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int64_t r = 0; r < rows; ++r) {
    f = testing::RandomFloats(rng, cols);
    uint8_t* row = base + r * row_bytes;
    switch (dtype) {
      case DType::kF32: std::memcpy(row, f.data(), cols * 4); break;
      case DType::kF16:
        ocular::ref::ConvertRowF32ToF16(f.data(), reinterpret_cast<uint16_t*>(row), cols);
        break;
      case DType::kBF16:
        ocular::ref::ConvertRowF32ToBf16(f.data(), reinterpret_cast<uint16_t*>(row), cols);
        break;
      case DType::kQ8_0:
        ocular::ref::QuantizeRowQ8_0(f.data(), reinterpret_cast<BlockQ8_0*>(row), cols);
        break;
      case DType::kQ4_0:
        ocular::ref::QuantizeRowQ4_0(f.data(), reinterpret_cast<BlockQ4_0*>(row), cols);
        break;
      case DType::kQ4_K:
      case DType::kQ6_K: {
        // Every bit pattern of quants and sub-scales, with moderate f16 super-scales.
        for (uint64_t b = 0; b < row_bytes; ++b) row[b] = static_cast<uint8_t>(byte(rng));
        const int64_t blocks = cols / kQK_K;
        for (int64_t b = 0; b < blocks; ++b) {
          if (dtype == DType::kQ4_K) {
            auto* blk = reinterpret_cast<BlockQ4_K*>(row) + b;
            blk->d = F32ToF16(0.003f * (1 + byte(rng) % 7));
            blk->dmin = F32ToF16(0.002f * (1 + byte(rng) % 5));
          } else {
            auto* blk = reinterpret_cast<BlockQ6_K*>(row) + b;
            blk->d = F32ToF16(0.0005f * (1 + byte(rng) % 7));
          }
        }
        break;
      }
      default: ADD_FAILURE() << "no test weights for dtype";
    }
  }
  t.w = WeightMatrix{dtype, rows, cols, base, 0};
  return t;
}

// S[i, j] = sum_c |x_ic w_jc| + |b_j|.
std::vector<double> AbsProducts(const float* x, int64_t x_stride, int64_t m,
                                const WeightMatrix& w, const float* bias) {
  std::vector<double> s(static_cast<size_t>(m * w.rows));
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t j = 0; j < w.rows; ++j) {
    ocular::ref::DequantizeRow(w.dtype, w.Row(j), row.data(), w.cols);
    for (int64_t i = 0; i < m; ++i) {
      double acc = bias ? std::fabs(bias[j]) : 0.0;
      for (int64_t c = 0; c < w.cols; ++c) acc += std::fabs(x[i * x_stride + c] * double(row[c]));
      s[i * w.rows + j] = acc;
    }
  }
  return s;
}

class MatMulTest : public ::testing::TestWithParam<Isa> {};

void CheckMatMul(Isa isa, bool use_onednn, DType dtype, int64_t m, int64_t n, int64_t k,
                 Precision precision, bool with_bias, int misalign, std::mt19937& rng) {
  SCOPED_TRACE(::testing::Message() << DTypeName(dtype) << " m=" << m << " n=" << n << " k=" << k
                                    << " bf16=" << (precision == Precision::kBf16)
                                    << " onednn=" << use_onednn << " bias=" << with_bias
                                    << " misalign=" << misalign);
  testing::PathContext pc(isa, use_onednn);
  TestWeight tw = MakeWeight(dtype, n, k, rng, misalign);
  // x: [m, k] f32 with row stride k + 3 and a misaligned start; y: [m, n] with stride n + 2.
  const int64_t xs = k + 3, ys = n + 2;
  std::vector<float> xbuf = testing::RandomFloats(rng, m * xs + 1);
  const float* x = xbuf.data() + (misalign ? 1 : 0);
  std::vector<float> bias = testing::RandomFloats(rng, n);
  const float* b = with_bias ? bias.data() : nullptr;
  std::vector<float> y(static_cast<size_t>(m * ys + 1), -7.0f), want(y.size(), -7.0f);
  float* yp = y.data() + (misalign ? 1 : 0);
  float* wp = want.data() + (misalign ? 1 : 0);
  MatMulStrided(pc.ctx, x, xs, m, tw.w, b, yp, ys, precision);
  ref::MatMul(x, xs, m, tw.w, b, wp, ys);
  std::vector<double> s = AbsProducts(x, xs, m, tw.w, b);
  double rel = (k + 4) * kU32;
  if (precision == Precision::kBf16 && m > 8 && use_onednn) rel += 2 * kUBf16;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double tol = rel * s[i * n + j] + 1e-30;
      ASSERT_NEAR(yp[i * ys + j], wp[i * ys + j], tol) << "at " << i << "," << j;
    }
    for (int64_t j = n; j < ys && i * ys + j < m * ys; ++j) {
      ASSERT_EQ(yp[i * ys + j], -7.0f) << "wrote outside y's row";
    }
  }
}

TEST_P(MatMulTest, GemvAllDtypesAndEdgeSizes) {
  std::mt19937 rng(1);
  for (int64_t k : {1, 15, 16, 17, 31, 33, 100, 257}) {
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
      for (int64_t m : {1, 2, 3, 8}) {
        CheckMatMul(GetParam(), true, dt, m, 37, k, Precision::kF32, m != 2, k % 2, rng);
      }
    }
  }
  // Widths in whole 32-value chunks: the AVX-512 pair-split bf16 GEMV (gemv_bf16.h), one
  // 64-value step and an odd 32 left over, and a model-sized row.
  for (int64_t k : {32, 64, 96, 2048}) {
    for (DType dt : {DType::kBF16, DType::kF16}) {
      for (int64_t m : {1, 2, 5, 8}) {
        CheckMatMul(GetParam(), true, dt, m, 37, k, Precision::kF32, m != 2, k % 64 == 0, rng);
      }
    }
  }
  for (int64_t k : {32, 64, 96, 160}) {
    for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
      for (int64_t m : {1, 4, 7}) {
        CheckMatMul(GetParam(), true, dt, m, 45, k, Precision::kF32, true, 1, rng);
      }
    }
  }
  for (int64_t k : {256, 512}) {
    for (DType dt : {DType::kQ4_K, DType::kQ6_K}) {
      for (int64_t m : {1, 5}) {
        CheckMatMul(GetParam(), true, dt, m, 19, k, Precision::kF32, m == 1, 1, rng);
      }
    }
  }
}

// The bf16 GEMV's one-row path over long rows (gemv_bf16_avx512.cc: groups of rows read half
// a row at a time) gives every row the bits the row-at-a-time loop gives it (a row range of
// one row takes that loop), for row counts around the group of 4, ranges not starting at 0,
// and halves that are not equal; and stays within the f32 bound of the reference.
TEST_P(MatMulTest, Bf16LongRowsEqualRowAtATime) {
  const cpu::CpuKernels& kern = cpu::KernelsFor(GetParam());
  if (kern.gemv_bf16_split == nullptr) GTEST_SKIP() << "no bf16 split GEMV on this path";
  std::mt19937 rng(23);
  for (int64_t k : {4096, 4160, 6144, 8192}) {
    for (int64_t n : {1, 3, 4, 5, 9, 18}) {
      SCOPED_TRACE(::testing::Message() << "k=" << k << " n=" << n);
      TestWeight tw = MakeWeight(DType::kBF16, n, k, rng, 0);
      const std::vector<float> x = testing::RandomFloats(rng, k);
      const std::vector<float> bias = testing::RandomFloats(rng, n);
      std::vector<float> xs(static_cast<size_t>(k));
      cpu::SplitPairs(x.data(), k, 1, k, xs.data());
      std::vector<float> all(n + 1, -7.0f), tail(n + 1, -7.0f), one(n + 1, -7.0f);
      kern.gemv_bf16_split(xs.data(), k, 1, tw.w, 0, n, bias.data(), all.data(), n);
      kern.gemv_bf16_split(xs.data(), k, 1, tw.w, 1, n, bias.data(), tail.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        kern.gemv_bf16_split(xs.data(), k, 1, tw.w, j, j + 1, bias.data(), one.data(), n);
      }
      ASSERT_EQ(0, std::memcmp(all.data(), one.data(), (n + 1) * sizeof(float)));
      ASSERT_EQ(0, std::memcmp(tail.data() + 1, one.data() + 1, n * sizeof(float)));
      ASSERT_EQ(tail[0], -7.0f);
      std::vector<float> want(n);
      ref::MatMul(x.data(), k, 1, tw.w, bias.data(), want.data(), n);
      const std::vector<double> s = AbsProducts(x.data(), k, 1, tw.w, bias.data());
      for (int64_t j = 0; j < n; ++j) {
        ASSERT_NEAR(all[j], want[j], (k + 4) * kU32 * s[j] + 1e-30) << "row " << j;
      }
    }
  }
}

TEST_P(MatMulTest, LargeMThroughOneDnnAndFallback) {
  std::mt19937 rng(2);
  for (bool onednn : {true, false}) {
    for (Precision p : {Precision::kF32, Precision::kBf16}) {
      for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
        CheckMatMul(GetParam(), onednn, dt, 21, 70, 96, p, true, 0, rng);
      }
      CheckMatMul(GetParam(), onednn, DType::kQ4_K, 13, 33, 256, p, false, 1, rng);
      CheckMatMul(GetParam(), onednn, DType::kF32, 9, 5, 17, p, true, 1, rng);
    }
  }
}

// Precision::kInt8: x is quantized per 32-block to q8_0 (d = amax / 127 stored as f16, so
// |x - x_hat| <= d (1/2 + 127 u_f16)); integer dots are exact. Bound per output:
// sum_b d_b (1/2 + 127 u_f16) sum_{c in b} |w_c| + (k + 4) u S.
TEST_P(MatMulTest, Int8ActivationsForQ8AndQ4Weights) {
  std::mt19937 rng(6);
  testing::PathContext pc(GetParam());
  for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
    for (int64_t k : {32, 96, 2048}) {
      for (int64_t m : {1, 3, 8}) {
        const int64_t n = 41;
        TestWeight tw = MakeWeight(dt, n, k, rng, 1);
        std::vector<float> x = testing::RandomFloats(rng, m * k, -3, 3);
        std::vector<float> bias = testing::RandomFloats(rng, n);
        std::vector<float> y(m * n), want(m * n);
        MatMul(pc.ctx, x.data(), m, tw.w, bias.data(), y.data(), Precision::kInt8);
        ref::MatMul(x.data(), k, m, tw.w, bias.data(), want.data(), n);
        std::vector<double> s = AbsProducts(x.data(), k, m, tw.w, bias.data());
        std::vector<float> wrow(k);
        for (int64_t j = 0; j < n; ++j) {
          ocular::ref::DequantizeRow(dt, tw.w.Row(j), wrow.data(), k);
          for (int64_t i = 0; i < m; ++i) {
            double qerr = 0;
            for (int64_t b = 0; b < k / 32; ++b) {
              double amax = 0, wsum = 0;
              for (int c = 0; c < 32; ++c) {
                amax = std::max(amax, std::fabs(double(x[i * k + b * 32 + c])));
                wsum += std::fabs(double(wrow[b * 32 + c]));
              }
              qerr += amax / 127 * (0.5 + 127 * testing::kUF16) * wsum;
            }
            const double tol = qerr + (k + 4) * kU32 * s[i * n + j];
            ASSERT_NEAR(y[i * n + j], want[i * n + j], tol)
                << DTypeName(dt) << " k=" << k << " m=" << m << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

// A TestWeight's matrix in WeightLayout::kGemvPacked (the buffer lives here).
struct PackedWeight {
  AlignedBuffer buf;
  WeightMatrix w;
};

PackedWeight Pack(ComputeContext& ctx, const WeightMatrix& src) {
  PackedWeight p;
  p.buf = AlignedBuffer(static_cast<size_t>(GemvPackedBytes(src.dtype, src.rows, src.cols)));
  p.w = PackForGemv(ctx, src, p.buf.data());
  return p;
}

// The int8 path's own arithmetic, tight: activations quantized with the reference's q8_0
// rounding, exact integer block dots, then f32 block terms dot_b * d_w * d_x summed in any
// order; SIMD paths scale partial dots of 4-value groups, so the magnitude is taken per
// product: |y - sum_b term_b| <= (nb + 8) u_f32 (sum_b d_b sum_c |w_c x_c| + |bias|), with
// d_b = |d_w d_x| and integer w, x. Row-major weights (`tw.w`) or their packed copy.
void CheckInt8BlockArithmetic(ComputeContext& ctx, DType dt, const TestWeight& tw,
                              const WeightMatrix& w, int64_t m, std::mt19937& rng) {
  const int64_t n = w.rows, k = w.cols, nb = k / 32;
  SCOPED_TRACE(::testing::Message() << DTypeName(dt) << " k=" << k << " m=" << m
                                    << " packed=" << w.packed());
  std::vector<float> x = testing::RandomFloats(rng, m * k, -3, 3);
  std::vector<float> bias = testing::RandomFloats(rng, n);
  std::vector<float> y(m * n);
  MatMul(ctx, x.data(), m, w, bias.data(), y.data(), Precision::kInt8);
  std::vector<BlockQ8_0> xq(static_cast<size_t>(m * nb));
  for (int64_t i = 0; i < m; ++i) ocular::ref::QuantizeRowQ8_0(x.data() + i * k, xq.data() + i * nb, k);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < m; ++i) {
      double want = bias[j], mag = std::fabs(bias[j]);
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ8_0& xb = xq[i * nb + b];
        int64_t dot = 0, abs_dot = 0;
        float dw;
        if (dt == DType::kQ8_0) {
          const BlockQ8_0& wb = static_cast<const BlockQ8_0*>(tw.w.Row(j))[b];
          for (int c = 0; c < 32; ++c) {
            dot += int64_t{wb.qs[c]} * xb.qs[c];
            abs_dot += std::abs(int64_t{wb.qs[c]} * xb.qs[c]);
          }
          dw = F16ToF32(wb.d);
        } else {
          const BlockQ4_0& wb = static_cast<const BlockQ4_0*>(tw.w.Row(j))[b];
          for (int c = 0; c < 16; ++c) {
            const int64_t lo = ((wb.qs[c] & 0xF) - 8) * int64_t{xb.qs[c]};
            const int64_t hi = ((wb.qs[c] >> 4) - 8) * int64_t{xb.qs[c + 16]};
            dot += lo + hi;
            abs_dot += std::abs(lo) + std::abs(hi);
          }
          dw = F16ToF32(wb.d);
        }
        const double scale = double(dw) * double(F16ToF32(xb.d));
        want += double(dot) * scale;
        mag += double(abs_dot) * std::fabs(scale);
      }
      ASSERT_NEAR(y[i * n + j], want, (nb + 8) * kU32 * mag + 1e-30) << "at " << i << "," << j;
    }
  }
}

// q4_k / q6_k weights under Precision::kInt8, against the specification: the activations
// quantized to q8_K (ocular::ref::QuantizeRowQ8_K), the weights dequantized
// (ocular::ref::DequantizeRow), each 256-value block's sum of weight x q8 value in double,
// times the block's d_x. The kernels compute a block's integer parts exactly and round a few
// f32 terms per block, the q4_k scale and min terms apart (they can cancel), so the bound is
// |y - want| <= 2 (nsb + 10) u_f32 mag, mag = |b| + sum_c |d_x q_c| (|w_c| + 2 |dmin m_s|).
// `w` is row-major `tw.w` or its packed copy.
void CheckInt8KBlockArithmetic(ComputeContext& ctx, const TestWeight& tw, const WeightMatrix& w,
                               int64_t m, std::mt19937& rng) {
  const int64_t n = w.rows, k = w.cols, nsb = k / kQK_K;
  SCOPED_TRACE(::testing::Message() << DTypeName(w.dtype) << " k=" << k << " m=" << m
                                    << " packed=" << w.packed());
  std::vector<float> x = testing::RandomFloats(rng, m * k, -3, 3);
  std::vector<float> bias = testing::RandomFloats(rng, n);
  std::vector<float> y(m * n);
  MatMul(ctx, x.data(), m, w, bias.data(), y.data(), Precision::kInt8);
  std::vector<BlockQ8_K> xq(static_cast<size_t>(m * nsb));
  for (int64_t i = 0; i < m; ++i) ocular::ref::QuantizeRowQ8_K(x.data() + i * k, xq.data() + i * nsb, k);
  std::vector<float> row(k);
  std::vector<double> min_of(k, 0.0);  // |dmin m_s| of each weight's sub-block (q4_k)
  for (int64_t j = 0; j < n; ++j) {
    ocular::ref::DequantizeRow(w.dtype, tw.w.Row(j), row.data(), k);
    if (w.dtype == DType::kQ4_K) {
      for (int64_t sb = 0; sb < nsb; ++sb) {
        const BlockQ4_K& b = static_cast<const BlockQ4_K*>(tw.w.Row(j))[sb];
        for (int s = 0; s < 8; ++s) {
          uint8_t sc, mn;
          ocular::ref::Q4KScaleMin(s, b.scales, &sc, &mn);
          for (int c = 0; c < 32; ++c) min_of[sb * kQK_K + 32 * s + c] = std::fabs(F16ToF32(b.dmin) * double(mn));
        }
      }
    }
    for (int64_t i = 0; i < m; ++i) {
      double want = bias[j], mag = std::fabs(bias[j]);
      for (int64_t sb = 0; sb < nsb; ++sb) {
        const BlockQ8_K& xb = xq[i * nsb + sb];
        double dot = 0, abs_dot = 0;
        for (int c = 0; c < kQK_K; ++c) {
          const int64_t at = sb * kQK_K + c;
          dot += double(row[at]) * xb.qs[c];
          abs_dot += (std::fabs(row[at]) + 2 * min_of[at]) * std::abs(int{xb.qs[c]});
        }
        want += dot * xb.d;
        mag += abs_dot * std::fabs(xb.d);
      }
      ASSERT_NEAR(y[i * n + j], want, 2 * (nsb + 10) * kU32 * mag + 1e-30) << "at " << i << "," << j;
    }
  }
}

// Row-major and packed (37 rows: the last group of 16 partial), every m a pass serves.
TEST_P(MatMulTest, Int8KQuantPathIsExactBlockArithmetic) {
  std::mt19937 rng(19);
  testing::PathContext pc(GetParam());
  for (DType dt : {DType::kQ4_K, DType::kQ6_K}) {
    for (int64_t k : {256, 768, 2048}) {
      for (int64_t m = 1; m <= 8; ++m) {
        TestWeight tw = MakeWeight(dt, 37, k, rng, 3);
        CheckInt8KBlockArithmetic(pc.ctx, tw, tw.w, m, rng);
        PackedWeight pw = Pack(pc.ctx, tw.w);
        CheckInt8KBlockArithmetic(pc.ctx, tw, pw.w, m, rng);
      }
    }
  }
}

// The q4_k / q6_k int8 GEMV's activation quantizer: bit for bit the reference on every path
// (rows of several magnitudes, an all-zero block, a block of exact halves), and each block
// sum is the sum of its 16 quants.
TEST_P(MatMulTest, QuantizeRowQ8KMatchesReferenceBits) {
  testing::PathContext pc(GetParam());
  const cpu::CpuKernels& kern = cpu::KernelsFor(pc.ctx.isa());
  std::mt19937 rng(20);
  std::vector<std::vector<float>> rows;
  for (float mag : {1e-6f, 1e-2f, 1.0f, 3e4f}) rows.push_back(testing::RandomFloats(rng, 4096, -mag, mag));
  std::vector<float> ties(768, 0.0f);  // block 0: zeros; block 1: halves (amax 127: d = 1)
  for (int j = 0; j < 256; ++j) ties[256 + j] = (j % 2 ? -1.0f : 1.0f) * (0.5f + static_cast<float>(j % 126));
  ties[256 + 255] = 127.0f;
  for (int j = 0; j < 256; ++j) ties[512 + j] = static_cast<float>(j) * 0.25f - 30.0f;
  rows.push_back(ties);
  for (const std::vector<float>& x : rows) {
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<BlockQ8_K> got(n / kQK_K), want(n / kQK_K);
    kern.quantize_row_q8_k(x.data(), got.data(), n);
    ocular::ref::QuantizeRowQ8_K(x.data(), want.data(), n);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      ASSERT_EQ(got[b].d, want[b].d) << "row of " << n << ", block " << b;
      ASSERT_EQ(0, std::memcmp(got[b].qs, want[b].qs, kQK_K)) << "row of " << n << ", block " << b;
      for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int c = 0; c < 16; ++c) sum += want[b].qs[16 * g + c];
        ASSERT_EQ(want[b].bsums[g], sum);
        ASSERT_EQ(got[b].bsums[g], sum) << "row of " << n << ", block " << b << ", sum " << g;
      }
    }
  }
  std::vector<BlockQ8_K> t(3);
  ocular::ref::QuantizeRowQ8_K(ties.data(), t.data(), 768);
  EXPECT_EQ(t[1].d, 1.0f);
  EXPECT_EQ(t[1].qs[0], 1);   // 0.5 away from zero
  EXPECT_EQ(t[1].qs[1], -2);  // -1.5 away from zero
}

// Odd block counts (the 512-bit row-major path takes blocks in pairs and the last one alone),
// every m up to 8, and row counts that end in a partial group of 16 (packed).
TEST_P(MatMulTest, Int8PathIsExactBlockArithmetic) {
  std::mt19937 rng(16);
  testing::PathContext pc(GetParam());
  for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
    for (int64_t k : {32, 64, 160, 2048}) {
      for (int64_t m = 1; m <= 8; ++m) {
        TestWeight tw = MakeWeight(dt, 37, k, rng, 3);
        CheckInt8BlockArithmetic(pc.ctx, dt, tw, tw.w, m, rng);
        PackedWeight pw = Pack(pc.ctx, tw.w);
        CheckInt8BlockArithmetic(pc.ctx, dt, tw, pw.w, m, rng);
      }
    }
  }
}

// Packed weights serve every m with the int8 GEMV (8 rows per pass), with or without oneDNN,
// and a row count that is a whole number of groups.
// m = 131: more than one 64-row block of activation rows per weight tile (matmul.cc's
// ForGemvTasks), the last one partial.
TEST_P(MatMulTest, PackedInt8ServesManyRowsInPasses) {
  std::mt19937 rng(17);
  for (bool onednn : {false, true}) {
    testing::PathContext pc(GetParam(), onednn);
    for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
      for (int64_t m : {9, 19, 40, 131}) {
        TestWeight tw = MakeWeight(dt, 48, 96, rng, 1);
        PackedWeight pw = Pack(pc.ctx, tw.w);
        CheckInt8BlockArithmetic(pc.ctx, dt, tw, pw.w, m, rng);
      }
    }
    for (DType dt : {DType::kQ4_K, DType::kQ6_K}) {
      for (int64_t m : {9, 19, 40, 131}) {
        TestWeight tw = MakeWeight(dt, 48, 512, rng, 1);
        PackedWeight pw = Pack(pc.ctx, tw.w);
        CheckInt8KBlockArithmetic(pc.ctx, tw, pw.w, m, rng);
      }
    }
  }
}

// The packed layout holds the same blocks: unpacking gives the row-major bytes back, and row
// gathers read exactly the same values as from row-major.
TEST_P(MatMulTest, PackedLayoutKeepsEveryBlock) {
  std::mt19937 rng(18);
  testing::PathContext pc(GetParam());
  for (DType dt : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K}) {
    for (int64_t rows : {1, 16, 37}) {
      const bool kquant = dt == DType::kQ4_K || dt == DType::kQ6_K;
      const int64_t k = kquant ? 512 : 160;
      TestWeight tw = MakeWeight(dt, rows, k, rng, 1);
      PackedWeight pw = Pack(pc.ctx, tw.w);
      std::vector<uint8_t> back(static_cast<size_t>(rows * tw.w.RowBytes()));
      UnpackGemvRows(pw.w, 0, rows, back.data());
      for (int64_t j = 0; j < rows; ++j) {
        ASSERT_EQ(std::memcmp(back.data() + j * tw.w.RowBytes(), tw.w.Row(j), tw.w.RowBytes()), 0)
            << DTypeName(dt) << " row " << j;
      }
      std::vector<int32_t> ids = {0, static_cast<int32_t>(rows - 1), static_cast<int32_t>(rows / 2)};
      std::vector<float> want(ids.size() * k), got(ids.size() * k);
      GatherRows(pc.ctx, tw.w, ids.data(), static_cast<int64_t>(ids.size()), want.data());
      GatherRows(pc.ctx, pw.w, ids.data(), static_cast<int64_t>(ids.size()), got.data());
      ASSERT_EQ(got, want) << DTypeName(dt);
    }
  }
}

// MatMulMulti over the weights `ws` against a MatMul per weight, bit for bit.
void ExpectMultiEqualsSeparate(ComputeContext& ctx, std::span<const WeightMatrix* const> ws, int64_t m,
                               Precision p, std::mt19937& rng) {
  const int64_t k = ws[0]->cols;
  std::vector<float> x = testing::RandomFloats(rng, m * k, -2, 2);  // [m, k]
  const size_t n = ws.size();
  std::vector<std::vector<float>> got(n), want(n);  // [n][m, rows]
  std::vector<float*> ys(n);
  for (size_t i = 0; i < n; ++i) {
    got[i].assign(static_cast<size_t>(m * ws[i]->rows), -7.0f);
    want[i].assign(got[i].size(), -7.0f);
    ys[i] = got[i].data();
    MatMul(ctx, x.data(), m, *ws[i], nullptr, want[i].data(), p);
  }
  MatMulMulti(ctx, x.data(), m, ws, ys, p);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < got[i].size(); ++j) {
      ASSERT_EQ(got[i][j], want[i][j]) << "weight " << i << " value " << j;
    }
  }
}

// MatMulMulti is the separate MatMul calls in one parallel region: bit-identical results
// for mixed dtypes (int8 path for the q8_0 / q4_0 weights only), GEMV-sized m and the
// per-product fallback (m = 9 goes through oneDNN or the blocked kernel), a weight of zero
// rows among the others, and every m when all the weights are packed.
TEST_P(MatMulTest, MultiEqualsSeparateProducts) {
  std::mt19937 rng(11);
  testing::PathContext pc(GetParam());
  const int64_t k = 96;
  TestWeight a = MakeWeight(DType::kQ8_0, 130, k, rng, 0);
  TestWeight b = MakeWeight(DType::kF16, 41, k, rng, 0);
  TestWeight c = MakeWeight(DType::kQ4_0, 0, k, rng, 0);
  TestWeight d = MakeWeight(DType::kQ4_0, 77, k, rng, 0);
  const WeightMatrix* ws[4] = {&a.w, &b.w, &c.w, &d.w};
  // The same with the int8 weights packed (kInt8 only: packed weights take nothing else).
  PackedWeight pa = Pack(pc.ctx, a.w), pd = Pack(pc.ctx, d.w);
  const WeightMatrix* packed[4] = {&pa.w, &b.w, &c.w, &pd.w};
  for (int round = 0; round < 3; ++round) {
    const Precision p = round == 0 ? Precision::kF32 : Precision::kInt8;
    if (round == 2) std::copy(std::begin(packed), std::end(packed), std::begin(ws));
    for (int64_t m : {1, 3, 8, 9}) {
      SCOPED_TRACE(::testing::Message() << "m=" << m << " int8=" << (p == Precision::kInt8)
                                        << " packed=" << (round == 2));
      ExpectMultiEqualsSeparate(pc.ctx, ws, m, p, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // Every weight packed: fused for every m (one activation quantization, tasks over all the
  // weights and over 64-row blocks of m).
  const WeightMatrix* all_packed[2] = {&pa.w, &pd.w};
  for (int64_t m : {9, 70, 131}) {
    SCOPED_TRACE(::testing::Message() << "all packed, m=" << m);
    ExpectMultiEqualsSeparate(pc.ctx, all_packed, m, Precision::kInt8, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// The same with q4_k / q6_k among the products (q8_K activations beside q8_0 ones).
TEST_P(MatMulTest, MultiWithKQuantsEqualsSeparateProducts) {
  std::mt19937 rng(21);
  testing::PathContext pc(GetParam());
  const int64_t k = 512;
  TestWeight a = MakeWeight(DType::kQ4_K, 70, k, rng, 0);
  TestWeight b = MakeWeight(DType::kQ8_0, 33, k, rng, 0);
  TestWeight c = MakeWeight(DType::kQ6_K, 45, k, rng, 0);
  TestWeight d = MakeWeight(DType::kBF16, 20, k, rng, 0);
  const WeightMatrix* ws[4] = {&a.w, &b.w, &c.w, &d.w};
  for (Precision p : {Precision::kF32, Precision::kInt8}) {
    for (int64_t m : {1, 5, 8}) {
      SCOPED_TRACE(::testing::Message() << "m=" << m << " int8=" << (p == Precision::kInt8));
      ExpectMultiEqualsSeparate(pc.ctx, ws, m, p, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // The k-quant and q8_0 weights packed (kInt8 only).
  PackedWeight pa = Pack(pc.ctx, a.w), pb = Pack(pc.ctx, b.w), pc6 = Pack(pc.ctx, c.w);
  const WeightMatrix* packed[4] = {&pa.w, &pb.w, &pc6.w, &d.w};
  for (int64_t m : {1, 5, 8}) {
    SCOPED_TRACE(::testing::Message() << "packed m=" << m);
    ExpectMultiEqualsSeparate(pc.ctx, packed, m, Precision::kInt8, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // All three packed (q8_0 and q8_K activations side by side): fused for every m.
  const WeightMatrix* all_packed[3] = {&pa.w, &pb.w, &pc6.w};
  for (int64_t m : {9, 131}) {
    SCOPED_TRACE(::testing::Message() << "all packed, m=" << m);
    ExpectMultiEqualsSeparate(pc.ctx, all_packed, m, Precision::kInt8, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(MatMulTest, EmptyShapes) {
  testing::PathContext pc(GetParam());
  std::mt19937 rng(3);
  TestWeight tw = MakeWeight(DType::kF32, 4, 8, rng, 0);
  std::vector<float> x(16, 1.0f), y(8, -1.0f);
  MatMul(pc.ctx, x.data(), 0, tw.w, nullptr, y.data());  // m = 0: nothing written
  for (float v : y) EXPECT_EQ(v, -1.0f);
  WeightMatrix empty{DType::kF32, 3, 0, nullptr, 0};
  const float bias[3] = {1.5f, -2.0f, 0.25f};
  MatMul(pc.ctx, x.data(), 2, empty, bias, y.data());  // k = 0: y = bias
  // y: [2, 3]
  EXPECT_EQ(y[0], 1.5f);
  EXPECT_EQ(y[4], -2.0f);
  EXPECT_EQ(y[5], 0.25f);
}

TEST_P(MatMulTest, DequantizeAndGatherMatchReferenceExactly) {
  testing::PathContext pc(GetParam());
  std::mt19937 rng(4);
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                   DType::kQ4_K, DType::kQ6_K}) {
    const int64_t block = GetDTypeInfo(dt).block_elems;
    for (int64_t blocks : {0, 1, 3, 17}) {
      const int64_t k = block == 1 ? blocks * 5 + 1 : blocks * block;
      TestWeight tw = MakeWeight(dt, 3, k, rng, 1);
      std::vector<float> got(k + 1), want(k + 1);
      DequantizeRow(pc.ctx, dt, tw.w.Row(2), got.data() + 1, k);
      ocular::ref::DequantizeRow(dt, tw.w.Row(2), want.data() + 1, k);
      ASSERT_EQ(0, std::memcmp(got.data() + 1, want.data() + 1, k * 4)) << DTypeName(dt);
      const int32_t ids[3] = {2, 0, 2};
      std::vector<float> g(3 * k), gw(3 * k);
      GatherRows(pc.ctx, tw.w, ids, 3, g.data());
      ref::GatherRows(tw.w, ids, 3, gw.data());
      ASSERT_EQ(g, gw) << DTypeName(dt);
    }
  }
}

// The int8 GEMV's activation quantizer on every path: bit for bit the reference
// (tensor/quant.cc: d = amax / 127 in f16, lround(x / d)), on random rows of several
// magnitudes, an all-zero block, and a block whose scaled values are exact halves (amax 127
// gives d = 1: lround must take every .5 away from zero).
TEST_P(MatMulTest, QuantizeRowQ8MatchesReferenceBits) {
  testing::PathContext pc(GetParam());
  const cpu::CpuKernels& kern = cpu::KernelsFor(pc.ctx.isa());
  std::mt19937 rng(9);
  std::vector<std::vector<float>> rows;
  for (float mag : {1e-6f, 1e-2f, 1.0f, 3e4f}) rows.push_back(testing::RandomFloats(rng, 4096, -mag, mag));
  std::vector<float> ties(96, 0.0f);  // block 0: zeros; block 1: halves; block 2: mixed
  for (int j = 0; j < 32; ++j) ties[32 + j] = (j % 2 ? -1.0f : 1.0f) * (0.5f + static_cast<float>(j * 4 % 127));
  ties[32 + 31] = 127.0f;
  for (int j = 0; j < 32; ++j) ties[64 + j] = static_cast<float>(j) * 0.25f - 4.0f;
  rows.push_back(ties);
  for (const std::vector<float>& x : rows) {
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<BlockQ8_0> got(n / 32), want(n / 32);
    kern.quantize_row_q8_0(x.data(), got.data(), n);
    ocular::ref::QuantizeRowQ8_0(x.data(), want.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      ASSERT_EQ(got[b].d, want[b].d) << "row of " << n << ", block " << b;
      ASSERT_EQ(0, std::memcmp(got[b].qs, want[b].qs, 32)) << "row of " << n << ", block " << b;
    }
  }
  // The tie block really holds ties: the reference rounds 0.5 to 1 and -1.5 to -2.
  std::vector<BlockQ8_0> t(3);
  ocular::ref::QuantizeRowQ8_0(ties.data(), t.data(), 96);
  EXPECT_EQ(t[1].qs[0], 1);
  EXPECT_EQ(t[1].qs[1], -5);
}

// The bf16 weight tiles of the oneDNN path and the vision tower's bf16 copy: every dtype's
// row to bf16 must equal the reference dequantization rounded to nearest even
// (tensor/half.h), bit for bit.
TEST_P(MatMulTest, DequantizeToBf16MatchesReferenceRounding) {
  testing::PathContext pc(GetParam());
  std::mt19937 rng(5);
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                   DType::kQ4_K}) {
    const int64_t block = GetDTypeInfo(dt).block_elems;
    for (int64_t blocks : {1, 3, 17, 64}) {
      const int64_t k = block == 1 ? blocks * 5 + 1 : blocks * block;
      TestWeight tw = MakeWeight(dt, 2, k, rng, 1);
      std::vector<float> f(k);  // [k] f32
      ocular::ref::DequantizeRow(dt, tw.w.Row(1), f.data(), k);
      std::vector<uint16_t> want(k), got(k + 1, 0xdead);  // [k] bf16 bits (+ 1 guard)
      for (int64_t i = 0; i < k; ++i) want[i] = F32ToBf16(f[i]);
      DequantizeRowToBf16(pc.ctx, dt, tw.w.Row(1), got.data(), k);
      for (int64_t i = 0; i < k; ++i) {
        ASSERT_EQ(got[i], want[i]) << DTypeName(dt) << " k " << k << " i " << i;
      }
      EXPECT_EQ(got[k], 0xdead) << "wrote past the row";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, MatMulTest, ::testing::ValuesIn(testing::AvailableIsas()),
                         testing::IsaParamName);

}  // namespace
}  // namespace ocular::kernels
