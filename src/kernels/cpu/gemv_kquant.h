// The AVX-512 (VNNI) int8 GEMV for q4_k / q6_k weights, the Q4_K_M / Q6_K checkpoints' text
// weights: activations quantized to q8_K (one f32 scale per 256 values, sums of every 16),
// each 256-value block's quants unpacked to unsigned bytes in registers and multiplied with
// vpdpbusd, the sub-block scales applied to the integer lane sums, the q4_k mins and the q6_k
// offset of 32 taken off through the activation sums. Integer arithmetic per block is exact;
// one f32 term per block and activation row (CpuKernels::gemv_q8k, ref::GemvQ8K).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "tensor/quant.h"

namespace ocular::kernels::cpu {

// As ref::GemvQ8K (kernels/ref/ref.h); requires AVX-512 F/BW/VL/DQ and VNNI.
void GemvQ8KAvx512(const BlockQ8_K* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
                   int64_t row_begin, int64_t row_end, const float* bias, float* y,
                   int64_t y_stride);
// The same over WeightLayout::kGemvPacked weights (kernels.h), row groups [group_begin,
// group_end) of 16; the arithmetic of ref::GemvQ8K per row (CpuKernels::gemv_q8k_packed).
void GemvQ8KPackedAvx512(const BlockQ8_K* xq, int64_t xq_stride, int64_t m,
                         const WeightMatrix& w, int64_t group_begin, int64_t group_end,
                         const float* bias, float* y, int64_t y_stride);
// Bit for bit ocular::ref::QuantizeRowQ8_K for finite x.
void QuantizeRowQ8KAvx512(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace ocular::kernels::cpu
