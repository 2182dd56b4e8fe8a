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
