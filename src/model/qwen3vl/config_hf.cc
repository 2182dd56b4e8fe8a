// HF config.json <-> ModelConfig (transformers 4.57 and v5 key layouts).
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "model/qwen3vl/config.h"
#include "model/qwen3vl/config_json_util.h"

namespace ocular::qwen3vl {
namespace {

using json_util::GetBool;
using json_util::GetInt;
using json_util::GetIntArray;
using json_util::GetIntOrIntArray;
using json_util::GetNumber;
using json_util::GetString;

constexpr uint64_t kMaxConfigBytes = 4 << 20;

// The rotary settings live in `rope_scaling` (+ `rope_theta` beside it) in 4.57 and in
// `rope_parameters` (with `rope_theta` inside) in v5.
Status ParseRope(const nlohmann::json& tc, TextConfig* text) {
  const nlohmann::json* rope = json_util::Find(tc, "rope_parameters");
  std::string rope_path = "text_config.rope_parameters";
  if (rope == nullptr) {
    rope = json_util::Find(tc, "rope_scaling");
    rope_path = "text_config.rope_scaling";
  }
  if (rope == nullptr) {
    return NotFound("text_config: missing rope_scaling / rope_parameters (mrope_section)");
  }
  if (!rope->is_object()) return InvalidArgument(rope_path + ": must be an object");
  ASSIGN_OR_RETURN(std::string rope_type, GetString(*rope, "rope_type", rope_path, "default"));
  if (rope_type != "default" && rope_type != "mrope") {
    return Unimplemented(rope_path + ".rope_type: only the default rotary type is supported");
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> section, GetIntArray(*rope, "mrope_section", rope_path, 8));
  if (section.size() != 3) {
    return InvalidArgument(rope_path + ".mrope_section: must have 3 entries (t, h, w)");
  }
  for (int i = 0; i < 3; ++i) text->mrope_section[i] = section[i];
  ASSIGN_OR_RETURN(text->mrope_interleaved, GetBool(*rope, "mrope_interleaved", rope_path, false));
  // v5 keeps rope_theta inside rope_parameters; 4.57 beside it. Qwen3-VL's default is 5e6.
  if (json_util::Find(*rope, "rope_theta") != nullptr) {
    ASSIGN_OR_RETURN(text->rope_theta, GetNumber(*rope, "rope_theta", rope_path));
  } else {
    ASSIGN_OR_RETURN(text->rope_theta, GetNumber(tc, "rope_theta", "text_config", 5000000.0));
  }
  return OkStatus();
}

Status ParseText(const nlohmann::json& root, const nlohmann::json& tc, ModelConfig* config) {
  TextConfig& t = config->text;
  const char* p = "text_config";
  ASSIGN_OR_RETURN(t.vocab_size, GetInt(tc, "vocab_size", p));
  ASSIGN_OR_RETURN(t.hidden_size, GetInt(tc, "hidden_size", p));
  ASSIGN_OR_RETURN(t.intermediate_size, GetInt(tc, "intermediate_size", p));
  ASSIGN_OR_RETURN(t.num_layers, GetInt(tc, "num_hidden_layers", p));
  ASSIGN_OR_RETURN(t.num_heads, GetInt(tc, "num_attention_heads", p));
  ASSIGN_OR_RETURN(t.num_kv_heads, GetInt(tc, "num_key_value_heads", p));
  ASSIGN_OR_RETURN(t.head_dim, GetInt(tc, "head_dim", p));
  ASSIGN_OR_RETURN(double eps, GetNumber(tc, "rms_norm_eps", p, 1e-6));
  t.rms_norm_eps = static_cast<float>(eps);
  if (!(eps > 0.0 && eps < 1.0)) return OutOfRange("text_config.rms_norm_eps: must be in (0, 1)");
  RETURN_IF_ERROR(ParseRope(tc, &t));
  ASSIGN_OR_RETURN(t.hidden_act, GetString(tc, "hidden_act", p, "silu"));
  ASSIGN_OR_RETURN(t.attention_bias, GetBool(tc, "attention_bias", p, false));
  ASSIGN_OR_RETURN(t.max_position_embeddings, GetInt(tc, "max_position_embeddings", p, 262144));
  ASSIGN_OR_RETURN(t.bos_token_id, GetInt(tc, "bos_token_id", p, 151643));
  ASSIGN_OR_RETURN(t.eos_token_ids, GetIntOrIntArray(tc, "eos_token_id", p, 64));
  if (t.eos_token_ids.empty()) t.eos_token_ids.push_back(151645);
  // tie_word_embeddings sits at the top level in 4.57 and inside text_config in v5.
  if (json_util::Find(root, "tie_word_embeddings") != nullptr) {
    ASSIGN_OR_RETURN(t.tie_word_embeddings, GetBool(root, "tie_word_embeddings", "", false));
  } else {
    ASSIGN_OR_RETURN(t.tie_word_embeddings, GetBool(tc, "tie_word_embeddings", p, false));
  }
  // MoE fields: recognised so the checkpoint is refused with a clear message.
  ASSIGN_OR_RETURN(t.num_experts, GetInt(tc, "num_experts", p, 0));
  ASSIGN_OR_RETURN(t.num_experts_per_tok, GetInt(tc, "num_experts_per_tok", p, 0));
  ASSIGN_OR_RETURN(t.moe_intermediate_size, GetInt(tc, "moe_intermediate_size", p, 0));
  t.is_moe = config->model_type == "qwen3_vl_moe" || t.num_experts > 0;
  return OkStatus();
}

Status ParseVision(const nlohmann::json& vc, VisionConfig* v) {
  const char* p = "vision_config";
  ASSIGN_OR_RETURN(v->depth, GetInt(vc, "depth", p));
  ASSIGN_OR_RETURN(v->hidden_size, GetInt(vc, "hidden_size", p));
  ASSIGN_OR_RETURN(v->intermediate_size, GetInt(vc, "intermediate_size", p));
  ASSIGN_OR_RETURN(v->num_heads, GetInt(vc, "num_heads", p));
  ASSIGN_OR_RETURN(v->in_channels, GetInt(vc, "in_channels", p, 3));
  ASSIGN_OR_RETURN(v->patch_size, GetInt(vc, "patch_size", p, 16));
  ASSIGN_OR_RETURN(v->temporal_patch_size, GetInt(vc, "temporal_patch_size", p, 2));
  ASSIGN_OR_RETURN(v->spatial_merge_size, GetInt(vc, "spatial_merge_size", p, 2));
  ASSIGN_OR_RETURN(v->out_hidden_size, GetInt(vc, "out_hidden_size", p));
  ASSIGN_OR_RETURN(v->num_position_embeddings, GetInt(vc, "num_position_embeddings", p, 2304));
  ASSIGN_OR_RETURN(v->deepstack_visual_indexes,
                   GetIntArray(vc, "deepstack_visual_indexes", p, kMaxLayers));
  ASSIGN_OR_RETURN(v->hidden_act, GetString(vc, "hidden_act", p, "gelu_pytorch_tanh"));
  // The HF vision tower hard-codes LayerNorm eps 1e-6 (not a config key).
  ASSIGN_OR_RETURN(double eps, GetNumber(vc, "layer_norm_eps", p, 1e-6));
  if (!(eps > 0.0 && eps < 1.0)) return OutOfRange("vision_config.layer_norm_eps: must be in (0, 1)");
  v->layer_norm_eps = static_cast<float>(eps);
  return OkStatus();
}

// The shortest decimal that reads back as `f` (1e-6f -> 1e-06, not 9.99999997e-07), so
// a written config.json looks like the released ones and round-trips exactly.
double ShortestDouble(float f) {
  char buf[32];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return std::strtod(buf, nullptr);
}

}  // namespace

Result<ModelConfig> ParseHfConfig(std::string_view json_text) {
  ASSIGN_OR_RETURN(nlohmann::json root, json_util::ParseObject(json_text, "config.json"));
  ModelConfig config;
  ASSIGN_OR_RETURN(config.model_type, GetString(root, "model_type", "", ""));
  if (config.model_type != "qwen3_vl" && config.model_type != "qwen3_vl_moe") {
    return Unimplemented("config.json: model_type must be qwen3_vl (Qwen3-VL checkpoints only)");
  }
  const nlohmann::json* archs = json_util::Find(root, "architectures");
  if (archs != nullptr && archs->is_array() && !archs->empty() && (*archs)[0].is_string()) {
    config.architecture = (*archs)[0].get<std::string>();
  } else {
    config.architecture =
        config.model_type == "qwen3_vl_moe" ? kArchitectureMoe : kArchitectureDense;
  }
  const nlohmann::json* tc = json_util::Find(root, "text_config");
  if (tc == nullptr || !tc->is_object()) return NotFound("config.json: missing text_config");
  const nlohmann::json* vc = json_util::Find(root, "vision_config");
  if (vc == nullptr || !vc->is_object()) return NotFound("config.json: missing vision_config");
  RETURN_IF_ERROR(ParseText(root, *tc, &config));
  RETURN_IF_ERROR(ParseVision(*vc, &config.vision));
  config.has_vision = true;
  VisionTokenIds& ids = config.tokens;
  ASSIGN_OR_RETURN(ids.image_token_id, GetInt(root, "image_token_id", "", ids.image_token_id));
  ASSIGN_OR_RETURN(ids.video_token_id, GetInt(root, "video_token_id", "", ids.video_token_id));
  ASSIGN_OR_RETURN(ids.vision_start_token_id,
                   GetInt(root, "vision_start_token_id", "", ids.vision_start_token_id));
  ASSIGN_OR_RETURN(ids.vision_end_token_id,
                   GetInt(root, "vision_end_token_id", "", ids.vision_end_token_id));
  return config;
}

Result<ModelConfig> LoadHfConfig(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) p /= "config.json";
  ASSIGN_OR_RETURN(std::string text, json_util::ReadSmallFile(p.string(), kMaxConfigBytes));
  Result<ModelConfig> config = ParseHfConfig(text);
  if (!config.ok()) return config.status().WithContext(p.string());
  Status valid = ValidateConfig(*config);
  if (!valid.ok()) return valid.WithContext(p.string());
  return config;
}

std::string ConfigToHfJson(const ModelConfig& config) {
  const TextConfig& t = config.text;
  const VisionConfig& v = config.vision;
  nlohmann::ordered_json eos = t.eos_token_ids.size() == 1
                                   ? nlohmann::ordered_json(t.eos_token_ids[0])
                                   : nlohmann::ordered_json(t.eos_token_ids);
  nlohmann::ordered_json text = {
      {"model_type", "qwen3_vl_text"},
      {"attention_bias", t.attention_bias},
      {"attention_dropout", 0.0},
      {"bos_token_id", t.bos_token_id},
      {"eos_token_id", eos},
      {"dtype", "bfloat16"},
      {"head_dim", t.head_dim},
      {"hidden_act", t.hidden_act},
      {"hidden_size", t.hidden_size},
      {"initializer_range", 0.02},
      {"intermediate_size", t.intermediate_size},
      {"max_position_embeddings", t.max_position_embeddings},
      {"num_attention_heads", t.num_heads},
      {"num_hidden_layers", t.num_layers},
      {"num_key_value_heads", t.num_kv_heads},
      {"rms_norm_eps", ShortestDouble(t.rms_norm_eps)},
      {"rope_scaling",
       {{"mrope_interleaved", t.mrope_interleaved},
        {"mrope_section", t.mrope_section},
        {"rope_type", "default"}}},
      {"rope_theta", t.rope_theta},
      {"tie_word_embeddings", t.tie_word_embeddings},
      {"use_cache", true},
      {"vocab_size", t.vocab_size},
  };
  nlohmann::ordered_json vision = {
      {"model_type", "qwen3_vl"},
      {"deepstack_visual_indexes", v.deepstack_visual_indexes},
      {"depth", v.depth},
      {"hidden_act", v.hidden_act},
      {"hidden_size", v.hidden_size},
      {"in_channels", v.in_channels},
      {"initializer_range", 0.02},
      {"intermediate_size", v.intermediate_size},
      {"num_heads", v.num_heads},
      {"num_position_embeddings", v.num_position_embeddings},
      {"out_hidden_size", v.out_hidden_size},
      {"patch_size", v.patch_size},
      {"spatial_merge_size", v.spatial_merge_size},
      {"temporal_patch_size", v.temporal_patch_size},
  };
  nlohmann::ordered_json root = {
      {"architectures", {config.architecture}},
      {"model_type", config.model_type},
      {"image_token_id", config.tokens.image_token_id},
      {"video_token_id", config.tokens.video_token_id},
      {"vision_start_token_id", config.tokens.vision_start_token_id},
      {"vision_end_token_id", config.tokens.vision_end_token_id},
      {"tie_word_embeddings", t.tie_word_embeddings},
      {"transformers_version", "4.57.0"},
      {"text_config", text},
      {"vision_config", vision},
  };
  return root.dump(2) + "\n";
}

}  // namespace ocular::qwen3vl
