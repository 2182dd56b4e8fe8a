// Reference matrix product, row gather and conversions.
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels::ref {

void MatMul(const float* x, int64_t x_stride, int64_t m, const WeightMatrix& w,
            const float* bias, float* y, int64_t y_stride) {
  const int64_t k = w.cols, n = w.rows;
  CHECK_GE(x_stride, k);
  CHECK_GE(y_stride, n);
  std::vector<float> row(static_cast<size_t>(k));  // [k] f32, one dequantized weight row
  for (int64_t j = 0; j < n; ++j) {
    ocular::ref::DequantizeRow(w.dtype, w.Row(j), row.data(), k);
    for (int64_t i = 0; i < m; ++i) {
      double acc = bias ? static_cast<double>(bias[j]) : 0.0;
      const float* xi = x + i * x_stride;
      for (int64_t c = 0; c < k; ++c) acc += static_cast<double>(xi[c]) * row[c];
      y[i * y_stride + j] = static_cast<float>(acc);
    }
  }
}

namespace {

// One q4_k / q6_k block as unsigned quants (q4_k 0..15, q6_k 0..63, in value order) and the
// integer scales of its sub-blocks (q4_k: 8 of 32 values with mins; q6_k: 16 of 16, offset 32).
struct KBlockInts {
  uint8_t q[kQK_K];
  int32_t scale[16];
  int32_t min[8];
  float d, dmin;
};

void UnpackKBlock(DType dtype, const void* blk, KBlockInts* out) {
  if (dtype == DType::kQ4_K) {
    const BlockQ4_K& b = *static_cast<const BlockQ4_K*>(blk);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, mn;
      ocular::ref::Q4KScaleMin(s, b.scales, &sc, &mn);
      out->scale[s] = sc;
      out->min[s] = mn;
    }
    for (int g = 0; g < 4; ++g) {  // 64 values per 32 bytes: low nibbles, then high nibbles
      for (int l = 0; l < 32; ++l) {
        out->q[64 * g + l] = b.qs[32 * g + l] & 0xF;
        out->q[64 * g + 32 + l] = b.qs[32 * g + l] >> 4;
      }
    }
    out->d = F16ToF32(b.d);
    out->dmin = F16ToF32(b.dmin);
    return;
  }
  const BlockQ6_K& b = *static_cast<const BlockQ6_K*>(blk);
  for (int s = 0; s < 16; ++s) out->scale[s] = b.scales[s];
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    uint8_t* q = out->q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = static_cast<uint8_t>((ql[l] & 0xF) | ((qh[l] & 3) << 4));
      q[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
      q[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
      q[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
    }
  }
  out->d = F16ToF32(b.d);
  out->dmin = 0.0f;
}

}  // namespace

void GemvQ8K(const BlockQ8_K* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
             int64_t row_begin, int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  CHECK(w.dtype == DType::kQ4_K || w.dtype == DType::kQ6_K);
  CHECK(m >= 0 && m <= 8) << "the GEMV serves at most 8 rows";
  const int64_t nsb = w.cols / kQK_K;
  const int64_t block_bytes = w.dtype == DType::kQ4_K ? sizeof(BlockQ4_K) : sizeof(BlockQ6_K);
  KBlockInts kb;
  for (int64_t j = row_begin; j < row_end; ++j) {
    const auto* row = static_cast<const uint8_t*>(w.Row(j));
    float acc[8] = {};
    for (int64_t sb = 0; sb < nsb; ++sb) {
      UnpackKBlock(w.dtype, row + sb * block_bytes, &kb);
      for (int64_t i = 0; i < m; ++i) {
        const BlockQ8_K& x = xq[i * xq_stride + sb];
        int32_t sum = 0, mins = 0;
        if (w.dtype == DType::kQ4_K) {
          for (int s = 0; s < 8; ++s) {
            int32_t dot = 0;
            for (int c = 32 * s; c < 32 * s + 32; ++c) dot += int32_t{kb.q[c]} * x.qs[c];
            sum += kb.scale[s] * dot;
            mins += kb.min[s] * (x.bsums[2 * s] + x.bsums[2 * s + 1]);
          }
        } else {
          for (int s = 0; s < 16; ++s) {
            int32_t dot = 0;
            for (int c = 16 * s; c < 16 * s + 16; ++c) dot += int32_t{kb.q[c]} * x.qs[c];
            sum += kb.scale[s] * (dot - 32 * x.bsums[s]);
          }
        }
        acc[i] += static_cast<float>(sum) * (kb.d * x.d) - static_cast<float>(mins) * (kb.dmin * x.d);
      }
    }
    for (int64_t i = 0; i < m; ++i) y[i * y_stride + j] = acc[i] + (bias ? bias[j] : 0.0f);
  }
}

void GatherRows(const WeightMatrix& w, const int32_t* ids, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    CHECK(ids[i] >= 0 && ids[i] < w.rows) << "row id out of range";
    ocular::ref::DequantizeRow(w.dtype, w.Row(ids[i]), out + i * w.cols, w.cols);
  }
}

void DequantizeRow(DType dtype, const void* src, float* dst, int64_t n) {
  ocular::ref::DequantizeRow(dtype, src, dst, n);
}
void ConvertF32ToBf16(const float* src, uint16_t* dst, int64_t n) {
  ocular::ref::ConvertRowF32ToBf16(src, dst, n);
}
void ConvertF32ToF16(const float* src, uint16_t* dst, int64_t n) {
  ocular::ref::ConvertRowF32ToF16(src, dst, n);
}
void RoundToBf16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = Bf16ToF32(F32ToBf16(x[i]));
}

}  // namespace ocular::kernels::ref
