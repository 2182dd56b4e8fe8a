// Encoders for tests, fuzz seeds and benchmarks: small images built in memory with libpng,
// TurboJPEG and libwebp, so expectations can be derived by hand. Not used by the server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "media/image.h"

namespace ocular::media::testing {

struct PngSpec {
  int width = 1;
  int height = 1;
  int color_type = 2;      // PNG_COLOR_TYPE_* (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA)
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<uint8_t> rows;      // [height][row bytes] packed PNG samples (16-bit big-endian)
  std::vector<uint8_t> palette;   // [n][3] for palette images
  std::vector<uint8_t> trns;      // tRNS payload (palette alphas, or a 2/6-byte key colour)
  std::vector<uint8_t> exif;      // eXIf chunk payload (TIFF), optional
};
std::vector<uint8_t> EncodePng(const PngSpec& spec);
// 8-bit RGB PNG of an RgbImage.
std::vector<uint8_t> EncodePngRgb(const RgbImage& img);

// TurboJPEG: pixel_format TJPF_*, subsamp TJSAMP_*, flags TJFLAG_* (e.g. TJFLAG_PROGRESSIVE).
std::vector<uint8_t> EncodeJpeg(const uint8_t* pixels, int width, int height, int pixel_format, int subsamp,
                                int quality, int flags = 0);

// A TIFF/EXIF block with IFD0 holding only Orientation (SHORT).
std::vector<uint8_t> ExifWithOrientation(int orientation, bool little_endian = true);
// Inserts an APP1 "Exif\0\0" segment right after SOI.
std::vector<uint8_t> InsertJpegExif(const std::vector<uint8_t>& jpeg, const std::vector<uint8_t>& tiff);

std::vector<uint8_t> EncodeWebpLossless(const RgbImage& img);
// Animated WebP (lossless frames, full canvas), 100 ms per frame.
std::vector<uint8_t> EncodeAnimatedWebp(const std::vector<RgbImage>& frames);

// Deterministic test pattern: gradients plus a xorshift noise term.
RgbImage Pattern(int width, int height, uint32_t seed = 1);

}  // namespace ocular::media::testing
