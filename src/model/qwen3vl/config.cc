// ValidateConfig: the semantic checks shared by the HF and GGUF config paths.
#include "model/qwen3vl/config.h"

#include <cmath>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace ocular::qwen3vl {
namespace {

Status CheckRange(int64_t value, int64_t lo, int64_t hi, const char* name) {
  if (value < lo || value > hi) {
    return OutOfRange(std::string(name) + ": " + std::to_string(value) + " is outside [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return OkStatus();
}

Status CheckTokenId(int64_t id, int64_t vocab, const char* name) {
  if (id < 0 || id >= vocab) {
    return OutOfRange(std::string(name) + ": token id " + std::to_string(id) +
                      " is outside the vocabulary of " + std::to_string(vocab));
  }
  return OkStatus();
}

Status ValidateText(const TextConfig& t) {
  if (t.is_moe) {
    return Unimplemented("MoE checkpoints are not supported yet (text_config.num_experts = " +
                         std::to_string(t.num_experts) + ")");
  }
  RETURN_IF_ERROR(CheckRange(t.vocab_size, 1, kMaxVocab, "text_config.vocab_size"));
  RETURN_IF_ERROR(CheckRange(t.hidden_size, 1, kMaxHidden, "text_config.hidden_size"));
  RETURN_IF_ERROR(
      CheckRange(t.intermediate_size, 1, kMaxIntermediate, "text_config.intermediate_size"));
  RETURN_IF_ERROR(CheckRange(t.num_layers, 1, kMaxLayers, "text_config.num_hidden_layers"));
  RETURN_IF_ERROR(CheckRange(t.num_heads, 1, kMaxHeads, "text_config.num_attention_heads"));
  RETURN_IF_ERROR(CheckRange(t.num_kv_heads, 1, kMaxHeads, "text_config.num_key_value_heads"));
  RETURN_IF_ERROR(CheckRange(t.head_dim, 2, kMaxHeadDim, "text_config.head_dim"));
  if (t.num_heads % t.num_kv_heads != 0) {
    return InvalidArgument(
        "text_config.num_key_value_heads: must divide num_attention_heads (grouped-query "
        "attention)");
  }
  if (t.head_dim % 2 != 0) return InvalidArgument("text_config.head_dim: must be even (rotary)");
  if (t.num_heads * t.head_dim > kMaxHidden * 4) {
    return OutOfRange("text_config: num_attention_heads * head_dim is too large");
  }
  if (!std::isfinite(t.rms_norm_eps) || !(t.rms_norm_eps > 0.0f) || !(t.rms_norm_eps < 1.0f)) {
    return OutOfRange("text_config.rms_norm_eps: must be in (0, 1)");
  }
  if (!std::isfinite(t.rope_theta) || !(t.rope_theta > 1.0) || t.rope_theta > 1e12) {
    return OutOfRange("text_config.rope_theta: must be in (1, 1e12]");
  }
  int64_t section_sum = 0;
  for (int64_t s : t.mrope_section) {
    if (s < 0 || s > kMaxHeadDim) {
      return OutOfRange("text_config.mrope_section: entries must be in [0, head_dim / 2]");
    }
    section_sum += s;
  }
  if (section_sum != t.head_dim / 2) {
    return InvalidArgument("text_config.mrope_section: entries sum to " +
                           std::to_string(section_sum) + ", expected head_dim / 2 = " +
                           std::to_string(t.head_dim / 2));
  }
  if (t.attention_bias) {
    return Unimplemented("text_config.attention_bias: attention biases are not supported");
  }
  if (t.hidden_act != "silu") {
    return Unimplemented("text_config.hidden_act: only silu is supported");
  }
  RETURN_IF_ERROR(CheckRange(t.max_position_embeddings, 1, kMaxPositions,
                             "text_config.max_position_embeddings"));
  RETURN_IF_ERROR(CheckTokenId(t.bos_token_id, t.vocab_size, "text_config.bos_token_id"));
  if (t.eos_token_ids.empty()) return NotFound("text_config.eos_token_id: missing");
  for (int64_t id : t.eos_token_ids) {
    RETURN_IF_ERROR(CheckTokenId(id, t.vocab_size, "text_config.eos_token_id"));
  }
  return OkStatus();
}

Status ValidateVision(const VisionConfig& v, const TextConfig& t) {
  RETURN_IF_ERROR(CheckRange(v.depth, 1, kMaxLayers, "vision_config.depth"));
  RETURN_IF_ERROR(CheckRange(v.hidden_size, 1, kMaxHidden, "vision_config.hidden_size"));
  RETURN_IF_ERROR(
      CheckRange(v.intermediate_size, 1, kMaxIntermediate, "vision_config.intermediate_size"));
  RETURN_IF_ERROR(CheckRange(v.num_heads, 1, kMaxHeads, "vision_config.num_heads"));
  if (v.hidden_size % v.num_heads != 0) {
    return InvalidArgument("vision_config.num_heads: must divide hidden_size");
  }
  // The 2-D rotary splits each head's rotary half between rows and columns.
  if (v.head_dim() % 4 != 0) {
    return InvalidArgument("vision_config: hidden_size / num_heads must be a multiple of 4");
  }
  if (v.in_channels != 3) return Unimplemented("vision_config.in_channels: must be 3 (RGB)");
  RETURN_IF_ERROR(CheckRange(v.patch_size, 1, kMaxPatch, "vision_config.patch_size"));
  // GGUF stores the Conv3d kernel as two 2-D frames; Qwen3-VL always uses 2.
  RETURN_IF_ERROR(
      CheckRange(v.temporal_patch_size, 2, 2, "vision_config.temporal_patch_size"));
  RETURN_IF_ERROR(
      CheckRange(v.spatial_merge_size, 1, kMaxMerge, "vision_config.spatial_merge_size"));
  if (v.out_hidden_size != t.hidden_size) {
    return InvalidArgument("vision_config.out_hidden_size: must equal text_config.hidden_size (" +
                           std::to_string(t.hidden_size) + ")");
  }
  RETURN_IF_ERROR(CheckRange(v.num_position_embeddings, 1, kMaxPositionEmbeddings,
                             "vision_config.num_position_embeddings"));
  int64_t side = static_cast<int64_t>(std::llround(std::sqrt(double(v.num_position_embeddings))));
  if (side * side != v.num_position_embeddings) {
    return InvalidArgument("vision_config.num_position_embeddings: must be a perfect square");
  }
  int64_t previous = -1;
  for (int64_t index : v.deepstack_visual_indexes) {
    if (index < 0 || index >= v.depth) {
      return OutOfRange("vision_config.deepstack_visual_indexes: index " + std::to_string(index) +
                        " is outside [0, depth)");
    }
    if (index <= previous) {
      return InvalidArgument(
          "vision_config.deepstack_visual_indexes: must be strictly increasing");
    }
    previous = index;
  }
  if (v.hidden_act != "gelu_pytorch_tanh" && v.hidden_act != "gelu") {
    return Unimplemented("vision_config.hidden_act: only gelu_pytorch_tanh / gelu are supported");
  }
  if (!std::isfinite(v.layer_norm_eps) || !(v.layer_norm_eps > 0.0f) ||
      !(v.layer_norm_eps < 1.0f)) {
    return OutOfRange("vision_config.layer_norm_eps: must be in (0, 1)");
  }
  return OkStatus();
}

}  // namespace

Status ValidateConfig(const ModelConfig& config) {
  RETURN_IF_ERROR(ValidateText(config.text));
  if (!config.has_vision) return OkStatus();
  RETURN_IF_ERROR(ValidateVision(config.vision, config.text));
  const int64_t vocab = config.text.vocab_size;
  RETURN_IF_ERROR(CheckTokenId(config.tokens.image_token_id, vocab, "image_token_id"));
  RETURN_IF_ERROR(CheckTokenId(config.tokens.video_token_id, vocab, "video_token_id"));
  RETURN_IF_ERROR(
      CheckTokenId(config.tokens.vision_start_token_id, vocab, "vision_start_token_id"));
  RETURN_IF_ERROR(CheckTokenId(config.tokens.vision_end_token_id, vocab, "vision_end_token_id"));
  return OkStatus();
}

nlohmann::json TextConfigToJson(const TextConfig& t) {
  nlohmann::json j = {
      {"vocab_size", t.vocab_size},
      {"hidden_size", t.hidden_size},
      {"intermediate_size", t.intermediate_size},
      {"num_hidden_layers", t.num_layers},
      {"num_attention_heads", t.num_heads},
      {"num_key_value_heads", t.num_kv_heads},
      {"head_dim", t.head_dim},
      {"rms_norm_eps", t.rms_norm_eps},
      {"rope_theta", t.rope_theta},
      {"mrope_section", t.mrope_section},
      {"mrope_interleaved", t.mrope_interleaved},
      {"tie_word_embeddings", t.tie_word_embeddings},
      {"hidden_act", t.hidden_act},
      {"bos_token_id", t.bos_token_id},
      {"eos_token_id", t.eos_token_ids},
      {"max_position_embeddings", t.max_position_embeddings},
  };
  if (t.is_moe) {
    j["num_experts"] = t.num_experts;
    j["num_experts_per_tok"] = t.num_experts_per_tok;
    j["moe_intermediate_size"] = t.moe_intermediate_size;
  }
  return j;
}

nlohmann::json VisionConfigToJson(const VisionConfig& v) {
  return {
      {"depth", v.depth},
      {"hidden_size", v.hidden_size},
      {"intermediate_size", v.intermediate_size},
      {"num_heads", v.num_heads},
      {"in_channels", v.in_channels},
      {"patch_size", v.patch_size},
      {"temporal_patch_size", v.temporal_patch_size},
      {"spatial_merge_size", v.spatial_merge_size},
      {"out_hidden_size", v.out_hidden_size},
      {"num_position_embeddings", v.num_position_embeddings},
      {"deepstack_visual_indexes", v.deepstack_visual_indexes},
      {"hidden_act", v.hidden_act},
      {"layer_norm_eps", v.layer_norm_eps},
  };
}

}  // namespace ocular::qwen3vl
