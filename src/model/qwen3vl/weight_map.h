// Weight map: resolves the tensors of an HF checkpoint (safetensors) or a llama.cpp GGUF pair
// (text GGUF + mmproj) to the same internal weight slots, checking every shape against the
// config. Pointers refer to TensorInfo owned by the loader objects (SafetensorsModel /
// GgufFile), which must outlive the ModelWeights.
#pragma once

#include <span>
#include <vector>

#include "base/status.h"
#include "model/loader/tensor_info.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/weight_spec.h"

namespace ocular::qwen3vl {

using TensorRef = const loader::TensorInfo*;

// Shapes below: h text hidden, q = heads*head_dim, kv = kv_heads*head_dim, f text FFN,
// D vision hidden, F vision FFN, M = D*merge^2, O = out_hidden. Any supported dtype.
struct TextLayerWeights {
  TensorRef attn_norm = nullptr;  // [h]
  TensorRef q = nullptr;          // [q, h]
  TensorRef k = nullptr;          // [kv, h]
  TensorRef v = nullptr;          // [kv, h]
  TensorRef o = nullptr;          // [h, q]
  TensorRef q_norm = nullptr;     // [head_dim]
  TensorRef k_norm = nullptr;     // [head_dim]
  TensorRef ffn_norm = nullptr;   // [h]
  TensorRef gate = nullptr;       // [f, h]
  TensorRef up = nullptr;         // [f, h]
  TensorRef down = nullptr;       // [h, f]
};

struct TextWeights {
  TensorRef token_embd = nullptr;   // [vocab, h]
  TensorRef output_norm = nullptr;  // [h]
  TensorRef lm_head = nullptr;      // [vocab, h]; null when tied (use token_embd)
  std::vector<TextLayerWeights> layers;
};

struct VisionBlockWeights {
  TensorRef norm1_w = nullptr, norm1_b = nullptr;  // [D]
  TensorRef norm2_w = nullptr, norm2_b = nullptr;  // [D]
  TensorRef qkv_w = nullptr;                       // [3D, D], rows q|k|v
  TensorRef qkv_b = nullptr;                       // [3D]
  TensorRef proj_w = nullptr;                      // [D, D]
  TensorRef proj_b = nullptr;                      // [D]
  TensorRef fc1_w = nullptr;                       // [F, D]
  TensorRef fc1_b = nullptr;                       // [F]
  TensorRef fc2_w = nullptr;                       // [D, F]
  TensorRef fc2_b = nullptr;                       // [D]
};

struct MergerWeights {
  TensorRef norm_w = nullptr, norm_b = nullptr;  // [D] (final merger) or [M] (DeepStack)
  TensorRef fc1_w = nullptr;                     // [M, M]
  TensorRef fc1_b = nullptr;                     // [M]
  TensorRef fc2_w = nullptr;                     // [O, M]
  TensorRef fc2_b = nullptr;                     // [O]
};

struct VisionWeights {
  // HF: the whole Conv3d kernel [D, 3, 2, P, P] and patch_embed_w1 == null.
  // GGUF: temporal frame 0 in patch_embed_w and frame 1 in patch_embed_w1, each [D, 3, P, P].
  TensorRef patch_embed_w = nullptr;
  TensorRef patch_embed_w1 = nullptr;
  TensorRef patch_embed_b = nullptr;  // [D]
  TensorRef pos_embed = nullptr;      // [num_position_embeddings, D]
  std::vector<VisionBlockWeights> blocks;
  MergerWeights merger;
  std::vector<MergerWeights> deepstack;  // one per deepstack_visual_indexes entry, same order
};

struct ModelWeights {
  WeightFormat format = WeightFormat::kHf;
  TextWeights text;
  bool has_vision = false;
  VisionWeights vision;
};

// HF checkpoint: every tensor of the model in `tensors`. Errors name the tensor: missing,
// unexpected (not part of the model), wrong shape, or a dtype Ocular cannot compute with.
// A tied checkpoint that still carries lm_head.weight is accepted; the tensor is ignored.
Result<ModelWeights> MapHfWeights(const ModelConfig& config,
                                  std::span<const loader::TensorInfo> tensors);
// GGUF pair: the text GGUF's tensors and the mmproj's (empty span when !config.has_vision).
Result<ModelWeights> MapGgufWeights(const ModelConfig& config,
                                    std::span<const loader::TensorInfo> text_tensors,
                                    std::span<const loader::TensorInfo> mmproj_tensors);

}  // namespace ocular::qwen3vl
