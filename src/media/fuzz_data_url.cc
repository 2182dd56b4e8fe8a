// libFuzzer target for data: URL parsing (strict base64, MIME) feeding the image decoder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/data_source.h"
#include "media/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ocular::media::DecodeBase64Strict(text, 1 << 20);
  auto url = ocular::media::ParseDataUrl(text, 1 << 20);
  if (!url.ok()) return 0;
  ocular::media::ImageLimits limits;
  limits.max_pixels = 1'000'000;
  (void)ocular::media::DecodeImage(url->bytes, limits, url->declared_mime);
  return 0;
}
