// The Isa::kScalar table: the references themselves, plus a GEMV over a row range.
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels::cpu {
namespace {

void Gemv(const float* x, int64_t x_stride, int64_t m, const WeightMatrix& w, int64_t row_begin,
          int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  WeightMatrix part = w;
  part.data = w.Row(row_begin);
  part.rows = row_end - row_begin;
  part.row_stride_bytes = w.Stride();
  ref::MatMul(x, x_stride, m, part, bias ? bias + row_begin : nullptr, y + row_begin, y_stride);
}

void GemvQ8(const BlockQ8_0* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
            int64_t row_begin, int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / kQK8_0;
  for (int64_t j = row_begin; j < row_end; ++j) {
    for (int64_t i = 0; i < m; ++i) {
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ8_0& xb = xq[i * xq_stride + b];
        int32_t dot = 0;
        float dw;
        if (w.dtype == DType::kQ8_0) {
          const BlockQ8_0& wb = static_cast<const BlockQ8_0*>(w.Row(j))[b];
          for (int c = 0; c < kQK8_0; ++c) dot += int32_t{wb.qs[c]} * xb.qs[c];
          dw = F16ToF32(wb.d);
        } else {
          const BlockQ4_0& wb = static_cast<const BlockQ4_0*>(w.Row(j))[b];
          for (int c = 0; c < kQK4_0 / 2; ++c) {
            dot += ((wb.qs[c] & 0xF) - 8) * int32_t{xb.qs[c]};
            dot += ((wb.qs[c] >> 4) - 8) * int32_t{xb.qs[c + kQK4_0 / 2]};
          }
          dw = F16ToF32(wb.d);
        }
        acc += static_cast<float>(dot) * (dw * F16ToF32(xb.d));
      }
      y[i * y_stride + j] = acc + (bias ? bias[j] : 0.0f);
    }
  }
}

void DequantizeRowBf16(DType dtype, const void* src, uint16_t* dst, int64_t n) {
  std::vector<float> tmp(static_cast<size_t>(n));
  ocular::ref::DequantizeRow(dtype, src, tmp.data(), n);
  ocular::ref::ConvertRowF32ToBf16(tmp.data(), dst, n);
}

float ExpShiftSum(float* x, float shift, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return static_cast<float>(sum);
}

float Dot(const float* a, const float* b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

void DotKeys(const float* q, const float* const* keys, int count, int64_t n, float* out) {
  for (int j = 0; j < count; ++j) out[j] = Dot(q, keys[j], n);
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void QkScores(const float* q, const float* kt, int64_t ld, int head_dim, int count, float scale,
              float* scores) {
  for (int j = 0; j < count; ++j) {
    double s = 0.0;
    for (int d = 0; d < head_dim; ++d) s += static_cast<double>(q[d]) * kt[d * ld + j];
    scores[j] = static_cast<float>(s) * scale;
  }
}

void PvAccumulate(const float* p, const float* const* v_rows, int count, int head_dim, float c,
                  float* acc) {
  for (int d = 0; d < head_dim; ++d) {
    double s = static_cast<double>(acc[d]) * c;
    for (int j = 0; j < count; ++j) s += static_cast<double>(p[j]) * v_rows[j][d];
    acc[d] = static_cast<float>(s);
  }
}

void LoadRow(DType dtype, const void* src, float* dst, int64_t n) {
  ocular::ref::DequantizeRow(dtype, src, dst, n);
}

void StoreRow(DType dtype, const float* src, void* dst, int64_t n) {
  switch (dtype) {
    case DType::kF32:
      for (int64_t i = 0; i < n; ++i) static_cast<float*>(dst)[i] = src[i];
      return;
    case DType::kBF16: ocular::ref::ConvertRowF32ToBf16(src, static_cast<uint16_t*>(dst), n); return;
    case DType::kF16: ocular::ref::ConvertRowF32ToF16(src, static_cast<uint16_t*>(dst), n); return;
    default: CHECK(false) << "unsupported row dtype";
  }
}

}  // namespace

const CpuKernels& ScalarKernels() {
  static const CpuKernels k = {
      .gemv = Gemv,
      .gemv_q8 = GemvQ8,
      .quantize_row_q8_0 = ocular::ref::QuantizeRowQ8_0,
      .gemv_q8k = ref::GemvQ8K,
      .quantize_row_q8_k = ocular::ref::QuantizeRowQ8_K,
      .dequantize_row = ref::DequantizeRow,
      .dequantize_row_bf16 = DequantizeRowBf16,
      .convert_f32_to_bf16 = ref::ConvertF32ToBf16,
      .convert_f32_to_f16 = ref::ConvertF32ToF16,
      .round_to_bf16 = ref::RoundToBf16,
      .rms_norm = ref::RmsNorm,
      .layer_norm = ref::LayerNorm,
      .softmax = ref::Softmax,
      .exp_shift_sum = ExpShiftSum,
      .swiglu = ref::SwiGlu,
      .gelu_erf = ref::GeluErf,
      .gelu_tanh = ref::GeluTanh,
      .add_in_place = ref::AddInPlace,
      .scale = ref::Scale,
      .rope_neox = ref::RopeNeox,
      .dot = Dot,
      .dot_keys = DotKeys,
      .axpy = Axpy,
      .qk_scores = QkScores,
      .pv_accumulate = PvAccumulate,
      .load_row = LoadRow,
      .store_row = StoreRow,
  };
  return k;
}

}  // namespace ocular::kernels::cpu
