// PNG through libpng. libpng reports errors by longjmp: every setjmp region lives in a small
// function whose locals are all trivial (pointers and integers), so no C++ destructor is ever
// skipped; resources are owned by the caller's RAII guard.
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "media/decoders.h"
#include "media/exif.h"

namespace ocular::media::internal {
namespace {

// Plain struct shared with the setjmp functions (trivially destructible).
struct PngCtx {
  const uint8_t* data;
  size_t size;
  size_t pos;
  png_structp png;
  png_infop info;
  png_uint_32 width, height;
  int bit_depth, color_type, interlace;
  png_bytep exif;
  png_uint_32 exif_size;
  int gray16;  // 16-bit gray without alpha: read 16-bit samples (Pillow mode "I")
};

void PngReadFn(png_structp png, png_bytep out, size_t n) {
  auto* c = static_cast<PngCtx*>(png_get_io_ptr(png));
  if (n > c->size - c->pos) png_error(png, "truncated");
  std::memcpy(out, c->data + c->pos, n);
  c->pos += n;
}

void PngErrorFn(png_structp png, png_const_charp) { png_longjmp(png, 1); }
void PngWarningFn(png_structp, png_const_charp) {}

// Returns 0 on success. setjmp region: trivial locals only.
int PngReadHeader(PngCtx* c, uint32_t max_side) {
  if (setjmp(png_jmpbuf(c->png))) return 1;
  png_set_read_fn(c->png, c, PngReadFn);
  png_set_user_limits(c->png, max_side, max_side);
  png_read_info(c->png, c->info);
  c->width = png_get_image_width(c->png, c->info);
  c->height = png_get_image_height(c->png, c->info);
  c->bit_depth = png_get_bit_depth(c->png, c->info);
  c->color_type = png_get_color_type(c->png, c->info);
  c->interlace = png_get_interlace_type(c->png, c->info);
  c->exif = nullptr;
  c->exif_size = 0;
#ifdef PNG_eXIf_SUPPORTED
  png_get_eXIf_1(c->png, c->info, &c->exif_size, &c->exif);
#endif
  return 0;
}

// Sets up the transforms to 8-bit RGB (or 16-bit gray) and reads all rows. Returns 0 on
// success, 2 if the transformed row size differs from `row_bytes`.
int PngReadRows(PngCtx* c, png_bytepp rows, size_t row_bytes) {
  if (setjmp(png_jmpbuf(c->png))) return 1;
  if (c->gray16) {
    // Keep big-endian 16-bit samples; converted (clipped) by the caller.
  } else {
    png_set_strip_16(c->png);  // high byte, as Pillow's ";16B" unpackers
    if (c->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (c->color_type == PNG_COLOR_TYPE_GRAY && c->bit_depth < 8) {
      png_set_expand_gray_1_2_4_to_8(c->png);
    }
    if (c->color_type == PNG_COLOR_TYPE_GRAY || c->color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
      png_set_gray_to_rgb(c->png);
    }
    png_set_strip_alpha(c->png);  // alpha dropped; tRNS is ignored (never expanded)
  }
  png_set_interlace_handling(c->png);
  png_read_update_info(c->png, c->info);
  if (png_get_rowbytes(c->png, c->info) != row_bytes) return 2;
  png_read_image(c->png, rows);
  png_read_end(c->png, nullptr);  // a file cut anywhere before IEND is refused
  return 0;
}

struct PngGuard {
  PngCtx* c;
  ~PngGuard() { png_destroy_read_struct(&c->png, &c->info, nullptr); }
};

std::string_view PilMode(int color_type, int bit_depth) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return bit_depth == 16 ? "I" : (bit_depth == 1 ? "1" : "L");
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "LA";
    case PNG_COLOR_TYPE_PALETTE: return "P";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "RGB";
  }
}

}  // namespace

Result<DecodedImage> DecodePng(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  PngCtx c{};
  c.data = bytes.data();
  c.size = bytes.size();
  c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, PngErrorFn, PngWarningFn);
  if (c.png == nullptr) return Internal("PNG decoder initialisation failed");
  c.info = png_create_info_struct(c.png);
  PngGuard guard{&c};
  if (c.info == nullptr) return Internal("PNG decoder initialisation failed");

  // png_set_user_limits takes the side limit; libpng rejects larger headers itself too.
  const uint32_t side = static_cast<uint32_t>(std::min<uint64_t>(limits.max_side, 0x7fffffff));
  if (PngReadHeader(&c, side) != 0) {
    // Distinguish the limit rejection from corruption by re-checking the raw IHDR fields.
    if (bytes.size() >= 24 && std::memcmp(bytes.data() + 12, "IHDR", 4) == 0) {
      uint64_t w = uint64_t{bytes[16]} << 24 | uint64_t{bytes[17]} << 16 | bytes[18] << 8 | bytes[19];
      uint64_t h = uint64_t{bytes[20]} << 24 | uint64_t{bytes[21]} << 16 | bytes[22] << 8 | bytes[23];
      Status dims = CheckImageDims(w, h, limits);
      if (!dims.ok() && w != 0 && h != 0) return dims;
    }
    return DataLoss("corrupt or truncated PNG header");
  }
  RETURN_IF_ERROR(CheckImageDims(c.width, c.height, limits));

  c.gray16 = c.color_type == PNG_COLOR_TYPE_GRAY && c.bit_depth == 16;
  const size_t width = c.width, height = c.height;
  const size_t row_bytes = c.gray16 ? width * 2 : width * 3;
  std::vector<uint8_t> pixels(row_bytes * height);
  std::vector<png_bytep> rows(height);
  for (size_t y = 0; y < height; ++y) rows[y] = pixels.data() + y * row_bytes;
  int rc = PngReadRows(&c, rows.data(), row_bytes);
  if (rc == 2) return Internal("unexpected PNG row layout");
  if (rc != 0) return DataLoss("corrupt or truncated PNG data");

  DecodedImage out;
  out.format = ImageFormat::kPng;
  out.source_mode = PilMode(c.color_type, c.bit_depth);
  RgbImage rgb;
  rgb.width = static_cast<int32_t>(width);
  rgb.height = static_cast<int32_t>(height);
  if (c.gray16) {
    // Pillow: 16-bit gray opens as mode "I"; I -> RGB clips to [0, 255].
    rgb.data.resize(rgb.num_bytes());
    for (size_t i = 0; i < width * height; ++i) {
      uint32_t v = uint32_t{pixels[2 * i]} << 8 | pixels[2 * i + 1];
      uint8_t g = static_cast<uint8_t>(v > 255 ? 255 : v);
      rgb.data[3 * i] = rgb.data[3 * i + 1] = rgb.data[3 * i + 2] = g;
    }
  } else {
    rgb.data = std::move(pixels);
  }
  if (c.exif != nullptr && c.exif_size > 0) {
    out.exif_orientation = ExifOrientationFromTiff({c.exif, c.exif_size});
  }
  out.rgb = out.exif_orientation == 1 ? std::move(rgb) : ApplyOrientation(rgb, out.exif_orientation);
  return out;
}

}  // namespace ocular::media::internal
