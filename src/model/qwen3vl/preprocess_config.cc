#include "model/qwen3vl/preprocess_config.h"

#include <filesystem>

#include "model/qwen3vl/config_json_util.h"

namespace ocular::qwen3vl {
namespace {

using json_util::GetBool;
using json_util::GetInt;
using json_util::GetNumber;

constexpr uint64_t kMaxFileBytes = 1 << 20;
constexpr int64_t kMaxPixels = int64_t{1} << 40;

// Shared by images and videos: pixel bounds, patching and normalisation.
template <typename Config>
Status ParseCommon(const nlohmann::json& j, const char* file, Config* c) {
  std::string p = file;
  // Newer files: size = {shortest_edge: min_pixels, longest_edge: max_pixels} (areas, not
  // edges, despite the names). Older: min_pixels / max_pixels at the top level.
  const nlohmann::json* size = json_util::Find(j, "size");
  if (size != nullptr && size->is_object() && json_util::Find(*size, "shortest_edge") != nullptr) {
    ASSIGN_OR_RETURN(c->min_pixels, GetInt(*size, "shortest_edge", p + ".size"));
    ASSIGN_OR_RETURN(c->max_pixels, GetInt(*size, "longest_edge", p + ".size"));
  } else {
    ASSIGN_OR_RETURN(c->min_pixels, GetInt(j, "min_pixels", p));
    ASSIGN_OR_RETURN(c->max_pixels, GetInt(j, "max_pixels", p));
  }
  if (c->min_pixels <= 0 || c->max_pixels > kMaxPixels || c->min_pixels > c->max_pixels) {
    return OutOfRange(p + ": pixel bounds must satisfy 0 < min <= max <= 2^40");
  }
  ASSIGN_OR_RETURN(c->patch_size, GetInt(j, "patch_size", p));
  ASSIGN_OR_RETURN(c->temporal_patch_size, GetInt(j, "temporal_patch_size", p));
  ASSIGN_OR_RETURN(c->merge_size, GetInt(j, "merge_size", p));
  if (c->patch_size < 1 || c->patch_size > 64 || c->temporal_patch_size < 1 ||
      c->temporal_patch_size > 16 || c->merge_size < 1 || c->merge_size > 8) {
    return OutOfRange(p + ": patch_size / temporal_patch_size / merge_size out of range");
  }
  for (const char* key : {"image_mean", "image_std"}) {
    ASSIGN_OR_RETURN(std::vector<double> v, json_util::GetNumberArray(j, key, p, 3));
    if (v.size() != 3) return InvalidArgument(p + "." + key + ": must have 3 entries");
    std::array<float, 3>& out = std::string_view(key) == "image_mean" ? c->image_mean : c->image_std;
    for (int i = 0; i < 3; ++i) {
      if (std::string_view(key) == "image_std" && !(v[i] > 0.0)) {
        return OutOfRange(p + ".image_std: entries must be positive");
      }
      out[i] = static_cast<float>(v[i]);
    }
  }
  return OkStatus();
}

template <typename Config, typename ParseFn>
Result<Config> LoadFile(const std::string& dir, const char* name, ParseFn parse) {
  std::string path = (std::filesystem::path(dir) / name).string();
  ASSIGN_OR_RETURN(std::string text, json_util::ReadSmallFile(path, kMaxFileBytes));
  Result<Config> c = parse(text);
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

}  // namespace

Result<ImagePreprocessConfig> ParseImagePreprocessConfig(std::string_view json_text) {
  const char* file = "preprocessor_config.json";
  ASSIGN_OR_RETURN(nlohmann::json j, json_util::ParseObject(json_text, file));
  ImagePreprocessConfig c;
  RETURN_IF_ERROR(ParseCommon(j, file, &c));
  ASSIGN_OR_RETURN(c.rescale_factor, GetNumber(j, "rescale_factor", file, 1.0 / 255.0));
  if (!(c.rescale_factor > 0.0)) return OutOfRange("preprocessor_config.json.rescale_factor: must be positive");
  ASSIGN_OR_RETURN(int64_t resample, GetInt(j, "resample", file, 3));
  if (resample < 0 || resample > 5) return OutOfRange("preprocessor_config.json.resample: unknown filter");
  c.resample = static_cast<int>(resample);
  return c;
}

Result<VideoPreprocessConfig> ParseVideoPreprocessConfig(std::string_view json_text) {
  const char* file = "video_preprocessor_config.json";
  ASSIGN_OR_RETURN(nlohmann::json j, json_util::ParseObject(json_text, file));
  VideoPreprocessConfig c;
  RETURN_IF_ERROR(ParseCommon(j, file, &c));
  ASSIGN_OR_RETURN(c.fps, GetNumber(j, "fps", file, 2.0));
  ASSIGN_OR_RETURN(c.min_frames, GetInt(j, "min_frames", file, 4));
  ASSIGN_OR_RETURN(c.max_frames, GetInt(j, "max_frames", file, 768));
  if (!(c.fps > 0.0 && c.fps <= 1000.0)) return OutOfRange("video_preprocessor_config.json.fps: out of range");
  if (c.min_frames < 1 || c.max_frames < c.min_frames || c.max_frames > 100000) {
    return OutOfRange("video_preprocessor_config.json: frame bounds must satisfy 1 <= min <= max");
  }
  return c;
}

Result<GenerationConfig> ParseGenerationConfig(std::string_view json_text) {
  const char* file = "generation_config.json";
  ASSIGN_OR_RETURN(nlohmann::json j, json_util::ParseObject(json_text, file));
  GenerationConfig c;
  ASSIGN_OR_RETURN(c.bos_token_id, GetInt(j, "bos_token_id", file, -1));
  ASSIGN_OR_RETURN(c.eos_token_ids, json_util::GetIntOrIntArray(j, "eos_token_id", file, 64));
  ASSIGN_OR_RETURN(c.pad_token_id, GetInt(j, "pad_token_id", file, -1));
  ASSIGN_OR_RETURN(c.do_sample, GetBool(j, "do_sample", file, false));
  ASSIGN_OR_RETURN(c.temperature, GetNumber(j, "temperature", file, 1.0));
  ASSIGN_OR_RETURN(c.top_p, GetNumber(j, "top_p", file, 1.0));
  ASSIGN_OR_RETURN(c.top_k, GetInt(j, "top_k", file, 50));
  ASSIGN_OR_RETURN(c.repetition_penalty, GetNumber(j, "repetition_penalty", file, 1.0));
  if (c.temperature < 0.0 || !(c.top_p > 0.0 && c.top_p <= 1.0) || c.top_k < 0 ||
      !(c.repetition_penalty > 0.0)) {
    return OutOfRange("generation_config.json: sampling parameter out of range");
  }
  return c;
}

Result<ImagePreprocessConfig> LoadImagePreprocessConfig(const std::string& dir) {
  return LoadFile<ImagePreprocessConfig>(dir, "preprocessor_config.json",
                                         ParseImagePreprocessConfig);
}
Result<VideoPreprocessConfig> LoadVideoPreprocessConfig(const std::string& dir) {
  return LoadFile<VideoPreprocessConfig>(dir, "video_preprocessor_config.json",
                                         ParseVideoPreprocessConfig);
}
Result<GenerationConfig> LoadGenerationConfig(const std::string& dir) {
  return LoadFile<GenerationConfig>(dir, "generation_config.json", ParseGenerationConfig);
}

}  // namespace ocular::qwen3vl
