// Image preprocessing for Qwen3-VL exactly as the HF PIL-based image processor does it
// (golden README §3): smart_resize, Pillow bicubic, rescale+normalise, temporal duplication
// and patch flattening, plus the media id.
#pragma once

#include <cstdint>
#include <optional>

#include "media/image.h"
#include "media/media_id.h"
#include "media/patchify.h"
#include "media/smart_resize.h"

namespace ocular {
class ThreadPool;
}

namespace ocular::media {

struct ImagePreprocessConfig {
  // From the checkpoint's preprocessor_config.json `size` (spec §5.1); server flags override.
  int64_t min_pixels = 65'536;
  int64_t max_pixels = 16'777'216;
  // Optional server cap on the resized short side in pixels (0 = off); reported when applied.
  int64_t short_side_cap = 0;
};

// Per-request pixel bounds: only within the server's bounds. max may only be lowered (and not
// below 32*32); min must lie in [32*32, effective max]. Violations are InvalidArgument.
Result<ImagePreprocessConfig> ApplyRequestPixelBounds(const ImagePreprocessConfig& server,
                                                      std::optional<int64_t> min_pixels,
                                                      std::optional<int64_t> max_pixels);

struct PreprocessedImage {
  PixelValues pixel_values;  // [gh*gw][1536] f32, grid_thw = [1, gh, gw]
  int32_t source_height = 0;
  int32_t source_width = 0;
  ResizedSize resized;
  bool short_side_capped = false;
  MediaId media_id;
};

Result<PreprocessedImage> PreprocessImage(const RgbImage& rgb, const ImagePreprocessConfig& config,
                                          ThreadPool* pool = nullptr);

}  // namespace ocular::media
