// Per-format decoders behind DecodeImage() (internal: call DecodeImage, which sniffs and
// checks the MIME first). Each checks header dimensions with CheckImageDims() before
// allocating pixels and applies the EXIF orientation.
#pragma once

#include <cstdint>
#include <span>

#include "media/image.h"

namespace ocular::media::internal {

Result<DecodedImage> DecodeJpeg(std::span<const uint8_t> bytes, const ImageLimits& limits);
Result<DecodedImage> DecodePng(std::span<const uint8_t> bytes, const ImageLimits& limits);
Result<DecodedImage> DecodeWebp(std::span<const uint8_t> bytes, const ImageLimits& limits);

}  // namespace ocular::media::internal
