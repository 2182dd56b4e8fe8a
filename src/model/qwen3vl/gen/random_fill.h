// Deterministic, chunk- and thread-independent random weights for `ocular gen`.
// Element i of tensor t is a pure function of (seed, t, i) (a counter-based generator), so any
// split of a tensor into chunks and threads gives the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "base/status.h"
#include "model/qwen3vl/weight_spec.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"

namespace ocular::qwen3vl::gen {

// How a tensor's values are drawn: value = mean + stddev * z, z ~ approx. N(0, 1)
// (Irwin-Hall sum of four uniforms, exact mean and variance, tails bounded at +-3.46).
struct FillRule {
  float mean = 0.0f;
  float stddev = 1.0f;
};

// Weights ~ N(0, 1/fan_in) keep activations at unit scale; embeddings ~ N(0, 1/hidden) give
// unit-scale logits through a tied head; norm scales ~ 1; biases and position tables small.
FillRule RuleFor(const WeightSpec& spec);

// Values [offset, offset + out.size()) of tensor `tensor_index` (f32).
void FillF32(uint64_t seed, uint64_t tensor_index, const FillRule& rule, uint64_t offset,
             std::span<float> out);

// Converts `rows` rows of `row_len` f32 values to `dtype` (f32, f16, bf16, q8_0, q4_0, q4_k,
// q6_k).
// Precondition (CHECKed): row_len is a multiple of the dtype's block size.
void ConvertRows(DType dtype, const float* src, int64_t rows, int64_t row_len, uint8_t* dst);

// Same bytes as ref::QuantizeRowQ8_0 (GGML's reference rounding), written so the compiler can
// vectorise it: gen quantizes billions of values. Precondition: finite inputs whose block
// maxima are 0 or normal (so the inverse scale is finite), as gen's values are.
void QuantizeRowQ8_0Fast(const float* x, BlockQ8_0* y, int64_t n);

// Generates tensor `tensor_index` (num_elements values, rows of `row_len`) in `dtype` and hands
// it to `sink` in chunks of whole rows (about `chunk_bytes` each), filling and converting each
// chunk on `pool`. Memory: one f32 chunk + one output chunk.
template <typename Sink>
Status StreamTensor(ThreadPool& pool, uint64_t seed, uint64_t tensor_index, const FillRule& rule,
                    uint64_t num_elements, int64_t row_len, DType dtype, uint64_t chunk_bytes,
                    Sink&& sink);

}  // namespace ocular::qwen3vl::gen

#include "model/qwen3vl/gen/random_fill_inl.h"
