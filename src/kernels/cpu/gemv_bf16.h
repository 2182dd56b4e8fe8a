// The AVX-512 GEMV for bf16 weights (the Hugging Face checkpoints' dtype) on activations in
// pair-split order: within each 32 values, the 16 at even positions, then the 16 at odd ones
// (SplitPairs). A 64-byte load holds 32 bf16 weights; a bf16 value is the high half of its
// f32, so the even weights widen with one shift of each 32-bit lane and the odd ones with one
// mask, and each half multiplies its 16 split activations in one FMA. Two instructions per 32
// weights instead of a widen and a shift per 16, so a core streams its rows closer to the
// memory's rate. Products and sums are f32 (each product exact), as CpuKernels::gemv.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace ocular::kernels::cpu {

// x [m, k] -> out [m, k] in pair-split order; k % 32 == 0.
void SplitPairs(const float* x, int64_t x_stride, int64_t m, int64_t k, float* out);

// As CpuKernels::gemv for w.dtype == kBF16 with w.cols % 32 == 0: xs [m, w.cols] from
// SplitPairs (xs_stride apart), m <= 8; requires AVX-512 F.
void GemvBf16SplitAvx512(const float* xs, int64_t xs_stride, int64_t m, const WeightMatrix& w,
                         int64_t row_begin, int64_t row_end, const float* bias, float* y,
                         int64_t y_stride);

}  // namespace ocular::kernels::cpu
