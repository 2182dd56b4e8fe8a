#include "model/qwen3vl/weight_map.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

namespace ocular::qwen3vl {
namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// The slot a spec fills. CHECKs the layer index (specs come from WeightSpecs, not input).
TensorRef* SlotPointer(ModelWeights& w, WeightSlot slot, int layer) {
  auto text_layer = [&]() -> TextLayerWeights& {
    CHECK(layer >= 0 && static_cast<size_t>(layer) < w.text.layers.size());
    return w.text.layers[layer];
  };
  auto block = [&]() -> VisionBlockWeights& {
    CHECK(layer >= 0 && static_cast<size_t>(layer) < w.vision.blocks.size());
    return w.vision.blocks[layer];
  };
  auto merger = [&]() -> MergerWeights& {
    if (layer < 0) return w.vision.merger;
    CHECK(static_cast<size_t>(layer) < w.vision.deepstack.size());
    return w.vision.deepstack[layer];
  };
  switch (slot) {
    case WeightSlot::kAttnNorm: return &text_layer().attn_norm;
    case WeightSlot::kQ: return &text_layer().q;
    case WeightSlot::kK: return &text_layer().k;
    case WeightSlot::kV: return &text_layer().v;
    case WeightSlot::kO: return &text_layer().o;
    case WeightSlot::kQNorm: return &text_layer().q_norm;
    case WeightSlot::kKNorm: return &text_layer().k_norm;
    case WeightSlot::kFfnNorm: return &text_layer().ffn_norm;
    case WeightSlot::kGate: return &text_layer().gate;
    case WeightSlot::kUp: return &text_layer().up;
    case WeightSlot::kDown: return &text_layer().down;
    case WeightSlot::kTokenEmbd: return &w.text.token_embd;
    case WeightSlot::kOutputNorm: return &w.text.output_norm;
    case WeightSlot::kLmHead: return &w.text.lm_head;
    case WeightSlot::kVNorm1W: return &block().norm1_w;
    case WeightSlot::kVNorm1B: return &block().norm1_b;
    case WeightSlot::kVNorm2W: return &block().norm2_w;
    case WeightSlot::kVNorm2B: return &block().norm2_b;
    case WeightSlot::kVQkvW: return &block().qkv_w;
    case WeightSlot::kVQkvB: return &block().qkv_b;
    case WeightSlot::kVProjW: return &block().proj_w;
    case WeightSlot::kVProjB: return &block().proj_b;
    case WeightSlot::kVFc1W: return &block().fc1_w;
    case WeightSlot::kVFc1B: return &block().fc1_b;
    case WeightSlot::kVFc2W: return &block().fc2_w;
    case WeightSlot::kVFc2B: return &block().fc2_b;
    case WeightSlot::kVPatchW: return &w.vision.patch_embed_w;
    case WeightSlot::kVPatchW1: return &w.vision.patch_embed_w1;
    case WeightSlot::kVPatchB: return &w.vision.patch_embed_b;
    case WeightSlot::kVPosEmbed: return &w.vision.pos_embed;
    case WeightSlot::kMNormW: return &merger().norm_w;
    case WeightSlot::kMNormB: return &merger().norm_b;
    case WeightSlot::kMFc1W: return &merger().fc1_w;
    case WeightSlot::kMFc1B: return &merger().fc1_b;
    case WeightSlot::kMFc2W: return &merger().fc2_w;
    case WeightSlot::kMFc2B: return &merger().fc2_b;
  }
  CHECK(false) << "unhandled weight slot";
  return nullptr;
}

ModelWeights EmptyWeights(const ModelConfig& config, WeightFormat format) {
  ModelWeights w;
  w.format = format;
  w.text.layers.resize(static_cast<size_t>(config.text.num_layers));
  w.has_vision = config.has_vision;
  if (config.has_vision) {
    w.vision.blocks.resize(static_cast<size_t>(config.vision.depth));
    w.vision.deepstack.resize(config.vision.deepstack_visual_indexes.size());
  }
  return w;
}

using NameIndex = std::unordered_map<std::string_view, const loader::TensorInfo*>;

Status BuildIndex(std::span<const loader::TensorInfo> tensors, const char* file_role,
                  NameIndex* index) {
  for (const loader::TensorInfo& t : tensors) {
    if (!index->emplace(t.name, &t).second) {
      return InvalidArgument(std::string(file_role) + ": duplicate tensor " + t.name);
    }
  }
  return OkStatus();
}

// Fills every spec of `part` from `index`, then rejects whatever is left over.
Status Resolve(const std::vector<WeightSpec>& specs, WeightPart part, const NameIndex& index,
               const char* file_role, const std::unordered_set<std::string>& ignorable,
               ModelWeights* w) {
  std::unordered_set<std::string_view> used;
  for (const WeightSpec& spec : specs) {
    if (spec.part != part) continue;
    auto it = index.find(spec.name);
    if (it == index.end()) {
      return NotFound(std::string(file_role) + ": missing tensor " + spec.name + " " +
                      ShapeString(spec.shape));
    }
    const loader::TensorInfo* t = it->second;
    if (t->shape != spec.shape) {
      return InvalidArgument(std::string(file_role) + ": tensor " + spec.name + " has shape " +
                             ShapeString(t->shape) + ", expected " + ShapeString(spec.shape) +
                             " from the config");
    }
    if (!t->supported) {
      return Unimplemented(std::string(file_role) + ": tensor " + spec.name + " has dtype " +
                           t->file_dtype + ", which Ocular cannot compute with");
    }
    *SlotPointer(*w, spec.slot, spec.layer) = t;
    used.insert(it->first);
  }
  for (const auto& [name, t] : index) {
    if (used.count(name) == 0 && ignorable.count(std::string(name)) == 0) {
      return InvalidArgument(std::string(file_role) + ": unexpected tensor " + std::string(name) +
                             " (not part of this Qwen3-VL config)");
    }
  }
  return OkStatus();
}

}  // namespace

Result<ModelWeights> MapHfWeights(const ModelConfig& config,
                                  std::span<const loader::TensorInfo> tensors) {
  RETURN_IF_ERROR(ValidateConfig(config));
  if (!config.has_vision) return InvalidArgument("HF checkpoint: config has no vision tower");
  std::vector<WeightSpec> specs = WeightSpecs(config, WeightFormat::kHf);
  NameIndex index;
  RETURN_IF_ERROR(BuildIndex(tensors, "safetensors", &index));
  ModelWeights w = EmptyWeights(config, WeightFormat::kHf);
  // Tied checkpoints sometimes still ship lm_head.weight; HF ignores it when tied.
  std::unordered_set<std::string> ignorable;
  if (config.text.tie_word_embeddings) ignorable.insert("lm_head.weight");
  // One index, two parts: the leftover check runs once over both.
  std::vector<WeightSpec> all = specs;
  for (WeightSpec& s : all) s.part = WeightPart::kText;
  RETURN_IF_ERROR(Resolve(all, WeightPart::kText, index, "safetensors", ignorable, &w));
  return w;
}

Result<ModelWeights> MapGgufWeights(const ModelConfig& config,
                                    std::span<const loader::TensorInfo> text_tensors,
                                    std::span<const loader::TensorInfo> mmproj_tensors) {
  RETURN_IF_ERROR(ValidateConfig(config));
  std::vector<WeightSpec> specs = WeightSpecs(config, WeightFormat::kGguf);
  ModelWeights w = EmptyWeights(config, WeightFormat::kGguf);
  NameIndex text_index;
  RETURN_IF_ERROR(BuildIndex(text_tensors, "text GGUF", &text_index));
  RETURN_IF_ERROR(Resolve(specs, WeightPart::kText, text_index, "text GGUF", {}, &w));
  if (config.has_vision) {
    NameIndex vision_index;
    RETURN_IF_ERROR(BuildIndex(mmproj_tensors, "mmproj GGUF", &vision_index));
    RETURN_IF_ERROR(Resolve(specs, WeightPart::kVision, vision_index, "mmproj GGUF", {}, &w));
  } else if (!mmproj_tensors.empty()) {
    return InvalidArgument("mmproj GGUF: given, but the config has no vision tower");
  }
  return w;
}

}  // namespace ocular::qwen3vl
