// `ocular inspect PATH [--mmproj PATH] [--json]`: what a checkpoint is and whether Ocular can
// load it (config values, tensor/parameter counts by tower, dtype histogram, bytes).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "model/qwen3vl/checkpoint.h"

namespace ocular::cli {
namespace {

namespace qv = ocular::qwen3vl;

struct Summary {
  uint64_t num_tensors = 0;
  uint64_t text_params = 0, vision_params = 0;
  uint64_t bytes = 0;
  std::map<std::string, uint64_t> dtypes;
};

void Count(const std::vector<loader::TensorInfo>& tensors, bool hf, bool all_vision, Summary* s) {
  for (const loader::TensorInfo& t : tensors) {
    ++s->num_tensors;
    bool vision = all_vision || (hf && t.name.rfind("model.visual.", 0) == 0);
    (vision ? s->vision_params : s->text_params) += t.num_elements;
    s->bytes += t.size_bytes;
    std::string dtype = t.file_dtype;
    for (char& ch : dtype) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ++s->dtypes[dtype];
  }
}

std::string Millions(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) {
    std::snprintf(buf, sizeof(buf), "%.3f B", static_cast<double>(n) / 1e9);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f M", static_cast<double>(n) / 1e6);
  }
  return buf;
}

void PrintText(const qv::Checkpoint& c, const Summary& s) {
  const qv::TextConfig& t = c.config.text;
  std::printf("model:        %s\n", c.path.string().c_str());
  if (!c.mmproj_path.empty()) std::printf("mmproj:       %s\n", c.mmproj_path.string().c_str());
  std::printf("format:       %s\n", c.format == qv::WeightFormat::kHf ? "safetensors" : "gguf");
  std::printf("architecture: %s\n", c.config.architecture.c_str());
  std::printf(
      "text:         vocab %lld, hidden %lld, ffn %lld, layers %lld, heads %lld/%lld kv, "
      "head_dim %lld, rms_eps %g, rope_theta %g, mrope [%lld,%lld,%lld]%s, tied %s, "
      "max_pos %lld\n",
      (long long)t.vocab_size, (long long)t.hidden_size, (long long)t.intermediate_size,
      (long long)t.num_layers, (long long)t.num_heads, (long long)t.num_kv_heads,
      (long long)t.head_dim, double(t.rms_norm_eps), t.rope_theta, (long long)t.mrope_section[0],
      (long long)t.mrope_section[1], (long long)t.mrope_section[2],
      t.mrope_interleaved ? " interleaved" : "", t.tie_word_embeddings ? "yes" : "no",
      (long long)t.max_position_embeddings);
  if (c.config.has_vision) {
    const qv::VisionConfig& v = c.config.vision;
    std::string ds;
    for (int64_t i : v.deepstack_visual_indexes) ds += (ds.empty() ? "" : ",") + std::to_string(i);
    std::printf(
        "vision:       depth %lld, hidden %lld, ffn %lld, heads %lld, patch %lld, temporal %lld, "
        "merge %lld, out_hidden %lld, pos_embeddings %lld, deepstack [%s], act %s\n",
        (long long)v.depth, (long long)v.hidden_size, (long long)v.intermediate_size,
        (long long)v.num_heads, (long long)v.patch_size, (long long)v.temporal_patch_size,
        (long long)v.spatial_merge_size, (long long)v.out_hidden_size,
        (long long)v.num_position_embeddings, ds.c_str(), v.hidden_act.c_str());
  } else {
    std::printf("vision:       none (no mmproj)\n");
  }
  std::printf("tensors:      %llu\n", (unsigned long long)s.num_tensors);
  std::printf("parameters:   %s (text %s, vision %s)\n",
              Millions(s.text_params + s.vision_params).c_str(), Millions(s.text_params).c_str(),
              Millions(s.vision_params).c_str());
  std::string hist;
  for (const auto& [d, n] : s.dtypes) hist += (hist.empty() ? "" : ", ") + d + " " + std::to_string(n);
  std::printf("dtypes:       %s\n", hist.c_str());
  std::printf("bytes:        %llu (%.1f MiB)\n", (unsigned long long)s.bytes,
              static_cast<double>(s.bytes) / (1 << 20));
  std::printf("valid:        %s\n",
              c.weights_status.ok() ? "yes" : ("no: " + c.weights_status.message()).c_str());
}

void PrintJson(const qv::Checkpoint& c, const Summary& s) {
  nlohmann::json j = {
      {"path", c.path.string()},
      {"format", c.format == qv::WeightFormat::kHf ? "safetensors" : "gguf"},
      {"architecture", c.config.architecture},
      {"model_type", c.config.model_type},
      {"text", qv::TextConfigToJson(c.config.text)},
      {"vision", c.config.has_vision ? qv::VisionConfigToJson(c.config.vision) : nlohmann::json()},
      {"tokens",
       {{"image_token_id", c.config.tokens.image_token_id},
        {"video_token_id", c.config.tokens.video_token_id},
        {"vision_start_token_id", c.config.tokens.vision_start_token_id},
        {"vision_end_token_id", c.config.tokens.vision_end_token_id}}},
      {"num_tensors", s.num_tensors},
      {"num_params",
       {{"text", s.text_params},
        {"vision", s.vision_params},
        {"total", s.text_params + s.vision_params}}},
      {"dtypes", s.dtypes},
      {"bytes", s.bytes},
      {"valid", c.weights_status.ok()},
  };
  if (!c.mmproj_path.empty()) j["mmproj"] = c.mmproj_path.string();
  if (!c.weights_status.ok()) j["error"] = c.weights_status.message();
  std::printf("%s\n", j.dump(2).c_str());
}

int RunInspect(const std::string& path, const std::string& mmproj, bool json) {
  Result<std::unique_ptr<qv::Checkpoint>> opened = qv::OpenCheckpoint(path, mmproj);
  if (!opened.ok()) return Fail("inspect", opened.status());
  const qv::Checkpoint& c = **opened;
  Summary s;
  if (c.safetensors) Count(c.safetensors->tensors(), true, false, &s);
  if (c.text_gguf) Count(c.text_gguf->tensors(), false, false, &s);
  if (c.mmproj_gguf) Count(c.mmproj_gguf->tensors(), false, true, &s);
  if (json) {
    PrintJson(c, s);
  } else {
    PrintText(c, s);
  }
  std::fflush(stdout);
  if (!c.weights_status.ok()) return Fail("inspect", c.weights_status);
  return kExitOk;
}

}  // namespace

void RegisterInspect(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "inspect", "Show a checkpoint's config, tensors, parameters and whether it loads");
  auto path = std::make_shared<std::string>();
  auto mmproj = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("path", *path,
                  "HF model folder, a .safetensors file, or a text GGUF (its mmproj is found "
                  "beside it when the name contains 'mmproj')")
      ->required();
  cmd->add_option("--mmproj", *mmproj, "The vision GGUF (mmproj) for a text GGUF");
  cmd->add_flag("--json", *json, "Print one JSON object");
  cmd->callback([=, &exit_code]() { exit_code = RunInspect(*path, *mmproj, *json); });
}

}  // namespace ocular::cli
