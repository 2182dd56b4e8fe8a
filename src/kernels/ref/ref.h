// Scalar references for every kernel in kernels/kernels.h: simple loops, double accumulation
// where it makes the reference more exact than the kernels. They are the executable
// specification the SIMD paths are tested against, and the Isa::kScalar path.
// Shapes, dtypes and preconditions are those documented in kernels/kernels.h.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "tensor/quant.h"

namespace ocular::kernels::ref {

// x: [m, k] (x_stride), y: [m, n] (y_stride); products and sums in double, result rounded.
void MatMul(const float* x, int64_t x_stride, int64_t m, const WeightMatrix& w,
            const float* bias, float* y, int64_t y_stride);
void GatherRows(const WeightMatrix& w, const int32_t* ids, int64_t n, float* out);
// The int8 GEMV for q4_k / q6_k weights (CpuKernels::gemv_q8k; the scalar and AVX2 body):
// integer sub-block dots, scales and offsets per 256-value block, then one f32 term per block.
void GemvQ8K(const BlockQ8_K* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
             int64_t row_begin, int64_t row_end, const float* bias, float* y, int64_t y_stride);

void DequantizeRow(DType dtype, const void* src, float* dst, int64_t n);
void ConvertF32ToBf16(const float* src, uint16_t* dst, int64_t n);
void ConvertF32ToF16(const float* src, uint16_t* dst, int64_t n);
void RoundToBf16(float* x, int64_t n);

void RmsNorm(const float* x, const float* weight, float eps, float* y, int64_t rows,
             int64_t dim);
void LayerNorm(const float* x, const float* weight, const float* bias, float eps, float* y,
               int64_t rows, int64_t dim);
void Softmax(float* x, int64_t n);
void SwiGlu(const float* gate, const float* up, float* out, int64_t n);
void GeluErf(float* x, int64_t n);
void GeluTanh(float* x, int64_t n);
void AddInPlace(float* y, const float* x, int64_t n);
void Scale(float* x, float s, int64_t n);

void RopeNeox(float* x, int64_t tokens, int heads, int head_dim, int64_t token_stride,
              const float* cos, const float* sin, int rot_dim);

void FullAttention(const FullAttentionArgs& args);
void WriteKv(const PagedKvView& cache, const float* k, int64_t k_stride, const float* v,
             int64_t v_stride, const int64_t* slots, int64_t n);
void PagedAttention(const PagedKvView& cache, const PagedAttentionArgs& args);

}  // namespace ocular::kernels::ref
