// ModelConfig: the typed configuration of a Qwen3-VL checkpoint.
//
// One model, two file formats, one config: a Hugging Face `config.json` (config_hf.cc) and the
// llama.cpp GGUF metadata of a text GGUF + mmproj GGUF pair (config_gguf.cc) both produce this
// struct, and ValidateConfig() applies the same checks to both. Values follow the HF names
// (spec/qwen3-vl.md section 1). MoE fields are parsed so a MoE checkpoint is recognised, and
// then refused by ValidateConfig() until Ocular supports it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace ocular::loader {
class GgufFile;
}

namespace ocular::qwen3vl {

// Qwen3 dense (or MoE) text decoder.
struct TextConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // explicit (128 in every release), not hidden_size / num_heads
  float rms_norm_eps = 0.0f;
  double rope_theta = 0.0;
  // Rotary slots per axis (t, h, w); sums to head_dim / 2.
  std::array<int64_t, 3> mrope_section = {0, 0, 0};
  bool mrope_interleaved = false;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  std::string hidden_act;  // "silu"
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  int64_t max_position_embeddings = 0;

  // MoE (model_type qwen3_vl_moe). Parsed only to refuse the checkpoint clearly.
  bool is_moe = false;
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
};

// The ViT + patch merger + DeepStack mergers.
struct VisionConfig {
  int64_t depth = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_heads = 0;
  int64_t in_channels = 3;
  int64_t patch_size = 0;
  int64_t temporal_patch_size = 0;
  int64_t spatial_merge_size = 0;
  int64_t out_hidden_size = 0;          // = text hidden_size
  int64_t num_position_embeddings = 0;  // a square: side x side learned table
  std::vector<int64_t> deepstack_visual_indexes;  // ViT layers whose output feeds DeepStack
  std::string hidden_act;                         // "gelu_pytorch_tanh"
  float layer_norm_eps = 0.0f;

  int64_t head_dim() const { return num_heads > 0 ? hidden_size / num_heads : 0; }
  // Width of the merger input: hidden_size * merge^2.
  int64_t merged_hidden_size() const {
    return hidden_size * spatial_merge_size * spatial_merge_size;
  }
};

// Special token ids used to splice vision features into the prompt.
struct VisionTokenIds {
  int64_t image_token_id = 151655;
  int64_t video_token_id = 151656;
  int64_t vision_start_token_id = 151652;
  int64_t vision_end_token_id = 151653;
};

struct ModelConfig {
  std::string architecture;  // "Qwen3VLForConditionalGeneration"
  std::string model_type;    // "qwen3_vl" (or "qwen3_vl_moe")
  TextConfig text;
  bool has_vision = true;  // false for a text GGUF loaded without its mmproj
  VisionConfig vision;
  VisionTokenIds tokens;
};

inline constexpr const char* kArchitectureDense = "Qwen3VLForConditionalGeneration";
inline constexpr const char* kArchitectureMoe = "Qwen3VLMoeForConditionalGeneration";

// Upper bounds on config values: far above every released model, low enough that products of
// them (tensor sizes, parameter counts) cannot overflow 64-bit arithmetic.
inline constexpr int64_t kMaxVocab = 1 << 22;
inline constexpr int64_t kMaxHidden = 1 << 16;
inline constexpr int64_t kMaxIntermediate = 1 << 18;
inline constexpr int64_t kMaxLayers = 1024;
inline constexpr int64_t kMaxHeads = 1024;
inline constexpr int64_t kMaxHeadDim = 1024;
inline constexpr int64_t kMaxPositions = int64_t{1} << 24;
inline constexpr int64_t kMaxPatch = 64;
inline constexpr int64_t kMaxMerge = 8;
inline constexpr int64_t kMaxPositionEmbeddings = 1 << 20;
inline constexpr int64_t kMaxExperts = 4096;

// Semantic checks shared by both formats. Returns InvalidArgument/OutOfRange naming the field
// ("text_config.num_key_value_heads: ..."), or Unimplemented for valid but unsupported
// checkpoints (MoE, attention bias, other activations).
Status ValidateConfig(const ModelConfig& config);

// Parses an HF config.json text (4.57 `rope_scaling` + `rope_theta`, or v5 `rope_parameters`).
// Checks types and presence only; call ValidateConfig() for the semantic checks.
Result<ModelConfig> ParseHfConfig(std::string_view json_text);
// Reads `<dir>/config.json` (or the given file), parses and validates it.
Result<ModelConfig> LoadHfConfig(const std::string& path);

// The HF config.json text for `config` (transformers 4.57 layout, as the released
// checkpoints ship it). ParseHfConfig(dump) gives back `config`.
std::string ConfigToHfJson(const ModelConfig& config);

// From llama.cpp GGUF metadata: the text GGUF (`general.architecture` qwen3vl, `qwen3vl.*` and
// `tokenizer.ggml.*` keys) and optionally its mmproj (`clip.*` keys, projector qwen3vl_merger).
// Without the mmproj, has_vision is false. Validated like the HF path. Values GGUF does not
// store come from the tensors (vocab from the token list, tie from a missing output.weight)
// or from the token list (vision token ids).
Result<ModelConfig> ConfigFromGguf(const loader::GgufFile& text, const loader::GgufFile* mmproj);

// JSON views for `ocular inspect --json` (HF key names).
nlohmann::json TextConfigToJson(const TextConfig& text);
nlohmann::json VisionConfigToJson(const VisionConfig& vision);

}  // namespace ocular::qwen3vl
