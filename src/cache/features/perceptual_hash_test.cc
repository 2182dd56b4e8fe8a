// pHash behaviour on generated screenshot-like images, and the measurements behind the
// default near-duplicate threshold (kDefaultSimilarThreshold in feature_cache.h).
#include "cache/features/perceptual_hash.h"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

#include "cache/features/feature_cache.h"
#include "cache/features/hamming_index.h"
#include "cache/features/test_screenshots.h"

namespace ocular::features {
namespace {

using testing::FillRect;
using testing::Image;
using testing::MakeScreenshot;

// Compress to JPEG at `quality` (4:2:0) and decompress back to RGB8 with TurboJPEG.
Image JpegRoundTrip(const Image& src, int quality) {
  tjhandle compressor = tjInitCompress();
  EXPECT_NE(compressor, nullptr);
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  EXPECT_EQ(tjCompress2(compressor, src.rgb.data(), static_cast<int>(src.width),
                        static_cast<int>(3 * src.width), static_cast<int>(src.height), TJPF_RGB,
                        &jpeg, &jpeg_size, TJSAMP_420, quality, 0),
            0);
  tjDestroy(compressor);
  Image out{src.width, src.height, std::vector<uint8_t>(src.rgb.size())};
  tjhandle decompressor = tjInitDecompress();
  EXPECT_NE(decompressor, nullptr);
  EXPECT_EQ(
      tjDecompress2(decompressor, jpeg, jpeg_size, out.rgb.data(), static_cast<int>(out.width),
                    static_cast<int>(3 * out.width), static_cast<int>(out.height), TJPF_RGB, 0),
      0);
  tjDestroy(decompressor);
  tjFree(jpeg);
  return out;
}

uint64_t HashOf(const Image& img) {
  Result<uint64_t> h = PerceptualHash(img.view());
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? *h : 0;
}

TEST(PerceptualHashTest, RejectsBadViews) {
  uint8_t px[12] = {};
  EXPECT_FALSE(PerceptualHash({nullptr, 2, 2, 6}).ok());
  EXPECT_FALSE(PerceptualHash({px, 0, 2, 6}).ok());
  EXPECT_FALSE(PerceptualHash({px, 2, 0, 6}).ok());
  EXPECT_FALSE(PerceptualHash({px, 2, 2, 5}).ok());
  EXPECT_TRUE(PerceptualHash({px, 2, 2, 6}).ok());
  EXPECT_TRUE(PerceptualHash({px, 1, 1, 3}).ok());  // smaller than 32x32 works too
}

// Independent check of the DCT orientation and bit order: a 32x32 image that is exactly one
// DCT-II basis pattern, vertical frequency u = 2 and horizontal v = 3, puts all its energy in
// coefficient (2, 3) = bit (2 - 1) * 8 + (3 - 1) = 10, which is then above the median of the
// (near zero) rest; the negated pattern clears it.
TEST(PerceptualHashTest, BasisPatternSetsItsOwnBit) {
  for (double sign : {1.0, -1.0}) {
    Image img{32, 32, std::vector<uint8_t>(32 * 32 * 3)};
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        const double v = 128.0 + sign * 100.0 *
                                     std::cos(std::numbers::pi * (2 * y + 1) * 2 / 64.0) *
                                     std::cos(std::numbers::pi * (2 * x + 1) * 3 / 64.0);
        const uint8_t g = static_cast<uint8_t>(std::lround(v));
        for (int c = 0; c < 3; ++c) img.rgb[(y * 32 + x) * 3 + c] = g;
      }
    }
    const uint64_t h = HashOf(img);
    EXPECT_EQ((h >> 10) & 1, sign > 0 ? 1u : 0u) << std::hex << h;
  }
}

TEST(PerceptualHashTest, FlatImagesHashToZeroWhateverTheirColour) {
  for (uint8_t v : {0, 17, 128, 255}) {
    Image img{100, 60, std::vector<uint8_t>(100 * 60 * 3, v)};
    EXPECT_EQ(HashOf(img), 0u) << int{v};
  }
}

TEST(PerceptualHashTest, IdenticalImagesAndStridedViewsGiveDistanceZero) {
  const Image a = MakeScreenshot(1);
  const Image b = MakeScreenshot(1);
  EXPECT_EQ(HashOf(a), HashOf(b));
  // The same pixels inside a wider buffer (padded rows).
  std::vector<uint8_t> padded(static_cast<size_t>(a.height * (3 * a.width + 16)), 0xAB);
  for (int64_t y = 0; y < a.height; ++y) {
    std::copy_n(&a.rgb[static_cast<size_t>(y * 3 * a.width)], 3 * a.width,
                &padded[static_cast<size_t>(y * (3 * a.width + 16))]);
  }
  Result<uint64_t> h = PerceptualHash({padded.data(), a.width, a.height, 3 * a.width + 16});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, HashOf(a));
}

// The measurements behind the default threshold. Re-encoded copies (JPEG q85 and q60), a 2x
// nearest-neighbour upscale and a 10% darkening stay within a few bits; independent
// screenshots are far apart. The default must sit between the two populations.
TEST(PerceptualHashTest, ReencodedCopiesAreCloseAndDifferentScreenshotsAreFar) {
  int max_same = 0;
  for (uint32_t seed = 100; seed < 120; ++seed) {
    const Image img = MakeScreenshot(seed);
    const uint64_t h = HashOf(img);
    const int q85 = HammingDistance(h, HashOf(JpegRoundTrip(img, 85)));
    const int q60 = HammingDistance(h, HashOf(JpegRoundTrip(img, 60)));
    Image darker = img;
    for (uint8_t& v : darker.rgb) v = static_cast<uint8_t>(v * 9 / 10);
    const int dark = HammingDistance(h, HashOf(darker));
    Image big{img.width * 2, img.height * 2, std::vector<uint8_t>(img.rgb.size() * 4)};
    for (int64_t y = 0; y < big.height; ++y) {
      for (int64_t x = 0; x < big.width; ++x) {
        std::copy_n(&img.rgb[static_cast<size_t>(((y / 2) * img.width + x / 2) * 3)], 3,
                    &big.rgb[static_cast<size_t>((y * big.width + x) * 3)]);
      }
    }
    const int upscale = HammingDistance(h, HashOf(big));
    std::printf("seed %u: jpeg q85 %d, q60 %d, darker %d, 2x %d bits\n", seed, q85, q60, dark,
                upscale);
    max_same = std::max({max_same, q85, q60, dark, upscale});
    EXPECT_LE(q85, kDefaultSimilarThreshold) << "seed " << seed;
  }

  constexpr int kPairs = 60;
  int min_different = 64;
  double sum_different = 0.0;
  for (int i = 0; i < kPairs; ++i) {
    const int d =
        HammingDistance(HashOf(MakeScreenshot(1000 + 2 * i)), HashOf(MakeScreenshot(1001 + 2 * i)));
    EXPECT_GT(d, kDefaultSimilarThreshold) << "pair " << i;
    min_different = std::min(min_different, d);
    sum_different += d;
  }
  // The documented risk: one small word changed on an otherwise identical screenshot.
  Image edited = MakeScreenshot(100);
  const uint8_t red[3] = {200, 0, 0};
  FillRect(edited, 600, 300, 40, 9, red);
  const int word_change = HammingDistance(HashOf(MakeScreenshot(100)), HashOf(edited));
  std::printf("one word recoloured: %d bits (near matching cannot tell such screenshots apart)\n",
              word_change);
  std::printf(
      "same image re-encoded: max %d bits; %d different pairs: min %d, mean %.1f bits; "
      "default threshold %d\n",
      max_same, kPairs, min_different, sum_different / kPairs, kDefaultSimilarThreshold);
}

// The hard case for near matching: 50 pairs of pages of the same application (same theme,
// title bar and sidebar; different panels and text), as consecutive GUI-automation screenshots
// are. None may match at the default threshold, and their JPEG q85 copies must still match
// their own originals.
TEST(PerceptualHashTest, DifferentPagesOfOneAppNeverMatchAtTheDefaultThreshold) {
  constexpr int kPairs = 50;
  int min_different = 64;
  for (int i = 0; i < kPairs; ++i) {
    const uint32_t app = 5000 + static_cast<uint32_t>(i);
    const Image a = testing::MakeAppPage(app, 1), b = testing::MakeAppPage(app, 2);
    ASSERT_NE(a.rgb, b.rgb);
    const int d = HammingDistance(HashOf(a), HashOf(b));
    EXPECT_GT(d, kDefaultSimilarThreshold) << "app " << app;
    min_different = std::min(min_different, d);
    if (i % 10 == 0) {
      EXPECT_LE(HammingDistance(HashOf(a), HashOf(JpegRoundTrip(a, 85))), kDefaultSimilarThreshold);
    }
  }
  std::printf("%d pairs of pages of one app: min distance %d bits; default threshold %d\n", kPairs,
              min_different, kDefaultSimilarThreshold);
}

// End to end through the cache: with near matching on, the q85 copy of a cached screenshot is a
// near hit (distance reported); with it off, a miss.
TEST(PerceptualHashTest, JpegCopyIsANearHitOnlyWhenEnabled) {
  const Image img = MakeScreenshot(7);
  const uint64_t original = HashOf(img);
  const uint64_t copy = HashOf(JpegRoundTrip(img, 85));
  auto entry = std::make_shared<FeatureEntry>();
  entry->embeddings = FeatureArray::Zeros(920, 4);
  entry->grid = {1, 46, 80};
  entry->num_tokens = 920;
  Sha256Digest original_id{}, copy_id{};
  original_id.fill(1);
  copy_id.fill(2);  // re-encoded pixels differ, so the media id differs
  for (int threshold : {-1, kDefaultSimilarThreshold}) {
    FeatureCache cache({.budget_bytes = 1 << 20, .similar_threshold = threshold});
    cache.Insert(MakeFeatureKey(original_id, ""), entry, original);
    std::optional<FeatureHit> hit = cache.Lookup({MakeFeatureKey(copy_id, ""), {1, 46, 80}, copy});
    if (threshold < 0) {
      EXPECT_FALSE(hit.has_value());
    } else {
      ASSERT_TRUE(hit.has_value());
      EXPECT_TRUE(hit->similar);
      EXPECT_EQ(hit->distance, HammingDistance(original, copy));
    }
  }
}

}  // namespace
}  // namespace ocular::features
