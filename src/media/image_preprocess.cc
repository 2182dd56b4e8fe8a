#include "media/image_preprocess.h"

#include "media/pil_resize.h"

namespace ocular::media {

Result<ImagePreprocessConfig> ApplyRequestPixelBounds(const ImagePreprocessConfig& server,
                                                      std::optional<int64_t> min_pixels,
                                                      std::optional<int64_t> max_pixels) {
  constexpr int64_t kFloor = 32 * 32;
  ImagePreprocessConfig out = server;
  if (max_pixels) {
    if (*max_pixels < kFloor || *max_pixels > server.max_pixels) {
      return InvalidArgument("max_pixels must be between " + std::to_string(kFloor) + " and " +
                             std::to_string(server.max_pixels));
    }
    out.max_pixels = *max_pixels;
  }
  if (min_pixels) {
    if (*min_pixels < kFloor || *min_pixels > out.max_pixels) {
      return InvalidArgument("min_pixels must be between " + std::to_string(kFloor) + " and " +
                             std::to_string(out.max_pixels));
    }
    out.min_pixels = *min_pixels;
  }
  if (out.min_pixels > out.max_pixels) out.min_pixels = out.max_pixels;
  return out;
}

Result<PreprocessedImage> PreprocessImage(const RgbImage& rgb, const ImagePreprocessConfig& config,
                                          ThreadPool* pool) {
  ASSIGN_OR_RETURN(ResizedSize size,
                   SmartResizeImage(rgb.height, rgb.width, config.min_pixels, config.max_pixels));
  PreprocessedImage out;
  size = CapShortSide(size, rgb.height, rgb.width, config.short_side_cap, &out.short_side_capped);
  out.source_height = rgb.height;
  out.source_width = rgb.width;
  out.resized = size;
  RgbImage resized_storage;
  const RgbImage* resized = &rgb;
  if (size.height != rgb.height || size.width != rgb.width) {
    resized_storage = PilBicubicResize(rgb, size.width, size.height, pool);
    resized = &resized_storage;
  }
  const RgbImage* frames[] = {resized};
  out.pixel_values = Patchify(frames, Normalization::kSlowRescaleThenNormalize, pool);
  MediaIdInputs id;
  id.kind = "image";
  id.source_height = rgb.height;
  id.source_width = rgb.width;
  id.min_pixels = config.min_pixels;
  id.max_pixels = config.max_pixels;
  id.resized_height = size.height;
  id.resized_width = size.width;
  id.resample = "pil_bicubic";
  id.normalization = Normalization::kSlowRescaleThenNormalize;
  id.frames = frames;
  out.media_id = ComputeMediaId(id);
  return out;
}

}  // namespace ocular::media
