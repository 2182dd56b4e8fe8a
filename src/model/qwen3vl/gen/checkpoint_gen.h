// `ocular gen`: writes a random-weight Qwen3-VL checkpoint with the exact tensor names, shapes
// and config of the real model, streaming one tensor at a time (bounded memory).
//
// safetensors: config.json, model.safetensors (HF names, bf16/f16/f32) and the tokenizer /
//   preprocessor / generation files copied from `tokenizer_dir`.
// gguf: "<preset>-<dtype>.gguf" (llama.cpp qwen3vl text model with tokenizer.ggml.* metadata)
//   and "mmproj-<preset>-<mmdtype>.gguf" (clip, qwen3vl_merger projector), mirroring what
//   llama.cpp's converter writes: 2-D weights in the chosen dtype, 1-D tensors f32; the mmproj
//   in f32 for --dtype f32 and f16 otherwise (position table always f32).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/weight_spec.h"
#include "tensor/dtype.h"

namespace ocular::qwen3vl::gen {

struct GenOptions {
  std::string preset;             // see PresetNames()
  std::string format;             // "safetensors" or "gguf"
  // f32, f16, bf16, q8_0, q4_0, or q4_k for the Q4_K_M mix (quantized: gguf only)
  DType dtype = DType::kBF16;
  uint64_t seed = 0;
  std::filesystem::path out_dir;  // created if missing
  std::filesystem::path tokenizer_dir;
  uint64_t chunk_bytes = 32ull << 20;  // f32 staging per chunk
};

struct GenResult {
  std::vector<std::filesystem::path> files;  // everything written
  uint64_t num_params = 0;
  uint64_t bytes_written = 0;
};

// Precondition-free: every bad option is a Status naming it.
Result<GenResult> GenerateCheckpoint(const GenOptions& options, ThreadPool& pool);

// The name of a text file's dtype: "q4_k_m" for kQ4_K, else DTypeName.
std::string FileDTypeName(DType dtype);
// The dtype `gen` gives a text tensor of a `file_dtype` file before the block-size rule of
// GgufTensorDType. kQ4_K is llama.cpp's Q4_K_M mix: q6_k for the output matrix (the token
// embedding when tied) and for attn_v / ffn_down of the first and last eighth of the layers
// and every third layer between, q4_k for the other matrices. Other dtypes: file_dtype.
DType TextTensorDType(DType file_dtype, const WeightSpec& spec, int64_t num_layers, bool tied);
// The tensor dtype `gen` uses for one GGUF tensor (exposed for tests).
DType GgufTensorDType(DType file_dtype, bool is_mmproj, const std::vector<int64_t>& shape,
                      bool is_position_table);

}  // namespace ocular::qwen3vl::gen
