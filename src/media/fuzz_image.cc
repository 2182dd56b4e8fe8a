// libFuzzer target for the image decode entry point and the preprocessing behind it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/image.h"
#include "media/image_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ocular::media::ImageLimits limits;
  limits.max_pixels = 4'000'000;  // keep each run fast; the checks are the same code path
  limits.max_side = 8'192;
  auto decoded = ocular::media::DecodeImage(std::span<const uint8_t>(data, size), limits);
  if (!decoded.ok()) return 0;
  ocular::media::ImagePreprocessConfig config;
  config.min_pixels = 1'024;
  config.max_pixels = 65'536;
  (void)ocular::media::PreprocessImage(decoded->rgb, config);
  return 0;
}
