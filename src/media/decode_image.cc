#include "media/image.h"

#include <algorithm>

#include "media/decoders.h"
#include "media/sniff.h"

namespace ocular::media {

std::string_view ImageFormatMime(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "image/jpeg";
    case ImageFormat::kPng: return "image/png";
    case ImageFormat::kWebp: return "image/webp";
  }
  return "application/octet-stream";
}

ImageLimits ImageLimits::Tighten(const ImageLimits& other) const {
  ImageLimits out;
  out.max_pixels = std::min(max_pixels, other.max_pixels);
  out.max_side = std::min(max_side, other.max_side);
  out.max_input_bytes = std::min(max_input_bytes, other.max_input_bytes);
  return out;
}

Status CheckImageDims(uint64_t width, uint64_t height, const ImageLimits& limits) {
  if (width == 0 || height == 0) return DataLoss("image has a zero dimension");
  if (width > limits.max_side || height > limits.max_side) {
    return ResourceExhausted("image side exceeds the limit of " + std::to_string(limits.max_side) +
                             " pixels");
  }
  // Both sides are <= 2^32 here, so the product cannot overflow 64 bits.
  if (width * height > limits.max_pixels) {
    return ResourceExhausted("image has more than " + std::to_string(limits.max_pixels) +
                             " pixels");
  }
  return OkStatus();
}

Result<DecodedImage> DecodeImage(std::span<const uint8_t> bytes, const ImageLimits& limits,
                                 std::optional<std::string_view> declared_mime) {
  if (bytes.empty()) return InvalidArgument("empty image data");
  if (bytes.size() > limits.max_input_bytes) {
    return ResourceExhausted("image data exceeds " + std::to_string(limits.max_input_bytes) +
                             " bytes");
  }
  std::optional<ImageFormat> format = SniffImageFormat(bytes);
  if (!format) return InvalidArgument("unsupported image format (expected JPEG, PNG or WebP)");
  if (declared_mime && !MimeMatchesImage(*declared_mime, *format)) {
    return InvalidArgument("declared media type does not match the image content (" +
                           std::string(ImageFormatMime(*format)) + ")");
  }
  switch (*format) {
    case ImageFormat::kJpeg: return internal::DecodeJpeg(bytes, limits);
    case ImageFormat::kPng: return internal::DecodePng(bytes, limits);
    case ImageFormat::kWebp: return internal::DecodeWebp(bytes, limits);
  }
  return InvalidArgument("unsupported image format");
}

}  // namespace ocular::media
