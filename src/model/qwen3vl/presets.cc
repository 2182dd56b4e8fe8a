#include "model/qwen3vl/presets.h"

namespace ocular::qwen3vl {
namespace {

struct Preset {
  const char* name;
  const char* display_name;
  int64_t hidden, layers, heads, kv_heads, head_dim, ffn;
  bool tie;
  int64_t v_depth, v_hidden, v_heads, v_ffn, v_num_pos;
  std::vector<int64_t> deepstack;
  std::array<int64_t, 3> mrope;
};

const std::vector<Preset>& Presets() {
  static const std::vector<Preset> kPresets = {
      // golden README section 1.
      {"tiny", "Tiny A", 64, 4, 4, 2, 32, 192, true, 5, 64, 4, 256, 256, {1, 2, 3}, {6, 5, 5}},
      // tiny with 256-value text rows, so that q4_k / q6_k files really hold k-quant matrices.
      {"tiny-k", "Tiny K", 256, 2, 4, 2, 64, 512, true, 5, 64, 4, 256, 256, {1, 2, 3},
       {12, 10, 10}},
      // spec section 1.3.
      {"qwen3-vl-2b", "Qwen3 VL 2B", 2048, 28, 16, 8, 128, 6144, true, 24, 1024, 16, 4096, 2304,
       {5, 11, 17}, {24, 20, 20}},
      {"qwen3-vl-4b", "Qwen3 VL 4B", 2560, 36, 32, 8, 128, 9728, true, 24, 1024, 16, 4096, 2304,
       {5, 11, 17}, {24, 20, 20}},
      {"qwen3-vl-8b", "Qwen3 VL 8B", 4096, 36, 32, 8, 128, 12288, false, 27, 1152, 16, 4304, 2304,
       {8, 16, 24}, {24, 20, 20}},
  };
  return kPresets;
}

}  // namespace

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const Preset& p : Presets()) names.push_back(p.name);
  return names;
}

std::string PresetDisplayName(std::string_view name) {
  for (const Preset& p : Presets()) {
    if (p.name == name) return p.display_name;
  }
  return std::string(name);
}

Result<ModelConfig> PresetConfig(std::string_view name) {
  for (const Preset& p : Presets()) {
    if (p.name != name) continue;
    ModelConfig c;
    c.architecture = kArchitectureDense;
    c.model_type = "qwen3_vl";
    TextConfig& t = c.text;
    t.vocab_size = 151936;
    t.hidden_size = p.hidden;
    t.intermediate_size = p.ffn;
    t.num_layers = p.layers;
    t.num_heads = p.heads;
    t.num_kv_heads = p.kv_heads;
    t.head_dim = p.head_dim;
    t.rms_norm_eps = 1e-6f;
    t.rope_theta = 5000000.0;
    t.mrope_section = p.mrope;
    t.mrope_interleaved = true;
    t.tie_word_embeddings = p.tie;
    t.hidden_act = "silu";
    t.bos_token_id = 151643;
    t.eos_token_ids = {151645};
    t.max_position_embeddings = 262144;
    c.has_vision = true;
    VisionConfig& v = c.vision;
    v.depth = p.v_depth;
    v.hidden_size = p.v_hidden;
    v.intermediate_size = p.v_ffn;
    v.num_heads = p.v_heads;
    v.in_channels = 3;
    v.patch_size = 16;
    v.temporal_patch_size = 2;
    v.spatial_merge_size = 2;
    v.out_hidden_size = p.hidden;
    v.num_position_embeddings = p.v_num_pos;
    v.deepstack_visual_indexes = p.deepstack;
    v.hidden_act = "gelu_pytorch_tanh";
    v.layer_norm_eps = 1e-6f;
    RETURN_IF_ERROR(ValidateConfig(c));
    return c;
  }
  std::string choices;
  for (const Preset& p : Presets()) choices += std::string(choices.empty() ? "" : ", ") + p.name;
  return InvalidArgument("unknown preset (choose one of: " + choices + ")");
}

}  // namespace ocular::qwen3vl
