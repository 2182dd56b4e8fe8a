// Small configs shipped beside the weights: preprocessor_config.json (images),
// video_preprocessor_config.json and generation_config.json (spec sections 5.1 and 7).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ocular::qwen3vl {

struct ImagePreprocessConfig {
  // Bounds on the resized H x W in pixels (`size.shortest_edge/longest_edge`, or the older
  // `min_pixels/max_pixels`).
  int64_t min_pixels = 0;
  int64_t max_pixels = 0;
  int64_t patch_size = 0;
  int64_t temporal_patch_size = 0;
  int64_t merge_size = 0;
  std::array<float, 3> image_mean = {0, 0, 0};
  std::array<float, 3> image_std = {1, 1, 1};
  double rescale_factor = 1.0 / 255.0;
  int resample = 3;  // PIL bicubic
};

struct VideoPreprocessConfig {
  // Bounds on T x H x W summed over the sampled clip.
  int64_t min_pixels = 0;
  int64_t max_pixels = 0;
  int64_t patch_size = 0;
  int64_t temporal_patch_size = 0;
  int64_t merge_size = 0;
  std::array<float, 3> image_mean = {0, 0, 0};
  std::array<float, 3> image_std = {1, 1, 1};
  double fps = 2.0;
  int64_t min_frames = 4;
  int64_t max_frames = 768;
};

// HF GenerationConfig defaults where the file omits a value.
struct GenerationConfig {
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  int64_t pad_token_id = -1;
  bool do_sample = false;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 50;
  double repetition_penalty = 1.0;
};

// Parse the JSON text of each file; errors name the file and key.
Result<ImagePreprocessConfig> ParseImagePreprocessConfig(std::string_view json_text);
Result<VideoPreprocessConfig> ParseVideoPreprocessConfig(std::string_view json_text);
Result<GenerationConfig> ParseGenerationConfig(std::string_view json_text);

// Read `<dir>/<file>`; NotFound when the file is absent (the HF class defaults differ from the
// shipped Qwen3-VL values, so callers decide what a missing file means).
Result<ImagePreprocessConfig> LoadImagePreprocessConfig(const std::string& dir);
Result<VideoPreprocessConfig> LoadVideoPreprocessConfig(const std::string& dir);
Result<GenerationConfig> LoadGenerationConfig(const std::string& dir);

}  // namespace ocular::qwen3vl
