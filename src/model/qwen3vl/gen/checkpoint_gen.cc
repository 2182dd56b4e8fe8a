#include "model/qwen3vl/gen/checkpoint_gen.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "model/qwen3vl/gen/gguf_tokenizer.h"
#include "model/qwen3vl/gen/random_fill.h"
#include "model/qwen3vl/preprocess_config.h"
#include "model/qwen3vl/presets.h"
#include "model/qwen3vl/weight_spec.h"

namespace ocular::qwen3vl::gen {
namespace {

namespace fs = std::filesystem;
using loader::GgufValue;

// Files copied next to a safetensors checkpoint (the ones HF ships beside the weights).
constexpr const char* kSideFiles[] = {
    "tokenizer.json",           "tokenizer_config.json",          "chat_template.json",
    "preprocessor_config.json", "video_preprocessor_config.json", "generation_config.json",
};

uint64_t NumElements(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

// llama.cpp's LlamaFileType for the dominant dtype.
uint32_t GgufFileType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ8_0: return 7;
    case DType::kQ4_K: return 15;  // MOSTLY_Q4_K_M
    case DType::kBF16: return 32;
    default: return 1;
  }
}

// "10M", "2B", "695K": llama.cpp's size label (parameter count, rounded).
std::string SizeLabel(uint64_t params) {
  const char* suffix = "K";
  double scaled = static_cast<double>(params) / 1e3;
  if (params >= 1000000000000ull) {
    suffix = "T", scaled = static_cast<double>(params) / 1e12;
  } else if (params >= 1000000000ull) {
    suffix = "B", scaled = static_cast<double>(params) / 1e9;
  } else if (params >= 1000000ull) {
    suffix = "M", scaled = static_cast<double>(params) / 1e6;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f%s", std::round(scaled), suffix);
  return buf;
}

Status CopyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Unavailable("cannot copy " + from.filename().string() + " to " + to.string());
  return OkStatus();
}

template <typename Writer>
Status StreamAll(ThreadPool& pool, const GenOptions& o, const std::vector<WeightSpec>& specs,
                 const std::vector<DType>& dtypes, size_t first, size_t last, Writer& writer) {
  for (size_t i = first; i < last; ++i) {
    const WeightSpec& s = specs[i];
    // The tensor's position in the file keys the RNG: same seed, same file.
    RETURN_IF_ERROR(StreamTensor(pool, o.seed, i, RuleFor(s), NumElements(s.shape), s.shape.back(),
                                 dtypes[i], o.chunk_bytes,
                                 [&](std::span<const uint8_t> b) { return writer.WriteChunk(b); }));
  }
  return OkStatus();
}

Result<GenResult> WriteSafetensors(const GenOptions& o, const ModelConfig& config,
                                   ThreadPool& pool) {
  if (o.dtype != DType::kBF16 && o.dtype != DType::kF16 && o.dtype != DType::kF32) {
    return InvalidArgument("--dtype " + std::string(DTypeName(o.dtype)) +
                           ": safetensors checkpoints are bf16, f16 or f32 (use --format gguf "
                           "for quantized weights)");
  }
  GenResult result;
  for (const char* name : kSideFiles) {
    RETURN_IF_ERROR(CopyFile(o.tokenizer_dir / name, o.out_dir / name));
    result.files.push_back(o.out_dir / name);
  }
  {
    const fs::path path = o.out_dir / "config.json";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << ConfigToHfJson(config);
    if (!out) return Unavailable(path.string() + ": cannot write");
    result.files.push_back(path);
  }
  std::vector<WeightSpec> specs = WeightSpecs(config, WeightFormat::kHf);
  const fs::path path = o.out_dir / "model.safetensors";
  ASSIGN_OR_RETURN(loader::SafetensorsWriter writer, loader::SafetensorsWriter::Create(path));
  RETURN_IF_ERROR(writer.AddMetadata("format", "pt"));
  std::vector<DType> dtypes;
  for (const WeightSpec& s : specs) {
    RETURN_IF_ERROR(writer.AddTensor(s.name, o.dtype, s.shape));
    dtypes.push_back(o.dtype);
    result.num_params += NumElements(s.shape);
  }
  RETURN_IF_ERROR(writer.WriteHeader());
  RETURN_IF_ERROR(StreamAll(pool, o, specs, dtypes, 0, specs.size(), writer));
  RETURN_IF_ERROR(writer.Finish());
  result.files.push_back(path);
  return result;
}


Result<GenResult> WriteGguf(const GenOptions& o, const ModelConfig& config, ThreadPool& pool) {
  GenResult result;
  const TextConfig& t = config.text;
  const VisionConfig& v = config.vision;
  ASSIGN_OR_RETURN(GgufTokenizer tok, BuildGgufTokenizer(o.tokenizer_dir, t.vocab_size));
  ASSIGN_OR_RETURN(ImagePreprocessConfig pre,
                   LoadImagePreprocessConfig(o.tokenizer_dir.string()));
  const DType mm_dtype = o.dtype == DType::kF32 ? DType::kF32 : DType::kF16;
  const std::string display = PresetDisplayName(o.preset);

  std::vector<WeightSpec> specs = WeightSpecs(config, WeightFormat::kGguf);
  size_t num_text = 0;
  while (num_text < specs.size() && specs[num_text].part == WeightPart::kText) ++num_text;
  std::vector<DType> dtypes;
  uint64_t text_params = 0, vision_params = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const WeightSpec& s = specs[i];
    const bool mm = s.part == WeightPart::kVision;
    const DType wanted = mm ? mm_dtype : TextTensorDType(o.dtype, s, t.num_layers, t.tie_word_embeddings);
    dtypes.push_back(GgufTensorDType(wanted, mm, s.shape, s.role == WeightRole::kPosEmbed));
    (mm ? vision_params : text_params) += NumElements(s.shape);
  }
  result.num_params = text_params + vision_params;

  // Text GGUF, keys in the order llama.cpp's converter writes them.
  const std::string text_name = o.preset + "-" + FileDTypeName(o.dtype) + ".gguf";
  {
    const fs::path path = o.out_dir / text_name;
    ASSIGN_OR_RETURN(loader::GgufWriter w, loader::GgufWriter::Create(path));
    auto u32 = [](int64_t x) { return GgufValue::U32(static_cast<uint32_t>(x)); };
    std::vector<std::pair<std::string, GgufValue>> kv = {
        {"general.architecture", GgufValue::String("qwen3vl")},
        {"general.type", GgufValue::String("model")},
        {"general.name", GgufValue::String(display)},
        {"general.size_label", GgufValue::String(SizeLabel(text_params))},
        {"qwen3vl.block_count", u32(t.num_layers)},
        {"qwen3vl.context_length", u32(t.max_position_embeddings)},
        {"qwen3vl.embedding_length", u32(t.hidden_size)},
        {"qwen3vl.feed_forward_length", u32(t.intermediate_size)},
        {"qwen3vl.attention.head_count", u32(t.num_heads)},
        {"qwen3vl.attention.head_count_kv", u32(t.num_kv_heads)},
        {"qwen3vl.rope.dimension_sections",
         GgufValue::I32Array({static_cast<int32_t>(t.mrope_section[0]),
                              static_cast<int32_t>(t.mrope_section[1]),
                              static_cast<int32_t>(t.mrope_section[2]), 0})},
        {"qwen3vl.rope.freq_base", GgufValue::F32(static_cast<float>(t.rope_theta))},
        {"qwen3vl.attention.layer_norm_rms_epsilon", GgufValue::F32(t.rms_norm_eps)},
        {"qwen3vl.attention.key_length", u32(t.head_dim)},
        {"qwen3vl.attention.value_length", u32(t.head_dim)},
        {"general.file_type", GgufValue::U32(GgufFileType(o.dtype))},
        {"qwen3vl.n_deepstack_layers", u32(static_cast<int64_t>(v.deepstack_visual_indexes.size()))},
        {"general.quantization_version", GgufValue::U32(2)},
        {"tokenizer.ggml.model", GgufValue::String("gpt2")},
        {"tokenizer.ggml.pre", GgufValue::String("qwen2")},
        {"tokenizer.ggml.tokens", GgufValue::StringArray(std::move(tok.tokens))},
        {"tokenizer.ggml.token_type", GgufValue::I32Array(std::move(tok.token_types))},
        {"tokenizer.ggml.merges", GgufValue::StringArray(std::move(tok.merges))},
        {"tokenizer.ggml.eos_token_id", u32(tok.eos_token_id)},
    };
    if (tok.pad_token_id >= 0) kv.push_back({"tokenizer.ggml.padding_token_id", u32(tok.pad_token_id)});
    kv.push_back({"tokenizer.ggml.bos_token_id", u32(t.bos_token_id)});
    kv.push_back({"tokenizer.ggml.add_bos_token", GgufValue::Bool(tok.add_bos_token)});
    if (!tok.chat_template.empty()) {
      kv.push_back({"tokenizer.chat_template", GgufValue::String(tok.chat_template)});
    }
    for (auto& [key, value] : kv) RETURN_IF_ERROR(w.AddMetadata(key, std::move(value)));
    for (size_t i = 0; i < num_text; ++i) {
      RETURN_IF_ERROR(w.AddTensor(specs[i].name, dtypes[i], specs[i].shape));
    }
    RETURN_IF_ERROR(w.WriteHeader());
    RETURN_IF_ERROR(StreamAll(pool, o, specs, dtypes, 0, num_text, w));
    RETURN_IF_ERROR(w.Finish());
    result.files.push_back(path);
  }

  // mmproj GGUF.
  {
    const fs::path path = o.out_dir / ("mmproj-" + o.preset + "-" + std::string(DTypeName(mm_dtype)) + ".gguf");
    ASSIGN_OR_RETURN(loader::GgufWriter w, loader::GgufWriter::Create(path));
    auto u32 = [](int64_t x) { return GgufValue::U32(static_cast<uint32_t>(x)); };
    const int64_t side = static_cast<int64_t>(std::llround(std::sqrt(double(v.num_position_embeddings))));
    std::vector<bool> deepstack(static_cast<size_t>(v.depth), false);
    for (int64_t i : v.deepstack_visual_indexes) deepstack[static_cast<size_t>(i)] = true;
    std::vector<std::pair<std::string, GgufValue>> kv = {
        {"general.architecture", GgufValue::String("clip")},
        {"general.type", GgufValue::String("mmproj")},
        {"general.name", GgufValue::String(display)},
        {"general.size_label", GgufValue::String(SizeLabel(vision_params))},
        {"general.file_type", GgufValue::U32(GgufFileType(mm_dtype))},
        {"clip.has_vision_encoder", GgufValue::Bool(true)},
        {"clip.vision.projection_dim", u32(v.out_hidden_size)},
        {"clip.vision.image_size", u32(side * v.patch_size)},
        {"clip.vision.patch_size", u32(v.patch_size)},
        {"clip.vision.embedding_length", u32(v.hidden_size)},
        {"clip.vision.feed_forward_length", u32(v.intermediate_size)},
        {"clip.vision.block_count", u32(v.depth)},
        {"clip.vision.attention.head_count", u32(v.num_heads)},
        {"clip.vision.image_mean",
         GgufValue::F32Array({pre.image_mean[0], pre.image_mean[1], pre.image_mean[2]})},
        {"clip.vision.image_std",
         GgufValue::F32Array({pre.image_std[0], pre.image_std[1], pre.image_std[2]})},
        {"clip.projector_type", GgufValue::String("qwen3vl_merger")},
        {"clip.use_gelu", GgufValue::Bool(true)},
        {"clip.vision.spatial_merge_size", u32(v.spatial_merge_size)},
        {"clip.vision.attention.layer_norm_epsilon", GgufValue::F32(v.layer_norm_eps)},
        {"clip.vision.is_deepstack_layers", GgufValue::BoolArray(deepstack)},
        {"general.quantization_version", GgufValue::U32(2)},
    };
    for (auto& [key, value] : kv) RETURN_IF_ERROR(w.AddMetadata(key, std::move(value)));
    for (size_t i = num_text; i < specs.size(); ++i) {
      RETURN_IF_ERROR(w.AddTensor(specs[i].name, dtypes[i], specs[i].shape));
    }
    RETURN_IF_ERROR(w.WriteHeader());
    RETURN_IF_ERROR(StreamAll(pool, o, specs, dtypes, num_text, specs.size(), w));
    RETURN_IF_ERROR(w.Finish());
    result.files.push_back(path);
  }
  return result;
}

}  // namespace

std::string FileDTypeName(DType dtype) {
  return dtype == DType::kQ4_K ? "q4_k_m" : std::string(DTypeName(dtype));
}

DType TextTensorDType(DType file_dtype, const WeightSpec& s, int64_t num_layers, bool tied) {
  if (file_dtype != DType::kQ4_K) return file_dtype;
  // More bits for the first and last eighth of the layers and every third one between.
  const int64_t i = s.layer, n = num_layers;
  const bool more_bits = i >= 0 && (i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2);
  if (s.slot == WeightSlot::kLmHead || (tied && s.slot == WeightSlot::kTokenEmbd)) return DType::kQ6_K;
  if ((s.slot == WeightSlot::kV || s.slot == WeightSlot::kDown) && more_bits) return DType::kQ6_K;
  return DType::kQ4_K;
}

DType GgufTensorDType(DType file_dtype, bool is_mmproj, const std::vector<int64_t>& shape,
                      bool is_position_table) {
  // llama.cpp keeps 1-D tensors (norms, biases) and the ViT position table in f32.
  if (shape.size() == 1 || is_position_table) return DType::kF32;
  if (shape.size() > 2) {
    // The Conv3d frames: f16 in an f16 mmproj, f32 otherwise (never block-quantized).
    return file_dtype == DType::kF16 ? DType::kF16 : DType::kF32;
  }
  const DTypeInfo& info = GetDTypeInfo(file_dtype);
  if (info.quantized && shape.back() % info.block_elems != 0) {
    return is_mmproj ? DType::kF32 : DType::kF16;  // rows that do not fill whole blocks
  }
  return file_dtype;
}

Result<GenResult> GenerateCheckpoint(const GenOptions& o, ThreadPool& pool) {
  ASSIGN_OR_RETURN(ModelConfig config, PresetConfig(o.preset));
  if (o.format != "safetensors" && o.format != "gguf") {
    return InvalidArgument("--format must be safetensors or gguf");
  }
  const DType d = o.dtype;
  if (d != DType::kF32 && d != DType::kF16 && d != DType::kBF16 && d != DType::kQ8_0 &&
      d != DType::kQ4_0 && d != DType::kQ4_K) {
    return InvalidArgument("--dtype must be one of bf16, f16, f32, q8_0, q4_0, q4_k_m");
  }
  if (o.out_dir.empty()) return InvalidArgument("--out: missing output folder");
  std::error_code ec;
  if (o.tokenizer_dir.empty() || !fs::is_regular_file(o.tokenizer_dir / "tokenizer.json", ec)) {
    return NotFound(
        "tokenizer files not found (pass --tokenizer-from DIR or set OCULAR_TOKENIZER_DIR to a "
        "folder with the Qwen3-VL tokenizer.json, tokenizer_config.json and preprocessor configs)");
  }
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir, ec)) {
    return Unavailable(o.out_dir.string() + ": cannot create the output folder");
  }
  Result<GenResult> r = o.format == "gguf" ? WriteGguf(o, config, pool)
                                           : WriteSafetensors(o, config, pool);
  if (!r.ok()) return r;
  for (const fs::path& f : r->files) r->bytes_written += fs::file_size(f, ec);
  return r;
}

}  // namespace ocular::qwen3vl::gen
