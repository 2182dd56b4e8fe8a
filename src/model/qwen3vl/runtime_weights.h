// Runtime weights: the mapped checkpoint tensors as kernel-ready views.
//
// Matrices stay in place in the file mapping, in their stored dtype (kernels::WeightMatrix);
// small tensors (norm weights, biases, the position table) are widened to f32 once at load.
// The GGUF patch embedding, stored as two per-frame kernels, is rebuilt into the HF
// [D, 3*2*P*P] layout (f32) so both formats run the same code.
#pragma once

#include <vector>

#include "base/status.h"
#include "kernels/kernels.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/weight_map.h"

namespace ocular::qwen3vl {

// y = x W^T + b.
struct Linear {
  kernels::WeightMatrix w;  // [out, in]
  std::vector<float> b;     // [out] f32, empty when the layer has no bias
  const float* bias() const { return b.empty() ? nullptr : b.data(); }
};

struct VisionBlockRt {
  std::vector<float> norm1_w, norm1_b, norm2_w, norm2_b;  // [D] f32
  Linear qkv;   // [3D, D]
  Linear proj;  // [D, D]
  Linear fc1;   // [F, D]
  Linear fc2;   // [D, F]
};

struct MergerRt {
  std::vector<float> norm_w, norm_b;  // [D] (main merger, per patch) or [4D] (DeepStack)
  Linear fc1;                         // [4D, 4D]
  Linear fc2;                         // [O, 4D]
};

struct VisionRt {
  std::vector<float> patch_embed_f32;  // [D, 1536] f32 when rebuilt from GGUF, else empty
  Linear patch_embed;                  // [D, C*T*P*P], columns ordered (c, t, py, px)
  std::vector<float> pos_embed;        // [side*side, D] f32
  int64_t pos_side = 0;                // side of the square position table
  std::vector<VisionBlockRt> blocks;
  MergerRt merger;
  std::vector<MergerRt> deepstack;     // in deepstack_visual_indexes order
};

struct TextLayerRt {
  std::vector<float> attn_norm, ffn_norm;  // [h] f32
  std::vector<float> q_norm, k_norm;       // [head_dim] f32
  kernels::WeightMatrix q, k, v, o;        // [H*hd, h], [K*hd, h], [K*hd, h], [h, H*hd]
  kernels::WeightMatrix gate, up, down;    // [f, h], [f, h], [h, f]
};

struct TextRt {
  kernels::WeightMatrix token_embd;  // [vocab, h]
  kernels::WeightMatrix lm_head;     // [vocab, h] (== token_embd when tied)
  std::vector<float> output_norm;    // [h] f32
  std::vector<TextLayerRt> layers;
};

struct RuntimeWeights {
  TextRt text;
  bool has_vision = false;
  VisionRt vision;
};

// Builds the runtime views. `weights` (and the mappings behind it) must outlive the result.
Result<RuntimeWeights> BuildRuntimeWeights(const ModelConfig& config, const ModelWeights& weights);

}  // namespace ocular::qwen3vl
