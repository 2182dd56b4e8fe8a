#include "media/sniff.h"

#include <cctype>
#include <cstring>
#include <string>

namespace ocular::media {
namespace {

bool StartsWith(std::span<const uint8_t> b, const char* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

std::string LowerMimeType(std::string_view mime) {
  size_t semi = mime.find(';');
  if (semi != std::string_view::npos) mime = mime.substr(0, semi);
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  while (!mime.empty() && mime.front() == ' ') mime.remove_prefix(1);
  std::string out(mime);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<ImageFormat> SniffImageFormat(std::span<const uint8_t> b) {
  if (StartsWith(b, "\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (StartsWith(b, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::kPng;
  if (StartsWith(b, "RIFF", 4) && StartsWith(b, "WEBP", 4, 8)) return ImageFormat::kWebp;
  return std::nullopt;
}

std::optional<VideoContainer> SniffVideoContainer(std::span<const uint8_t> b) {
  // ISO BMFF: a box size then "ftyp" (some files start with moov/free/mdat/wide boxes).
  for (const char* box : {"ftyp", "moov", "free", "mdat", "wide", "skip"}) {
    if (StartsWith(b, box, 4, 4)) return VideoContainer::kMp4;
  }
  if (StartsWith(b, "\x1A\x45\xDF\xA3", 4)) return VideoContainer::kMatroska;  // EBML
  return std::nullopt;
}

bool MimeMatchesImage(std::string_view mime, ImageFormat format) {
  std::string m = LowerMimeType(mime);
  switch (format) {
    case ImageFormat::kJpeg: return m == "image/jpeg" || m == "image/jpg" || m == "image/pjpeg";
    case ImageFormat::kPng: return m == "image/png";
    case ImageFormat::kWebp: return m == "image/webp";
  }
  return false;
}

}  // namespace ocular::media
