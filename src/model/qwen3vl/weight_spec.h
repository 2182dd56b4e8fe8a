// WeightSpec: the exact tensor list of a Qwen3-VL checkpoint for a config, in HF naming
// (`model.visual.*`, `model.language_model.*`, `lm_head.weight`) or llama.cpp GGUF naming
// (`token_embd.weight`, `blk.N.*` in the text GGUF; `v.*`, `mm.*` in the mmproj). Both lists
// name the same internal slots (WeightSlot + layer), so the weight map and the checkpoint
// generator share one source of truth. Shapes are outer-to-inner PyTorch order ([out, in] for a
// Linear); the GGUF loader reverses ne[] to the same order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/qwen3vl/config.h"

namespace ocular::qwen3vl {

enum class WeightFormat { kHf, kGguf };
// Which file a GGUF tensor lives in (HF: text = model.language_model.* and lm_head).
enum class WeightPart { kText, kVision };
// What a tensor is, for generation (initial values) and reporting.
enum class WeightRole {
  kMatrix,     // Linear weight [out, in]
  kEmbedding,  // token embedding / untied lm_head [vocab, hidden]
  kNorm,       // RMSNorm / LayerNorm scale
  kBias,       // Linear or LayerNorm bias
  kPatchEmbed, // Conv3d kernel (or one temporal frame of it in GGUF)
  kPosEmbed,   // learned position table [num_position_embeddings, D]
};

enum class WeightSlot {
  // Text, per layer.
  kAttnNorm, kQ, kK, kV, kO, kQNorm, kKNorm, kFfnNorm, kGate, kUp, kDown,
  // Text, global.
  kTokenEmbd, kOutputNorm, kLmHead,
  // Vision block, per layer.
  kVNorm1W, kVNorm1B, kVNorm2W, kVNorm2B, kVQkvW, kVQkvB, kVProjW, kVProjB,
  kVFc1W, kVFc1B, kVFc2W, kVFc2B,
  // Vision, global. kVPatchW is the whole Conv3d kernel (HF) or temporal frame 0 (GGUF);
  // kVPatchW1 is frame 1 (GGUF only).
  kVPatchW, kVPatchW1, kVPatchB, kVPosEmbed,
  // Merger (layer -1) and DeepStack mergers (layer = k, the k-th entry of
  // deepstack_visual_indexes).
  kMNormW, kMNormB, kMFc1W, kMFc1B, kMFc2W, kMFc2B,
};

struct WeightSpec {
  std::string name;
  WeightSlot slot;
  int layer = -1;                // layer / block / DeepStack index, -1 for global tensors
  std::vector<int64_t> shape;    // outer-to-inner
  WeightRole role;
  WeightPart part;
  int64_t fan_in = 1;            // input width of a matrix (for N(0, 1/fan_in) generation)
};

// Every tensor of the checkpoint, in the order the respective converter writes them.
// Preconditions (CHECKed): ValidateConfig(config) is OK, has_vision for the vision part.
// HF: lm_head.weight only when not tied. GGUF: text file tensors first, then mmproj tensors
// (omitted when !config.has_vision).
std::vector<WeightSpec> WeightSpecs(const ModelConfig& config, WeightFormat format);

}  // namespace ocular::qwen3vl
