// JPEG through TurboJPEG 2.1 with Pillow 9.4's defaults (ISLOW IDCT, fancy upsampling):
// TurboJPEG reports errors by return code (its longjmp stays inside the library).
#include <turbojpeg.h>

#include <memory>

#include "media/decoders.h"
#include "media/exif.h"

namespace ocular::media::internal {
namespace {

struct TjDeleter {
  void operator()(void* h) const { tjDestroy(h); }
};

// Pillow's CMYK -> RGB (Convert.c cmyk2rgb): MULDIV255 with rounding, then clip.
inline uint8_t CmykChannel(uint32_t c, uint32_t nk) {
  uint32_t t = c * nk + 128;
  uint32_t m = ((t >> 8) + t) >> 8;
  int v = static_cast<int>(nk) - static_cast<int>(m);
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

}  // namespace

Result<DecodedImage> DecodeJpeg(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  std::unique_ptr<void, TjDeleter> tj(tjInitDecompress());
  if (!tj) return Internal("JPEG decoder initialisation failed");
  // TurboJPEG takes a non-const pointer but does not write to the source.
  auto* src = const_cast<unsigned char*>(bytes.data());
  const unsigned long size = static_cast<unsigned long>(bytes.size());
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), src, size, &width, &height, &subsamp, &colorspace) != 0) {
    return DataLoss("corrupt JPEG header");
  }
  if (width <= 0 || height <= 0) return DataLoss("corrupt JPEG header");
  RETURN_IF_ERROR(CheckImageDims(width, height, limits));

  DecodedImage out;
  out.format = ImageFormat::kJpeg;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  out.source_mode = cmyk ? "CMYK" : (colorspace == TJCS_GRAY ? "L" : "RGB");
  const int channels = cmyk ? 4 : 3;
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * channels);
  // LIMITSCANS: reject progressive files with > 500 scans (CPU bomb). No FASTDCT/FASTUPSAMPLE:
  // ISLOW + fancy upsampling as in Pillow.
  const int flags = TJFLAG_LIMITSCANS;
  int rc = tjDecompress2(tj.get(), src, size, pixels.data(), width, width * channels, height,
                         cmyk ? TJPF_CMYK : TJPF_RGB, flags);
  if (rc != 0) {
    // A warning alone (e.g. extraneous bytes) is accepted like Pillow does, unless the data
    // ends before the EOI marker: that is a truncated file, which Pillow refuses as well.
    const bool warning_only = tjGetErrorCode(tj.get()) == TJERR_WARNING;
    const bool has_eoi = bytes.size() >= 2 && bytes[bytes.size() - 2] == 0xFF &&
                         bytes[bytes.size() - 1] == 0xD9;
    if (!warning_only) return DataLoss("corrupt JPEG data");
    if (!has_eoi) return DataLoss("truncated JPEG data");
  }
  RgbImage rgb;
  rgb.width = width;
  rgb.height = height;
  if (cmyk) {
    rgb.data.resize(rgb.num_bytes());
    const size_t n = static_cast<size_t>(width) * height;
    for (size_t i = 0; i < n; ++i) {
      // Pillow decodes 4-channel JPEGs as "CMYK;I" (Adobe's inverted storage).
      const uint8_t* p = &pixels[i * 4];
      uint32_t nk = p[3];  // 255 - (255 - stored)
      rgb.data[i * 3 + 0] = CmykChannel(255u - p[0], nk);
      rgb.data[i * 3 + 1] = CmykChannel(255u - p[1], nk);
      rgb.data[i * 3 + 2] = CmykChannel(255u - p[2], nk);
    }
  } else {
    rgb.data = std::move(pixels);
  }
  out.exif_orientation = ExifOrientationFromTiff(FindJpegExif(bytes));
  out.rgb = out.exif_orientation == 1 ? std::move(rgb) : ApplyOrientation(rgb, out.exif_orientation);
  return out;
}

}  // namespace ocular::media::internal
