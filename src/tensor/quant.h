// Block layouts of the quantized weight formats (GGUF-compatible) and their scalar reference
// dequantization / quantization. These are the executable specification; SIMD versions live
// in kernels/ and are tested against them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace ocular {

constexpr int kQK8_0 = 32;
constexpr int kQK4_0 = 32;
constexpr int kQK_K = 256;
constexpr int kKScaleBytes = 12;

#pragma pack(push, 1)
// 32 values: x[i] = d * qs[i].
struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQK8_0];
};
// 32 values: x[i] = d * ((qs[i] & 15) - 8), x[i + 16] = d * ((qs[i] >> 4) - 8).
struct BlockQ4_0 {
  uint16_t d;  // f16 scale
  uint8_t qs[kQK4_0 / 2];
};
// 256 values in 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min:
// x = d * sc * q - dmin * m.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};
// 256 values in 16 sub-blocks of 16, 6-bit quants (low 4 bits in ql, high 2 bits in qh),
// signed 8-bit sub-block scales: x = d * scales[s] * (q - 32).
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
#pragma pack(pop)

// Activations for integer dot products with q4_k / q6_k weights: 256 values with one f32
// scale, x[i] ~ d * qs[i], and the sum of every 16 consecutive qs (for the weights' offsets
// and mins). Not a storage format.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

namespace ref {

// Converts `n` values of `dtype` at `src` to f32. Preconditions (CHECKed): dtype is supported,
// n is a multiple of the block size.
void DequantizeRow(DType dtype, const void* src, float* dst, int64_t n);

// Quantizes `n` f32 values (n a multiple of 32) with the GGML reference rounding.
void QuantizeRowQ8_0(const float* src, BlockQ8_0* dst, int64_t n);
void QuantizeRowQ4_0(const float* src, BlockQ4_0* dst, int64_t n);
// n a multiple of 256. Plain (not error-minimising) k-quant writers, for generated
// checkpoints: q4_k fits each 32-value sub-block's [min(0, lo), hi] with 16 steps (6-bit
// scale and min against f16 super-scales), q6_k each 16-value sub-block's amax with 31 steps
// (signed 8-bit scales against an f16 super-scale).
void QuantizeRowQ4_K(const float* src, BlockQ4_K* dst, int64_t n);
void QuantizeRowQ6_K(const float* src, BlockQ6_K* dst, int64_t n);
// n a multiple of 256: d = amax / 127 (f32), qs = lround(x / d) (as q8_0, per 256 values).
void QuantizeRowQ8_K(const float* src, BlockQ8_K* dst, int64_t n);
// Plain conversions.
void ConvertRowF32ToBf16(const float* src, uint16_t* dst, int64_t n);
void ConvertRowF32ToF16(const float* src, uint16_t* dst, int64_t n);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a q4_k block.
void Q4KScaleMin(int j, const uint8_t* scales, uint8_t* scale, uint8_t* min);

}  // namespace ref
}  // namespace ocular
