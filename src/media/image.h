// Decoded images and the one decode entry point for untrusted image bytes.
//
// Every image that reaches the model (request bytes, data: URLs, media-root files, fetched
// URLs) goes through DecodeImage(): the format is sniffed from magic bytes, the dimensions
// are read from the header and checked against ImageLimits before any pixel buffer exists,
// and the result is what transformers sees after
// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")` with Pillow 9.4 (golden README §3):
//   * RGBA / LA / tRNS: alpha dropped, colour kept (no compositing);
//   * L, 1/2/4-bit gray: replicated to R=G=B (low bit depths scaled to 0..255);
//   * 16-bit RGB/RGBA/LA PNG: high byte of each sample; 16-bit gray PNG (PIL mode "I"):
//     clipped to 255 (Pillow's I -> RGB conversion clips, it does not scale);
//   * CMYK/YCCK JPEG: Pillow assumes Adobe (inverted) CMYK and converts with
//     `nk = 255 - k; c' = nk - c*nk/255` (MULDIV255 rounding);
//   * EXIF orientation 2..8 (JPEG APP1, PNG eXIf, WebP EXIF) applied like exif_transpose;
//   * WebP (still or animated) through libwebp's animation decoder like Pillow: first frame
//     of the composited canvas, alpha dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ocular::media {

// An 8-bit RGB raster. data: [height][width][3], u8, rows packed.
struct RgbImage {
  int32_t width = 0;
  int32_t height = 0;
  std::vector<uint8_t> data;

  size_t num_bytes() const { return static_cast<size_t>(width) * height * 3; }
  const uint8_t* row(int32_t y) const { return data.data() + static_cast<size_t>(y) * width * 3; }
  uint8_t* row(int32_t y) { return data.data() + static_cast<size_t>(y) * width * 3; }
};

enum class ImageFormat : uint8_t { kJpeg = 1, kPng = 2, kWebp = 3 };

std::string_view ImageFormatMime(ImageFormat format);

// Limits checked on header values before any allocation (RELIABILITY.md). Server values;
// requests may only lower them (Tighten()).
struct ImageLimits {
  uint64_t max_pixels = 89'478'485;
  uint32_t max_side = 32'768;
  // Input bytes accepted at all (fetch limits are enforced upstream; this is a backstop).
  uint64_t max_input_bytes = 64ull << 20;

  // The element-wise minimum of this and `other` (a request can only make limits tighter).
  ImageLimits Tighten(const ImageLimits& other) const;
};

struct DecodedImage {
  RgbImage rgb;              // after orientation and RGB conversion
  ImageFormat format = ImageFormat::kPng;
  // Pillow's mode name for the source ("RGB", "RGBA", "L", "LA", "P", "I", "1", "CMYK").
  std::string_view source_mode = "RGB";
  int exif_orientation = 1;  // 1 = none; 2..8 were applied
  bool animated = false;     // WebP animation: only the first frame was decoded
};

// The single decode entry point. `declared_mime` (e.g. from a data: URL or a Content-Type)
// must agree with the sniffed format when given ("image/jpg" is accepted for JPEG).
// Errors: InvalidArgument (unknown format, MIME mismatch), ResourceExhausted (limits),
// DataLoss (truncated or corrupt data).
Result<DecodedImage> DecodeImage(std::span<const uint8_t> bytes, const ImageLimits& limits,
                                 std::optional<std::string_view> declared_mime = std::nullopt);

// Checks header dimensions against the limits (shared by all decoders).
Status CheckImageDims(uint64_t width, uint64_t height, const ImageLimits& limits);

}  // namespace ocular::media
