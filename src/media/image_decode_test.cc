// Unusual but valid images: each decodes to what Pillow 9.4's convert("RGB") gives, derived
// by hand from the encoded samples (see media/image.h for the rules).
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>

#include "media/exif.h"
#include "media/image.h"
#include "media/image_preprocess.h"
#include "media/test_images.h"

namespace ocular::media {
namespace {

using testing::PngSpec;

DecodedImage MustDecode(const std::vector<uint8_t>& bytes) {
  auto r = DecodeImage(bytes, ImageLimits{});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : DecodedImage{};
}

std::vector<uint8_t> Rgb(std::initializer_list<int> v) {
  std::vector<uint8_t> out;
  for (int x : v) out.push_back(static_cast<uint8_t>(x));
  return out;
}

TEST(ImageDecode, RgbPngExact) {
  RgbImage img = testing::Pattern(37, 23);
  DecodedImage d = MustDecode(testing::EncodePngRgb(img));
  EXPECT_EQ(d.format, ImageFormat::kPng);
  EXPECT_EQ(d.source_mode, "RGB");
  EXPECT_EQ(d.rgb.data, img.data);
}

TEST(ImageDecode, PaletteWithTransparencyUsesPaletteColoursOnly) {
  PngSpec s;
  s.width = 3;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_PALETTE;
  s.palette = Rgb({10, 20, 30, 200, 100, 0, 1, 2, 3});
  s.trns = Rgb({0, 128});  // entry 0 fully transparent, 1 half: alpha is dropped, not composited
  s.rows = Rgb({2, 0, 1});
  DecodedImage d = MustDecode(testing::EncodePng(s));
  EXPECT_EQ(d.source_mode, "P");
  EXPECT_EQ(d.rgb.data, Rgb({1, 2, 3, 10, 20, 30, 200, 100, 0}));
}

TEST(ImageDecode, LowBitPaletteAndGrayAreExpanded) {
  PngSpec p;
  p.width = 4;
  p.height = 1;
  p.color_type = PNG_COLOR_TYPE_PALETTE;
  p.bit_depth = 2;
  p.palette = Rgb({0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255});
  p.rows = Rgb({0b00011011});  // indices 0,1,2,3
  EXPECT_EQ(MustDecode(testing::EncodePng(p)).rgb.data, Rgb({0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255}));

  PngSpec g = p;
  g.color_type = PNG_COLOR_TYPE_GRAY;
  g.palette.clear();
  // 2-bit gray levels 0..3 scale to 0, 85, 170, 255 (Pillow's L;2 unpacker).
  EXPECT_EQ(MustDecode(testing::EncodePng(g)).rgb.data, Rgb({0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255}));
  g.bit_depth = 1;
  g.rows = Rgb({0b10100000});
  EXPECT_EQ(MustDecode(testing::EncodePng(g)).rgb.data, Rgb({255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0}));
  g.bit_depth = 4;
  g.rows = Rgb({0x0F, 0x71});
  EXPECT_EQ(MustDecode(testing::EncodePng(g)).rgb.data,
            Rgb({0, 0, 0, 255, 255, 255, 119, 119, 119, 17, 17, 17}));
}

TEST(ImageDecode, SixteenBitRgbTakesTheHighByte) {
  PngSpec s;
  s.width = 2;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_RGB;
  s.bit_depth = 16;
  s.rows = Rgb({0x12, 0xFF, 0x80, 0x80, 0xFF, 0x01, 0x00, 0xFF, 0x01, 0x00, 0xAB, 0xCD});
  EXPECT_EQ(MustDecode(testing::EncodePng(s)).rgb.data, Rgb({0x12, 0x80, 0xFF, 0x00, 0x01, 0xAB}));
}

TEST(ImageDecode, SixteenBitGrayIsClippedLikePilModeI) {
  PngSpec s;
  s.width = 4;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_GRAY;
  s.bit_depth = 16;
  s.rows = Rgb({0x00, 0x64, 0x00, 0xFF, 0x01, 0x00, 0xFF, 0xFF});  // 100, 255, 256, 65535
  DecodedImage d = MustDecode(testing::EncodePng(s));
  EXPECT_EQ(d.source_mode, "I");
  EXPECT_EQ(d.rgb.data, Rgb({100, 100, 100, 255, 255, 255, 255, 255, 255, 255, 255, 255}));
}

TEST(ImageDecode, GrayAlphaAndRgbaDropAlpha) {
  PngSpec la;
  la.width = 2;
  la.height = 1;
  la.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  la.rows = Rgb({40, 0, 200, 128});
  DecodedImage d = MustDecode(testing::EncodePng(la));
  EXPECT_EQ(d.source_mode, "LA");
  EXPECT_EQ(d.rgb.data, Rgb({40, 40, 40, 200, 200, 200}));

  PngSpec rgba;
  rgba.width = 2;
  rgba.height = 1;
  rgba.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  rgba.rows = Rgb({255, 0, 255, 0, 1, 2, 3, 77});
  d = MustDecode(testing::EncodePng(rgba));
  EXPECT_EQ(d.source_mode, "RGBA");
  EXPECT_EQ(d.rgb.data, Rgb({255, 0, 255, 1, 2, 3}));
}

TEST(ImageDecode, RgbKeyTransparencyIgnored) {
  PngSpec s;
  s.width = 1;
  s.height = 1;
  s.rows = Rgb({9, 8, 7});
  s.trns = Rgb({0, 9, 0, 8, 0, 7});
  EXPECT_EQ(MustDecode(testing::EncodePng(s)).rgb.data, Rgb({9, 8, 7}));
}

TEST(ImageDecode, InterlacedEqualsProgressive) {
  RgbImage img = testing::Pattern(29, 17, 5);
  PngSpec s;
  s.width = img.width;
  s.height = img.height;
  s.rows = img.data;
  s.interlaced = true;
  EXPECT_EQ(MustDecode(testing::EncodePng(s)).rgb.data, img.data);
}

TEST(ImageDecode, OnePixelImage) {
  RgbImage one;
  one.width = one.height = 1;
  one.data = Rgb({12, 34, 56});
  DecodedImage d = MustDecode(testing::EncodePngRgb(one));
  EXPECT_EQ(d.rgb.data, one.data);
  // smart_resize(1, 1): round gives 0, below min_pixels -> beta = 256 -> 256 x 256.
  auto pre = PreprocessImage(d.rgb, ImagePreprocessConfig{});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(pre->resized.height, 256);
  EXPECT_EQ(pre->resized.width, 256);
  EXPECT_EQ(pre->pixel_values.grid_thw, (std::array<int32_t, 3>{1, 16, 16}));
  // A constant image stays constant through the bicubic resize: R = 12 everywhere in column 0.
  const float r = static_cast<float>(12.0 / 255.0);
  EXPECT_EQ(pre->pixel_values.values()[0], (r - 0.5f) / 0.5f);
}

// Orientation tag values 1..8 on a 3x2 PNG with distinct pixels; expected layouts written out.
TEST(ImageDecode, ExifOrientationAllValues) {
  RgbImage img;
  img.width = 3;
  img.height = 2;
  for (int i = 0; i < 6; ++i) {
    img.data.push_back(static_cast<uint8_t>(i));
    img.data.push_back(static_cast<uint8_t>(10 * i));
    img.data.push_back(0);
  }
  // Source pixel ids: row0 = 0 1 2, row1 = 3 4 5.
  struct Case {
    int orientation, width, height;
    std::vector<int> ids;
  };
  const Case cases[] = {
      {1, 3, 2, {0, 1, 2, 3, 4, 5}}, {2, 3, 2, {2, 1, 0, 5, 4, 3}}, {3, 3, 2, {5, 4, 3, 2, 1, 0}},
      {4, 3, 2, {3, 4, 5, 0, 1, 2}}, {5, 2, 3, {0, 3, 1, 4, 2, 5}}, {6, 2, 3, {3, 0, 4, 1, 5, 2}},
      {7, 2, 3, {5, 2, 4, 1, 3, 0}}, {8, 2, 3, {2, 5, 1, 4, 0, 3}},
  };
  for (const Case& c : cases) {
    for (bool le : {true, false}) {
      SCOPED_TRACE(c.orientation);
      PngSpec s;
      s.width = 3;
      s.height = 2;
      s.rows = img.data;
      s.exif = testing::ExifWithOrientation(c.orientation, le);
      DecodedImage d = MustDecode(testing::EncodePng(s));
      EXPECT_EQ(d.exif_orientation, c.orientation);
      ASSERT_EQ(d.rgb.width, c.width);
      ASSERT_EQ(d.rgb.height, c.height);
      for (int i = 0; i < 6; ++i) EXPECT_EQ(d.rgb.data[3 * i], c.ids[i]) << "pixel " << i;
    }
  }
}

TEST(ImageDecode, ExifOrientationInJpeg) {
  // 32 x 16: left half black, right half white; orientation 6 (rotate 90 clockwise) puts the
  // left half on top: 16 x 32 with the top half black.
  std::vector<uint8_t> px(32 * 16 * 3);
  for (int y = 0; y < 16; ++y)
    for (int x = 16; x < 32; ++x)
      for (int c = 0; c < 3; ++c) px[(y * 32 + x) * 3 + c] = 255;
  auto jpeg = testing::EncodeJpeg(px.data(), 32, 16, TJPF_RGB, TJSAMP_444, 95);
  DecodedImage d = MustDecode(testing::InsertJpegExif(jpeg, testing::ExifWithOrientation(6)));
  EXPECT_EQ(d.exif_orientation, 6);
  ASSERT_EQ(d.rgb.width, 16);
  ASSERT_EQ(d.rgb.height, 32);
  EXPECT_LT(d.rgb.row(4)[8 * 3], 20);
  EXPECT_GT(d.rgb.row(28)[8 * 3], 235);
  // Out-of-range orientation values are ignored.
  DecodedImage same = MustDecode(testing::InsertJpegExif(jpeg, testing::ExifWithOrientation(9)));
  EXPECT_EQ(same.exif_orientation, 1);
  EXPECT_EQ(same.rgb.width, 32);
}

TEST(ImageDecode, GrayJpegReplicates) {
  std::vector<uint8_t> gray(16 * 16, 77);
  DecodedImage d = MustDecode(testing::EncodeJpeg(gray.data(), 16, 16, TJPF_GRAY, TJSAMP_GRAY, 100));
  EXPECT_EQ(d.source_mode, "L");
  for (size_t i = 0; i < d.rgb.data.size(); i += 3) {
    EXPECT_EQ(d.rgb.data[i], d.rgb.data[i + 1]);
    EXPECT_EQ(d.rgb.data[i], d.rgb.data[i + 2]);
    EXPECT_NEAR(d.rgb.data[i], 77, 1);
  }
}

TEST(ImageDecode, CmykJpegConvertedLikePillow) {
  // Stored (Adobe, inverted) samples 215,155,55,225 mean C,M,Y,K = 40,100,200,30. Pillow:
  // nk = 225; R = nk - 40*225/255 = 190, G = 225 - 100*225/255 = 137, B = 225 - 200*225/255 = 49.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 16 * 16; ++i) {
    for (int v : {215, 155, 55, 225}) cmyk.push_back(static_cast<uint8_t>(v));
  }
  DecodedImage d = MustDecode(testing::EncodeJpeg(cmyk.data(), 16, 16, TJPF_CMYK, TJSAMP_444, 100));
  EXPECT_EQ(d.source_mode, "CMYK");
  EXPECT_NEAR(d.rgb.data[0], 190, 2);
  EXPECT_NEAR(d.rgb.data[1], 137, 2);
  EXPECT_NEAR(d.rgb.data[2], 49, 2);
}

TEST(ImageDecode, ProgressiveJpegDecodes) {
  RgbImage img = testing::Pattern(64, 48, 3);
  auto base = testing::EncodeJpeg(img.data.data(), 64, 48, TJPF_RGB, TJSAMP_420, 90);
  auto prog = testing::EncodeJpeg(img.data.data(), 64, 48, TJPF_RGB, TJSAMP_420, 90, TJFLAG_PROGRESSIVE);
  DecodedImage a = MustDecode(base), b = MustDecode(prog);
  ASSERT_EQ(a.rgb.data.size(), b.rgb.data.size());
  // Same quantisation, different entropy coding: identical pixels.
  EXPECT_EQ(a.rgb.data, b.rgb.data);
}

TEST(ImageDecode, WebpLosslessStillAndAnimatedFirstFrame) {
  RgbImage img = testing::Pattern(20, 12, 7);
  DecodedImage d = MustDecode(testing::EncodeWebpLossless(img));
  EXPECT_EQ(d.format, ImageFormat::kWebp);
  EXPECT_FALSE(d.animated);
  EXPECT_EQ(d.rgb.data, img.data);

  RgbImage second = testing::Pattern(20, 12, 8);
  DecodedImage a = MustDecode(testing::EncodeAnimatedWebp({img, second}));
  EXPECT_TRUE(a.animated);
  EXPECT_EQ(a.rgb.data, img.data);
}

TEST(ImageDecode, RequestPixelBoundsOnlyWithinServerBounds) {
  ImagePreprocessConfig server;
  EXPECT_TRUE(ApplyRequestPixelBounds(server, std::nullopt, 100'000).ok());
  EXPECT_FALSE(ApplyRequestPixelBounds(server, std::nullopt, server.max_pixels + 1).ok());
  EXPECT_FALSE(ApplyRequestPixelBounds(server, std::nullopt, 100).ok());
  EXPECT_FALSE(ApplyRequestPixelBounds(server, 200'000, 100'000).ok());
  auto ok = ApplyRequestPixelBounds(server, 8192, std::nullopt);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->min_pixels, 8192);
  EXPECT_EQ(ok->max_pixels, server.max_pixels);
}

TEST(ImageDecode, ShortSideCapReportedWhenApplied) {
  RgbImage img = testing::Pattern(1280, 720, 2);
  ImagePreprocessConfig cfg;
  cfg.short_side_cap = 512;
  auto pre = PreprocessImage(img, cfg);
  ASSERT_TRUE(pre.ok());
  EXPECT_TRUE(pre->short_side_capped);
  // 1280x704 scaled by 512/704: 930.9 -> 928, 512.
  EXPECT_EQ(pre->resized.height, 512);
  EXPECT_EQ(pre->resized.width, 928);
  cfg.short_side_cap = 0;
  auto plain = PreprocessImage(img, cfg);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->short_side_capped);
  EXPECT_NE(plain->media_id, pre->media_id);
}

TEST(MediaId, StableAndSensitive) {
  RgbImage img = testing::Pattern(64, 64, 11);
  auto a = PreprocessImage(img, ImagePreprocessConfig{});
  auto b = PreprocessImage(img, ImagePreprocessConfig{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->media_id, b->media_id);
  EXPECT_EQ(a->media_id.Hex().size(), 64u);
  RgbImage changed = img;
  changed.data[1000] ^= 1;  // one level in one channel
  auto c = PreprocessImage(changed, ImagePreprocessConfig{});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->media_id, c->media_id);
  ImagePreprocessConfig other;
  other.min_pixels = 8192;  // different resize -> different model input
  auto d = PreprocessImage(img, other);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(a->media_id, d->media_id);
}

}  // namespace
}  // namespace ocular::media
