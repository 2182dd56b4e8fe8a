// EXIF orientation: finding the EXIF block in JPEG/PNG/WebP and applying the orientation like
// Pillow's ImageOps.exif_transpose (tag 0x0112 in IFD0; values outside 2..8 mean "as is").
#pragma once

#include <cstdint>
#include <span>

#include "media/image.h"

namespace ocular::media {

// Orientation from a TIFF-structured EXIF block (an optional "Exif\0\0" prefix is skipped).
// Malformed or absent -> 1. Never reads outside `tiff`.
int ExifOrientationFromTiff(std::span<const uint8_t> tiff);

// The first APP1 "Exif\0\0" segment before the scan data of a JPEG (Pillow keeps the first);
// empty if none or the marker structure is broken.
std::span<const uint8_t> FindJpegExif(std::span<const uint8_t> jpeg);

// Returns `in` transformed for `orientation` (2..8): FLIP_LEFT_RIGHT, ROTATE_180,
// FLIP_TOP_BOTTOM, TRANSPOSE, ROTATE_270 (90 degrees clockwise), TRANSVERSE, ROTATE_90.
RgbImage ApplyOrientation(const RgbImage& in, int orientation);

}  // namespace ocular::media
