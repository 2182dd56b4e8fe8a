// llama.cpp GGUF metadata (text GGUF + mmproj GGUF) -> ModelConfig.
//
// Key names follow llama.cpp's converter for Qwen3-VL (checked against the golden tiny-a
// GGUF pair): text `qwen3vl.{block_count, context_length, embedding_length,
// feed_forward_length, attention.head_count, attention.head_count_kv, attention.key_length,
// attention.layer_norm_rms_epsilon, rope.freq_base, rope.dimension_sections,
// n_deepstack_layers}`; mmproj `clip.vision.{block_count, embedding_length,
// feed_forward_length, attention.head_count, patch_size, image_size, projection_dim,
// spatial_merge_size, attention.layer_norm_epsilon, is_deepstack_layers}`,
// `clip.projector_type` = qwen3vl_merger, `clip.use_gelu`.
#include <string>

#include "model/loader/gguf.h"
#include "model/qwen3vl/config.h"

namespace ocular::qwen3vl {
namespace {

// Wraps a lookup error with the key's file role so inspect can say which file failed.
template <typename T>
Result<T> Need(Result<T> r, const char* file_role) {
  if (!r.ok()) return r.status().WithContext(file_role);
  return r;
}

Result<int64_t> TokenIdByText(const loader::GgufFile& text, std::string_view token) {
  const loader::GgufValue* tokens = text.Find("tokenizer.ggml.tokens");
  if (tokens == nullptr || tokens->strings() == nullptr) {
    return NotFound("text GGUF: missing tokenizer.ggml.tokens (string array)");
  }
  const std::vector<std::string>& list = *tokens->strings();
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == token) return static_cast<int64_t>(i);
  }
  return NotFound("text GGUF: token " + std::string(token) + " not in tokenizer.ggml.tokens");
}

Status TextFromGguf(const loader::GgufFile& g, ModelConfig* config) {
  const char* role = "text GGUF";
  ASSIGN_OR_RETURN(std::string arch, Need(g.GetString("general.architecture"), role));
  if (arch == "qwen3vlmoe") {
    config->text.is_moe = true;
    config->model_type = "qwen3_vl_moe";
    config->architecture = kArchitectureMoe;
    Result<uint32_t> experts = g.GetU32("qwen3vlmoe.expert_count");
    if (experts.ok()) config->text.num_experts = *experts;
    return OkStatus();  // ValidateConfig refuses it with the MoE message
  }
  if (arch != "qwen3vl") {
    return Unimplemented("text GGUF: general.architecture must be qwen3vl");
  }
  config->architecture = kArchitectureDense;
  config->model_type = "qwen3_vl";
  TextConfig& t = config->text;
  ASSIGN_OR_RETURN(t.num_layers, Need(g.GetI64("qwen3vl.block_count"), role));
  ASSIGN_OR_RETURN(t.max_position_embeddings, Need(g.GetI64("qwen3vl.context_length"), role));
  ASSIGN_OR_RETURN(t.hidden_size, Need(g.GetI64("qwen3vl.embedding_length"), role));
  ASSIGN_OR_RETURN(t.intermediate_size, Need(g.GetI64("qwen3vl.feed_forward_length"), role));
  ASSIGN_OR_RETURN(t.num_heads, Need(g.GetI64("qwen3vl.attention.head_count"), role));
  ASSIGN_OR_RETURN(t.num_kv_heads, Need(g.GetI64("qwen3vl.attention.head_count_kv"), role));
  ASSIGN_OR_RETURN(t.head_dim, Need(g.GetI64("qwen3vl.attention.key_length"), role));
  if (g.Find("qwen3vl.attention.value_length") != nullptr) {
    ASSIGN_OR_RETURN(int64_t value_length, Need(g.GetI64("qwen3vl.attention.value_length"), role));
    if (value_length != t.head_dim) {
      return InvalidArgument(
          "text GGUF: qwen3vl.attention.value_length must equal attention.key_length");
    }
  }
  ASSIGN_OR_RETURN(t.rms_norm_eps,
                   Need(g.GetF32("qwen3vl.attention.layer_norm_rms_epsilon"), role));
  ASSIGN_OR_RETURN(float theta, Need(g.GetF32("qwen3vl.rope.freq_base"), role));
  t.rope_theta = theta;
  ASSIGN_OR_RETURN(std::vector<int64_t> sections,
                   Need(g.GetI64Array("qwen3vl.rope.dimension_sections"), role));
  // llama.cpp pads the three M-RoPE sections with a fourth (unused) zero.
  if (sections.size() < 3 || sections.size() > 4 || (sections.size() == 4 && sections[3] != 0)) {
    return InvalidArgument(
        "text GGUF: qwen3vl.rope.dimension_sections must be [t, h, w] or [t, h, w, 0]");
  }
  for (int i = 0; i < 3; ++i) t.mrope_section[i] = sections[i];
  t.mrope_interleaved = true;  // llama.cpp's qwen3vl architecture always uses interleaved M-RoPE
  t.hidden_act = "silu";
  t.attention_bias = false;

  // The vocabulary is the token list (padded to the embedding rows by the converter).
  const loader::GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  if (tokens != nullptr && tokens->is_array()) {
    t.vocab_size = static_cast<int64_t>(tokens->array_size());
  } else if (const loader::TensorInfo* embd = g.FindTensor("token_embd.weight");
             embd != nullptr && embd->rank() == 2) {
    t.vocab_size = embd->shape[0];
  } else {
    return NotFound("text GGUF: missing tokenizer.ggml.tokens and token_embd.weight");
  }
  t.tie_word_embeddings = g.FindTensor("output.weight") == nullptr;
  Result<int64_t> bos = g.GetI64("tokenizer.ggml.bos_token_id");
  t.bos_token_id = bos.ok() ? *bos : 151643;
  ASSIGN_OR_RETURN(int64_t eos, Need(g.GetI64("tokenizer.ggml.eos_token_id"), role));
  t.eos_token_ids = {eos};

  VisionTokenIds& ids = config->tokens;
  ASSIGN_OR_RETURN(ids.image_token_id, TokenIdByText(g, "<|image_pad|>"));
  ASSIGN_OR_RETURN(ids.video_token_id, TokenIdByText(g, "<|video_pad|>"));
  ASSIGN_OR_RETURN(ids.vision_start_token_id, TokenIdByText(g, "<|vision_start|>"));
  ASSIGN_OR_RETURN(ids.vision_end_token_id, TokenIdByText(g, "<|vision_end|>"));
  return OkStatus();
}

Status VisionFromGguf(const loader::GgufFile& g, VisionConfig* v) {
  const char* role = "mmproj GGUF";
  ASSIGN_OR_RETURN(std::string arch, Need(g.GetString("general.architecture"), role));
  if (arch != "clip") return InvalidArgument("mmproj GGUF: general.architecture must be clip");
  ASSIGN_OR_RETURN(std::string projector, Need(g.GetString("clip.projector_type"), role));
  if (projector != "qwen3vl_merger") {
    return Unimplemented("mmproj GGUF: clip.projector_type must be qwen3vl_merger");
  }
  Result<bool> has_vision = g.GetBool("clip.has_vision_encoder");
  if (has_vision.ok() && !*has_vision) {
    return InvalidArgument("mmproj GGUF: clip.has_vision_encoder is false");
  }
  ASSIGN_OR_RETURN(v->depth, Need(g.GetI64("clip.vision.block_count"), role));
  ASSIGN_OR_RETURN(v->hidden_size, Need(g.GetI64("clip.vision.embedding_length"), role));
  ASSIGN_OR_RETURN(v->intermediate_size, Need(g.GetI64("clip.vision.feed_forward_length"), role));
  ASSIGN_OR_RETURN(v->num_heads, Need(g.GetI64("clip.vision.attention.head_count"), role));
  ASSIGN_OR_RETURN(v->patch_size, Need(g.GetI64("clip.vision.patch_size"), role));
  ASSIGN_OR_RETURN(v->out_hidden_size, Need(g.GetI64("clip.vision.projection_dim"), role));
  ASSIGN_OR_RETURN(v->spatial_merge_size, Need(g.GetI64("clip.vision.spatial_merge_size"), role));
  ASSIGN_OR_RETURN(v->layer_norm_eps,
                   Need(g.GetF32("clip.vision.attention.layer_norm_epsilon"), role));
  // The converter writes image_size = sqrt(num_position_embeddings) * patch_size; the table
  // itself is authoritative when present.
  if (const loader::TensorInfo* pos = g.FindTensor("v.position_embd.weight");
      pos != nullptr && pos->rank() == 2) {
    v->num_position_embeddings = pos->shape[0];
  } else {
    ASSIGN_OR_RETURN(int64_t image_size, Need(g.GetI64("clip.vision.image_size"), role));
    if (v->patch_size <= 0 || image_size <= 0 || image_size % v->patch_size != 0 ||
        image_size / v->patch_size > 4096) {
      return InvalidArgument("mmproj GGUF: clip.vision.image_size must be a multiple of patch_size");
    }
    v->num_position_embeddings = (image_size / v->patch_size) * (image_size / v->patch_size);
  }
  ASSIGN_OR_RETURN(const loader::GgufValue* flags,
                   Need(g.GetArray("clip.vision.is_deepstack_layers"), role));
  std::optional<std::vector<bool>> deepstack = flags->ToBoolArray();
  if (!deepstack.has_value()) {
    return InvalidArgument("mmproj GGUF: clip.vision.is_deepstack_layers must be a bool array");
  }
  if (static_cast<int64_t>(deepstack->size()) != v->depth) {
    return InvalidArgument(
        "mmproj GGUF: clip.vision.is_deepstack_layers must have block_count entries");
  }
  v->deepstack_visual_indexes.clear();
  for (size_t i = 0; i < deepstack->size(); ++i) {
    if ((*deepstack)[i]) v->deepstack_visual_indexes.push_back(static_cast<int64_t>(i));
  }
  Result<bool> use_gelu = g.GetBool("clip.use_gelu");
  if (use_gelu.ok() && !*use_gelu) {
    return Unimplemented("mmproj GGUF: only the GELU vision tower is supported");
  }
  v->hidden_act = "gelu_pytorch_tanh";  // ggml's GELU is the tanh approximation
  v->in_channels = 3;
  // The Conv3d kernel is stored as two frames (v.patch_embd.weight and .weight.1).
  v->temporal_patch_size = 2;
  return OkStatus();
}

}  // namespace

Result<ModelConfig> ConfigFromGguf(const loader::GgufFile& text, const loader::GgufFile* mmproj) {
  ModelConfig config;
  RETURN_IF_ERROR(TextFromGguf(text, &config));
  config.has_vision = mmproj != nullptr;
  if (mmproj != nullptr && !config.text.is_moe) {
    RETURN_IF_ERROR(VisionFromGguf(*mmproj, &config.vision));
  }
  // Both files state the DeepStack count; a mismatched pair would splice features wrongly.
  if (mmproj != nullptr && !config.text.is_moe && text.Find("qwen3vl.n_deepstack_layers")) {
    ASSIGN_OR_RETURN(int64_t n, text.GetI64("qwen3vl.n_deepstack_layers"));
    if (n != static_cast<int64_t>(config.vision.deepstack_visual_indexes.size())) {
      return InvalidArgument(
          "GGUF pair: qwen3vl.n_deepstack_layers does not match the mmproj's "
          "clip.vision.is_deepstack_layers");
    }
  }
  RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

}  // namespace ocular::qwen3vl
