#include "model/qwen3vl/weight_spec.h"

#include <algorithm>

#include "base/check.h"

namespace ocular::qwen3vl {
namespace {

class SpecBuilder {
 public:
  explicit SpecBuilder(std::vector<WeightSpec>* out) : out_(out) {}
  void Add(std::string name, WeightSlot slot, int layer, std::vector<int64_t> shape,
           WeightRole role, WeightPart part) {
    int64_t fan_in = 1;
    if (role == WeightRole::kMatrix || role == WeightRole::kEmbedding) {
      fan_in = shape.back();
    } else if (role == WeightRole::kPatchEmbed) {
      for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
    }
    out_->push_back({std::move(name), slot, layer, std::move(shape), role, part, fan_in});
  }

 private:
  std::vector<WeightSpec>* out_;
};

std::string Str(int64_t i) { return std::to_string(i); }

void HfText(const ModelConfig& c, SpecBuilder& b) {
  const TextConfig& t = c.text;
  const int64_t h = t.hidden_size, q = t.num_heads * t.head_dim, kv = t.num_kv_heads * t.head_dim;
  const int64_t f = t.intermediate_size;
  const WeightPart part = WeightPart::kText;
  const std::string m = "model.language_model.";
  if (!t.tie_word_embeddings) {
    b.Add("lm_head.weight", WeightSlot::kLmHead, -1, {t.vocab_size, h}, WeightRole::kEmbedding,
          part);
  }
  b.Add(m + "embed_tokens.weight", WeightSlot::kTokenEmbd, -1, {t.vocab_size, h},
        WeightRole::kEmbedding, part);
  for (int l = 0; l < t.num_layers; ++l) {
    const std::string p = m + "layers." + Str(l) + ".";
    b.Add(p + "input_layernorm.weight", WeightSlot::kAttnNorm, l, {h}, WeightRole::kNorm, part);
    b.Add(p + "mlp.down_proj.weight", WeightSlot::kDown, l, {h, f}, WeightRole::kMatrix, part);
    b.Add(p + "mlp.gate_proj.weight", WeightSlot::kGate, l, {f, h}, WeightRole::kMatrix, part);
    b.Add(p + "mlp.up_proj.weight", WeightSlot::kUp, l, {f, h}, WeightRole::kMatrix, part);
    b.Add(p + "post_attention_layernorm.weight", WeightSlot::kFfnNorm, l, {h}, WeightRole::kNorm,
          part);
    b.Add(p + "self_attn.k_norm.weight", WeightSlot::kKNorm, l, {t.head_dim}, WeightRole::kNorm,
          part);
    b.Add(p + "self_attn.k_proj.weight", WeightSlot::kK, l, {kv, h}, WeightRole::kMatrix, part);
    b.Add(p + "self_attn.o_proj.weight", WeightSlot::kO, l, {h, q}, WeightRole::kMatrix, part);
    b.Add(p + "self_attn.q_norm.weight", WeightSlot::kQNorm, l, {t.head_dim}, WeightRole::kNorm,
          part);
    b.Add(p + "self_attn.q_proj.weight", WeightSlot::kQ, l, {q, h}, WeightRole::kMatrix, part);
    b.Add(p + "self_attn.v_proj.weight", WeightSlot::kV, l, {kv, h}, WeightRole::kMatrix, part);
  }
  b.Add(m + "norm.weight", WeightSlot::kOutputNorm, -1, {h}, WeightRole::kNorm, part);
}

// Merger-shaped module (final merger or one DeepStack merger), in llama.cpp's order: fc1, fc2
// (bias before weight), then the LayerNorm. `norm_width` is D for the final merger (LayerNorm
// before the 2x2 merge) and 4D for DeepStack (after). An empty `norm` skips the LayerNorm
// (GGUF names the final merger's norm v.post_ln, added by the caller).
void Merger(const ModelConfig& c, SpecBuilder& b, const std::string& norm, const std::string& fc1,
            const std::string& fc2, int layer, int64_t norm_width) {
  const int64_t m = c.vision.merged_hidden_size(), o = c.vision.out_hidden_size;
  const WeightPart part = WeightPart::kVision;
  b.Add(fc1 + ".bias", WeightSlot::kMFc1B, layer, {m}, WeightRole::kBias, part);
  b.Add(fc1 + ".weight", WeightSlot::kMFc1W, layer, {m, m}, WeightRole::kMatrix, part);
  b.Add(fc2 + ".bias", WeightSlot::kMFc2B, layer, {o}, WeightRole::kBias, part);
  b.Add(fc2 + ".weight", WeightSlot::kMFc2W, layer, {o, m}, WeightRole::kMatrix, part);
  if (norm.empty()) return;
  b.Add(norm + ".bias", WeightSlot::kMNormB, layer, {norm_width}, WeightRole::kBias, part);
  b.Add(norm + ".weight", WeightSlot::kMNormW, layer, {norm_width}, WeightRole::kNorm, part);
}

void VisionBlock(const ModelConfig& c, SpecBuilder& b, const std::string& p, int l, bool gguf) {
  const int64_t d = c.vision.hidden_size, f = c.vision.intermediate_size;
  const WeightPart part = WeightPart::kVision;
  auto pair = [&](const std::string& base, WeightSlot w, WeightSlot bias,
                  std::vector<int64_t> shape) {
    b.Add(base + ".bias", bias, l, {shape[0]}, WeightRole::kBias, part);
    b.Add(base + ".weight", w, l, shape, shape.size() == 1 ? WeightRole::kNorm : WeightRole::kMatrix,
          part);
  };
  if (gguf) {
    pair(p + "attn_out", WeightSlot::kVProjW, WeightSlot::kVProjB, {d, d});
    pair(p + "attn_qkv", WeightSlot::kVQkvW, WeightSlot::kVQkvB, {3 * d, d});
    pair(p + "ffn_up", WeightSlot::kVFc1W, WeightSlot::kVFc1B, {f, d});
    pair(p + "ffn_down", WeightSlot::kVFc2W, WeightSlot::kVFc2B, {d, f});
    pair(p + "ln1", WeightSlot::kVNorm1W, WeightSlot::kVNorm1B, {d});
    pair(p + "ln2", WeightSlot::kVNorm2W, WeightSlot::kVNorm2B, {d});
  } else {
    pair(p + "attn.proj", WeightSlot::kVProjW, WeightSlot::kVProjB, {d, d});
    pair(p + "attn.qkv", WeightSlot::kVQkvW, WeightSlot::kVQkvB, {3 * d, d});
    pair(p + "mlp.linear_fc1", WeightSlot::kVFc1W, WeightSlot::kVFc1B, {f, d});
    pair(p + "mlp.linear_fc2", WeightSlot::kVFc2W, WeightSlot::kVFc2B, {d, f});
    pair(p + "norm1", WeightSlot::kVNorm1W, WeightSlot::kVNorm1B, {d});
    pair(p + "norm2", WeightSlot::kVNorm2W, WeightSlot::kVNorm2B, {d});
  }
}

void HfVision(const ModelConfig& c, SpecBuilder& b) {
  const VisionConfig& v = c.vision;
  const WeightPart part = WeightPart::kVision;
  const std::string m = "model.visual.";
  for (int l = 0; l < v.depth; ++l) VisionBlock(c, b, m + "blocks." + Str(l) + ".", l, false);
  for (size_t k = 0; k < v.deepstack_visual_indexes.size(); ++k) {
    const std::string p = m + "deepstack_merger_list." + Str(static_cast<int64_t>(k)) + ".";
    Merger(c, b, p + "norm", p + "linear_fc1", p + "linear_fc2", static_cast<int>(k),
           v.merged_hidden_size());
  }
  Merger(c, b, m + "merger.norm", m + "merger.linear_fc1", m + "merger.linear_fc2", -1,
         v.hidden_size);
  b.Add(m + "patch_embed.proj.bias", WeightSlot::kVPatchB, -1, {v.hidden_size}, WeightRole::kBias,
        part);
  b.Add(m + "patch_embed.proj.weight", WeightSlot::kVPatchW, -1,
        {v.hidden_size, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size},
        WeightRole::kPatchEmbed, part);
  b.Add(m + "pos_embed.weight", WeightSlot::kVPosEmbed, -1,
        {v.num_position_embeddings, v.hidden_size}, WeightRole::kPosEmbed, part);
}

void GgufText(const ModelConfig& c, SpecBuilder& b) {
  const TextConfig& t = c.text;
  const int64_t h = t.hidden_size, q = t.num_heads * t.head_dim, kv = t.num_kv_heads * t.head_dim;
  const int64_t f = t.intermediate_size;
  const WeightPart part = WeightPart::kText;
  b.Add("token_embd.weight", WeightSlot::kTokenEmbd, -1, {t.vocab_size, h},
        WeightRole::kEmbedding, part);
  for (int l = 0; l < t.num_layers; ++l) {
    const std::string p = "blk." + Str(l) + ".";
    b.Add(p + "attn_norm.weight", WeightSlot::kAttnNorm, l, {h}, WeightRole::kNorm, part);
    b.Add(p + "ffn_down.weight", WeightSlot::kDown, l, {h, f}, WeightRole::kMatrix, part);
    b.Add(p + "ffn_gate.weight", WeightSlot::kGate, l, {f, h}, WeightRole::kMatrix, part);
    b.Add(p + "ffn_up.weight", WeightSlot::kUp, l, {f, h}, WeightRole::kMatrix, part);
    b.Add(p + "ffn_norm.weight", WeightSlot::kFfnNorm, l, {h}, WeightRole::kNorm, part);
    b.Add(p + "attn_k_norm.weight", WeightSlot::kKNorm, l, {t.head_dim}, WeightRole::kNorm, part);
    b.Add(p + "attn_k.weight", WeightSlot::kK, l, {kv, h}, WeightRole::kMatrix, part);
    b.Add(p + "attn_output.weight", WeightSlot::kO, l, {h, q}, WeightRole::kMatrix, part);
    b.Add(p + "attn_q_norm.weight", WeightSlot::kQNorm, l, {t.head_dim}, WeightRole::kNorm, part);
    b.Add(p + "attn_q.weight", WeightSlot::kQ, l, {q, h}, WeightRole::kMatrix, part);
    b.Add(p + "attn_v.weight", WeightSlot::kV, l, {kv, h}, WeightRole::kMatrix, part);
  }
  b.Add("output_norm.weight", WeightSlot::kOutputNorm, -1, {h}, WeightRole::kNorm, part);
  if (!t.tie_word_embeddings) {
    b.Add("output.weight", WeightSlot::kLmHead, -1, {t.vocab_size, h}, WeightRole::kEmbedding,
          part);
  }
}

void GgufVision(const ModelConfig& c, SpecBuilder& b) {
  const VisionConfig& v = c.vision;
  const WeightPart part = WeightPart::kVision;
  for (int l = 0; l < v.depth; ++l) VisionBlock(c, b, "v.blk." + Str(l) + ".", l, true);
  // DeepStack mergers are named by the ViT layer they tap, not by their list position.
  for (size_t k = 0; k < v.deepstack_visual_indexes.size(); ++k) {
    const std::string p = "v.deepstack." + Str(v.deepstack_visual_indexes[k]) + ".";
    Merger(c, b, p + "norm", p + "fc1", p + "fc2", static_cast<int>(k), v.merged_hidden_size());
  }
  // Final merger: mm.0 / mm.2 are the two Linears, v.post_ln its LayerNorm.
  Merger(c, b, "", "mm.0", "mm.2", -1, v.hidden_size);
  b.Add("v.post_ln.bias", WeightSlot::kMNormB, -1, {v.hidden_size}, WeightRole::kBias, part);
  b.Add("v.post_ln.weight", WeightSlot::kMNormW, -1, {v.hidden_size}, WeightRole::kNorm, part);
  b.Add("v.patch_embd.bias", WeightSlot::kVPatchB, -1, {v.hidden_size}, WeightRole::kBias, part);
  const std::vector<int64_t> frame = {v.hidden_size, v.in_channels, v.patch_size, v.patch_size};
  b.Add("v.patch_embd.weight", WeightSlot::kVPatchW, -1, frame, WeightRole::kPatchEmbed, part);
  b.Add("v.patch_embd.weight.1", WeightSlot::kVPatchW1, -1, frame, WeightRole::kPatchEmbed, part);
  b.Add("v.position_embd.weight", WeightSlot::kVPosEmbed, -1,
        {v.num_position_embeddings, v.hidden_size}, WeightRole::kPosEmbed, part);
}

}  // namespace

std::vector<WeightSpec> WeightSpecs(const ModelConfig& config, WeightFormat format) {
  CHECK(ValidateConfig(config).ok()) << "WeightSpecs needs a validated config";
  std::vector<WeightSpec> specs;
  SpecBuilder b(&specs);
  if (format == WeightFormat::kHf) {
    CHECK(config.has_vision) << "an HF checkpoint always has the vision tower";
    HfText(config, b);
    HfVision(config, b);
    // HF writers store tensors sorted by name.
    std::sort(specs.begin(), specs.end(),
              [](const WeightSpec& a, const WeightSpec& b) { return a.name < b.name; });
  } else {
    GgufText(config, b);
    if (config.has_vision) GgufVision(config, b);
  }
  return specs;
}

}  // namespace ocular::qwen3vl
