#include "media/exif.h"

#include <cstring>

namespace ocular::media {
namespace {

struct TiffReader {
  std::span<const uint8_t> b;
  bool little = true;
  bool U16(size_t at, uint32_t* v) const {
    if (at > b.size() || b.size() - at < 2) return false;
    *v = little ? (b[at] | b[at + 1] << 8) : (b[at] << 8 | b[at + 1]);
    return true;
  }
  bool U32(size_t at, uint32_t* v) const {
    if (at > b.size() || b.size() - at < 4) return false;
    uint32_t x = little ? (uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
                           uint32_t{b[at + 3]} << 24)
                        : (uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 |
                           uint32_t{b[at + 2]} << 8 | uint32_t{b[at + 3]});
    *v = x;
    return true;
  }
};

}  // namespace

int ExifOrientationFromTiff(std::span<const uint8_t> tiff) {
  if (tiff.size() >= 6 && std::memcmp(tiff.data(), "Exif\0\0", 6) == 0) tiff = tiff.subspan(6);
  if (tiff.size() < 8) return 1;
  TiffReader r{tiff};
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    r.little = true;
  } else if (tiff[0] == 'M' && tiff[1] == 'M') {
    r.little = false;
  } else {
    return 1;
  }
  uint32_t ifd = 0, count = 0;
  if (!r.U32(4, &ifd) || !r.U16(ifd, &count)) return 1;
  for (uint32_t i = 0; i < count; ++i) {
    size_t entry = size_t{ifd} + 2 + size_t{i} * 12;
    uint32_t tag = 0, type = 0, n = 0, value = 0;
    if (!r.U16(entry, &tag) || !r.U16(entry + 2, &type) || !r.U32(entry + 4, &n)) return 1;
    if (tag != 0x0112) continue;
    if (n < 1) return 1;
    if (type == 3) {  // SHORT
      if (!r.U16(entry + 8, &value)) return 1;
    } else if (type == 4) {  // LONG (tolerated like Pillow's generic IFD reader)
      if (!r.U32(entry + 8, &value)) return 1;
    } else {
      return 1;
    }
    return (value >= 2 && value <= 8) ? static_cast<int>(value) : 1;
  }
  return 1;
}

std::span<const uint8_t> FindJpegExif(std::span<const uint8_t> b) {
  size_t pos = 2;  // after SOI
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return {};
    uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return {};  // start of scan / end of image
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    size_t len = size_t{b[pos + 2]} << 8 | b[pos + 3];
    if (len < 2 || pos + 2 + len > b.size()) return {};
    auto payload = b.subspan(pos + 4, len - 2);
    if (marker == 0xE1 && payload.size() >= 6 && std::memcmp(payload.data(), "Exif\0\0", 6) == 0) {
      return payload.subspan(6);
    }
    pos += 2 + len;
  }
  return {};
}

RgbImage ApplyOrientation(const RgbImage& in, int orientation) {
  const int32_t w = in.width, h = in.height;
  const bool swap = orientation >= 5 && orientation <= 8;
  RgbImage out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.data.resize(out.num_bytes());
  for (int32_t oy = 0; oy < out.height; ++oy) {
    uint8_t* dst = out.row(oy);
    for (int32_t ox = 0; ox < out.width; ++ox) {
      int32_t sx = ox, sy = oy;
      switch (orientation) {
        case 2: sx = w - 1 - ox; sy = oy; break;
        case 3: sx = w - 1 - ox; sy = h - 1 - oy; break;
        case 4: sx = ox; sy = h - 1 - oy; break;
        case 5: sx = oy; sy = ox; break;
        case 6: sx = oy; sy = h - 1 - ox; break;
        case 7: sx = w - 1 - oy; sy = h - 1 - ox; break;
        case 8: sx = w - 1 - oy; sy = ox; break;
        default: break;
      }
      std::memcpy(dst + ox * 3, in.row(sy) + sx * 3, 3);
    }
  }
  return out;
}

}  // namespace ocular::media
