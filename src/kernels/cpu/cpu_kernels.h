// The per-ISA kernel bodies behind kernels.h, as one table of function pointers per
// instruction-set path. kernels.h's functions pick the table once per call from ctx.isa()
// (STYLE.md rule 13); the bodies live in files compiled with that ISA's flags.
#pragma once

#include <cstdint>

#include "kernels/compute_context.h"
#include "kernels/kernels.h"
#include "tensor/quant.h"

namespace ocular::kernels::cpu {

// Query heads per kv head the slot kernels (dot_slot, pv_slot) serve.
constexpr int kMaxSlotGroup = 4;

struct CpuKernels {
  // y[i, j] (+ bias[j]) for weight rows j in [row_begin, row_end) and all i < m; one pass over
  // those weight rows. x: [m, w.cols] (x_stride), y: [m, w.rows] (y_stride). m <= 8.
  void (*gemv)(const float* x, int64_t x_stride, int64_t m, const WeightMatrix& w,
               int64_t row_begin, int64_t row_end, const float* bias, float* y,
               int64_t y_stride);
  // As gemv for q8_0 / q4_0 weights with activations already quantized to q8_0:
  // xq: [m, w.cols / 32] blocks with xq_stride blocks between rows.
  void (*gemv_q8)(const BlockQ8_0* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
                  int64_t row_begin, int64_t row_end, const float* bias, float* y,
                  int64_t y_stride);
  // As gemv_q8 over WeightLayout::kGemvPacked weights, for the row groups [group_begin,
  // group_end) (16 rows each); xd / xoff: [m, w.cols / 32] (xq_stride apart, as xq) each
  // activation block's scale in f32 and its offset term: minus the sum of its 32 values
  // times the packed weights' unsigned offset (8 for q4_0, 128 for q8_0). Null where the ISA
  // has no packed kernel (matmul.cc then unpacks the groups for gemv_q8).
  void (*gemv_q8_packed)(const BlockQ8_0* xq, const float* xd, const int32_t* xoff,
                         int64_t xq_stride, int64_t m, const WeightMatrix& w, int64_t group_begin,
                         int64_t group_end, const float* bias, float* y, int64_t y_stride);
  // x: [n] f32 -> n / 32 q8_0 blocks; bit for bit ocular::ref::QuantizeRowQ8_0 (finite x).
  void (*quantize_row_q8_0)(const float* x, BlockQ8_0* y, int64_t n);
  // As gemv_q8 for q4_k / q6_k weights with activations quantized to q8_K blocks
  // (xq: [m, w.cols / 256], xq_stride blocks apart); the arithmetic of ref::GemvQ8K.
  void (*gemv_q8k)(const BlockQ8_K* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
                   int64_t row_begin, int64_t row_end, const float* bias, float* y,
                   int64_t y_stride);
  // As gemv_q8k over WeightLayout::kGemvPacked weights, for the row groups [group_begin,
  // group_end) (16 rows each). Null where the ISA has no packed kernel (matmul.cc then unpacks
  // the groups for gemv_q8k).
  void (*gemv_q8k_packed)(const BlockQ8_K* xq, int64_t xq_stride, int64_t m,
                          const WeightMatrix& w, int64_t group_begin, int64_t group_end,
                          const float* bias, float* y, int64_t y_stride);
  // As gemv for bf16 weights with w.cols % 32 == 0, on x in pair-split order (xs: [m, w.cols],
  // xs_stride apart; SplitPairs in gemv_bf16.h). Null where the ISA has no such kernel.
  void (*gemv_bf16_split)(const float* xs, int64_t xs_stride, int64_t m, const WeightMatrix& w,
                          int64_t row_begin, int64_t row_end, const float* bias, float* y,
                          int64_t y_stride);
  // x: [n] f32 -> n / 256 q8_K blocks; bit for bit ocular::ref::QuantizeRowQ8_K (finite x).
  void (*quantize_row_q8_k)(const float* x, BlockQ8_K* y, int64_t n);
  void (*dequantize_row)(DType dtype, const void* src, float* dst, int64_t n);
  // dst: n values of bf16 (the compute dtype of oneDNN bf16 tiles).
  void (*dequantize_row_bf16)(DType dtype, const void* src, uint16_t* dst, int64_t n);
  void (*convert_f32_to_bf16)(const float* src, uint16_t* dst, int64_t n);
  void (*convert_f32_to_f16)(const float* src, uint16_t* dst, int64_t n);
  void (*round_to_bf16)(float* x, int64_t n);
  void (*rms_norm)(const float* x, const float* weight, float eps, float* y, int64_t rows,
                   int64_t dim);
  void (*layer_norm)(const float* x, const float* weight, const float* bias, float eps,
                     float* y, int64_t rows, int64_t dim);
  void (*softmax)(float* x, int64_t n);
  // x[i] = exp(x[i] - shift) in place; returns the sum of the results. x[i] may be -inf.
  float (*exp_shift_sum)(float* x, float shift, int64_t n);
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
  void (*gelu_erf)(float* x, int64_t n);
  void (*gelu_tanh)(float* x, int64_t n);
  void (*add_in_place)(float* y, const float* x, int64_t n);
  void (*scale)(float* x, float s, int64_t n);
  void (*rope_neox)(float* x, int64_t tokens, int heads, int head_dim, int64_t token_stride,
                    const float* cos, const float* sin, int rot_dim);
  // Attention building blocks on head_dim-long vectors.
  float (*dot)(const float* a, const float* b, int64_t n);
  // out[j] = dot(q, keys[j], n) for j < count, bit for bit (several keys in flight).
  void (*dot_keys)(const float* q, const float* const* keys, int count, int64_t n, float* out);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  // scores[j] = scale * sum_d q[d] * kt[d * ld + j] for j < count: one query against a block
  // of keys stored transposed (kt: [head_dim, ld] f32, count <= ld).
  void (*qk_scores)(const float* q, const float* kt, int64_t ld, int head_dim, int count,
                    float scale, float* scores);
  // acc[d] = acc[d] * c + sum_j p[j] * v_rows[j][d] for d < head_dim, j < count.
  void (*pv_accumulate)(const float* p, const float* const* v_rows, int count, int head_dim,
                        float c, float* acc);
  // dot_keys / pv_accumulate on the rows of a bf16 or f16 KV cache as stored, widened in
  // registers: bit for bit the f32 kernels on the widened rows. Null where the ISA has none
  // (attention.cc then widens the rows into scratch with load_row).
  void (*dot_keys_half)(DType dtype, const float* q, const void* const* keys, int count,
                        int64_t n, float* out);
  void (*pv_accumulate_half)(DType dtype, const float* p, const void* const* v_rows, int count,
                             int head_dim, float c, float* acc);
  // One decode token against one KV cache slot, all kv heads (paged_decode.cc): the slot holds
  // kv_heads rows of head_dim values of `dtype` (f32, bf16, f16) side by side, read in
  // address order. q: [kv_heads * group, head_dim] f32 rows; out[r * out_stride] for row
  // r = h * group + g is bit for bit dot_keys(_half)'s score of q row r against kv head h's
  // key. group <= kMaxSlotGroup. Null where the ISA has none.
  void (*dot_slot)(DType dtype, const float* q, int kv_heads, int group, int head_dim,
                   const void* slot, float* out, int64_t out_stride);
  // acc[r][d] += p[r * p_stride] * value[h][d] for the same rows of one value slot, each
  // element's update the FMA pv_accumulate(_half) applies per key. acc: [rows, head_dim].
  void (*pv_slot)(DType dtype, const float* p, int64_t p_stride, int kv_heads, int group,
                  int head_dim, const void* slot, float* acc);
  // dst[i] = f32(src[i]) for a KV cache row of `dtype` (f32, bf16, f16).
  void (*load_row)(DType dtype, const void* src, float* dst, int64_t n);
  void (*store_row)(DType dtype, const float* src, void* dst, int64_t n);
};

const CpuKernels& ScalarKernels();
const CpuKernels& Avx2Kernels();
const CpuKernels& Avx512Kernels();

inline const CpuKernels& KernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return Avx512Kernels();
    case Isa::kAvx2: return Avx2Kernels();
    default: return ScalarKernels();
  }
}

}  // namespace ocular::kernels::cpu
