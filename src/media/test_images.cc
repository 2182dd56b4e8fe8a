#include "media/test_images.h"

#include <png.h>
#include <turbojpeg.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <csetjmp>
#include <cstring>
#include <memory>

#include "base/check.h"

namespace ocular::media::testing {
namespace {

void PngWrite(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void PngFlush(png_structp) {}

// setjmp region with trivial locals only; returns 0 on success.
int PngWriteAll(png_structp png, png_infop info, const PngSpec* s, png_bytepp rows, std::vector<uint8_t>* out) {
  if (setjmp(png_jmpbuf(png))) return 1;
  png_set_write_fn(png, out, PngWrite, PngFlush);
  png_set_IHDR(png, info, s->width, s->height, s->bit_depth, s->color_type,
               s->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!s->palette.empty()) {
    png_color pal[256];
    int n = static_cast<int>(s->palette.size() / 3);
    for (int i = 0; i < n; ++i) pal[i] = png_color{s->palette[3 * i], s->palette[3 * i + 1], s->palette[3 * i + 2]};
    png_set_PLTE(png, info, pal, n);
  }
  if (!s->trns.empty()) {
    if (s->color_type == PNG_COLOR_TYPE_PALETTE) {
      png_set_tRNS(png, info, s->trns.data(), static_cast<int>(s->trns.size()), nullptr);
    } else {
      png_color_16 key{};
      auto u16 = [&](size_t i) { return static_cast<png_uint_16>(s->trns[i] << 8 | s->trns[i + 1]); };
      if (s->color_type == PNG_COLOR_TYPE_GRAY) {
        key.gray = u16(0);
      } else {
        key.red = u16(0);
        key.green = u16(2);
        key.blue = u16(4);
      }
      png_set_tRNS(png, info, nullptr, 0, &key);
    }
  }
  if (!s->exif.empty()) png_set_eXIf_1(png, info, static_cast<png_uint_32>(s->exif.size()),
                                       const_cast<png_bytep>(s->exif.data()));
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  return 0;
}

}  // namespace

std::vector<uint8_t> EncodePng(const PngSpec& s) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  const size_t row_bytes = s.rows.size() / static_cast<size_t>(s.height);
  std::vector<png_bytep> rows(s.height);
  for (int y = 0; y < s.height; ++y) rows[y] = const_cast<png_bytep>(s.rows.data() + y * row_bytes);
  std::vector<uint8_t> out;
  int rc = PngWriteAll(png, info, &s, rows.data(), &out);
  png_destroy_write_struct(&png, &info);
  CHECK(rc == 0) << "PNG encoding failed";
  return out;
}

std::vector<uint8_t> EncodePngRgb(const RgbImage& img) {
  PngSpec s;
  s.width = img.width;
  s.height = img.height;
  s.rows = img.data;
  return EncodePng(s);
}

std::vector<uint8_t> EncodeJpeg(const uint8_t* pixels, int width, int height, int pixel_format, int subsamp,
                                int quality, int flags) {
  tjhandle tj = tjInitCompress();
  CHECK(tj != nullptr);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  int rc = tjCompress2(tj, pixels, width, 0, height, pixel_format, &buf, &size, subsamp, quality, flags);
  CHECK(rc == 0) << tjGetErrorStr2(tj);
  std::vector<uint8_t> out(buf, buf + size);
  tjFree(buf);
  tjDestroy(tj);
  return out;
}

std::vector<uint8_t> ExifWithOrientation(int orientation, bool le) {
  std::vector<uint8_t> t;
  auto u16 = [&](uint32_t v) {
    if (le) { t.push_back(v & 0xFF); t.push_back(v >> 8); }
    else { t.push_back(v >> 8); t.push_back(v & 0xFF); }
  };
  auto u32 = [&](uint32_t v) {
    if (le) { for (int i = 0; i < 4; ++i) t.push_back((v >> (8 * i)) & 0xFF); }
    else { for (int i = 3; i >= 0; --i) t.push_back((v >> (8 * i)) & 0xFF); }
  };
  t.push_back(le ? 'I' : 'M');
  t.push_back(le ? 'I' : 'M');
  u16(42);
  u32(8);         // IFD0 offset
  u16(1);         // one entry
  u16(0x0112);    // Orientation
  u16(3);         // SHORT
  u32(1);         // count
  u16(static_cast<uint32_t>(orientation));
  u16(0);         // value padding
  u32(0);         // no next IFD
  return t;
}

std::vector<uint8_t> InsertJpegExif(const std::vector<uint8_t>& jpeg, const std::vector<uint8_t>& tiff) {
  CHECK(jpeg.size() >= 2);
  const size_t len = 2 + 6 + tiff.size();
  std::vector<uint8_t> out;
  out.reserve(jpeg.size() + len + 2);
  out.push_back(jpeg[0]);
  out.push_back(jpeg[1]);
  out.push_back(0xFF);
  out.push_back(0xE1);
  out.push_back(static_cast<uint8_t>(len >> 8));
  out.push_back(static_cast<uint8_t>(len & 0xFF));
  for (char c : {'E', 'x', 'i', 'f', '\0', '\0'}) out.push_back(static_cast<uint8_t>(c));
  for (uint8_t b : tiff) out.push_back(b);
  for (size_t i = 2; i < jpeg.size(); ++i) out.push_back(jpeg[i]);
  return out;
}

std::vector<uint8_t> EncodeWebpLossless(const RgbImage& img) {
  uint8_t* buf = nullptr;
  size_t n = WebPEncodeLosslessRGB(img.data.data(), img.width, img.height, img.width * 3, &buf);
  CHECK(n > 0);
  std::vector<uint8_t> out(buf, buf + n);
  WebPFree(buf);
  return out;
}

std::vector<uint8_t> EncodeAnimatedWebp(const std::vector<RgbImage>& frames) {
  CHECK(!frames.empty());
  WebPAnimEncoderOptions opts;
  CHECK(WebPAnimEncoderOptionsInit(&opts));
  WebPAnimEncoder* enc = WebPAnimEncoderNew(frames[0].width, frames[0].height, &opts);
  CHECK(enc != nullptr);
  WebPConfig config;
  CHECK(WebPConfigInit(&config));
  config.lossless = 1;
  int ts = 0;
  for (const RgbImage& f : frames) {
    WebPPicture pic;
    CHECK(WebPPictureInit(&pic));
    pic.use_argb = 1;
    pic.width = f.width;
    pic.height = f.height;
    CHECK(WebPPictureImportRGB(&pic, f.data.data(), f.width * 3));
    CHECK(WebPAnimEncoderAdd(enc, &pic, ts, &config));
    WebPPictureFree(&pic);
    ts += 100;
  }
  CHECK(WebPAnimEncoderAdd(enc, nullptr, ts, nullptr));
  WebPData data;
  WebPDataInit(&data);
  CHECK(WebPAnimEncoderAssemble(enc, &data));
  std::vector<uint8_t> out(data.bytes, data.bytes + data.size);
  WebPDataClear(&data);
  WebPAnimEncoderDelete(enc);
  return out;
}

RgbImage Pattern(int width, int height, uint32_t seed) {
  RgbImage img;
  img.width = width;
  img.height = height;
  img.data.resize(img.num_bytes());
  uint32_t s = seed * 2654435761u + 1;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      uint8_t* p = img.row(y) + x * 3;
      p[0] = static_cast<uint8_t>((x * 255) / std::max(1, width - 1) / 2 + (s & 63));
      p[1] = static_cast<uint8_t>((y * 255) / std::max(1, height - 1) / 2 + ((s >> 8) & 63));
      p[2] = static_cast<uint8_t>(((x + y) * 7) & 127) + ((s >> 16) & 63);
    }
  }
  return img;
}

}  // namespace ocular::media::testing
