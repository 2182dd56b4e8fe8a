// RELIABILITY.md media classes: bombs, truncations, corruption, mismatched MIME, invalid
// base64, escapes from the media root, lying video headers, playlists disguised as video.
// Each gives its documented Status; none may crash (the ASan build runs these too).
#include <gtest/gtest.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>

#include "media/data_source.h"
#include "media/image.h"
#include "media/test_images.h"
#include "media/video_decoder.h"
#include "tests/support/golden.h"

namespace ocular::media {
namespace {

void PutBe32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 3; i >= 0; --i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

void PngChunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  PutBe32(out, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> td(type, type + 4);
  td.insert(td.end(), data.begin(), data.end());
  out.insert(out.end(), td.begin(), td.end());
  PutBe32(out, static_cast<uint32_t>(crc32(0, td.data(), static_cast<uInt>(td.size()))));
}

// A valid PNG signature + IHDR claiming width x height, a tiny IDAT and IEND.
std::vector<uint8_t> PngBomb(uint32_t width, uint32_t height) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  PutBe32(ihdr, width);
  PutBe32(ihdr, height);
  for (uint8_t b : {8, 2, 0, 0, 0}) ihdr.push_back(b);
  PngChunk(out, "IHDR", ihdr);
  PngChunk(out, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  PngChunk(out, "IEND", {});
  return out;
}

Status DecodeStatus(const std::vector<uint8_t>& bytes, std::optional<std::string_view> mime = std::nullopt,
                    const ImageLimits& limits = ImageLimits{}) {
  auto r = DecodeImage(bytes, limits, mime);
  return r.ok() ? OkStatus() : r.status();
}

TEST(MediaReliability, DecompressionBombsRejectedFromTheHeader) {
  EXPECT_EQ(DecodeStatus(PngBomb(100000, 100000)).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeStatus(PngBomb(20000, 20000)).code(), StatusCode::kResourceExhausted);  // 400 Mpx
  // JPEG: patch the SOF0 frame size of a valid 16x16 file to 65000 x 65000.
  std::vector<uint8_t> px(16 * 16 * 3, 128);
  auto jpeg = testing::EncodeJpeg(px.data(), 16, 16, TJPF_RGB, TJSAMP_444, 90);
  for (size_t i = 0; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 5] = 0xFD;
      jpeg[i + 6] = 0xE8;
      jpeg[i + 7] = 0xFD;
      jpeg[i + 8] = 0xE8;
      break;
    }
  }
  EXPECT_EQ(DecodeStatus(jpeg).code(), StatusCode::kResourceExhausted);
  // WebP: an animated VP8X canvas of 16384 x 16384 (268 Mpx) and nothing else.
  std::vector<uint8_t> webp = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0,
                               0x02, 0, 0, 0, 0xFF, 0x3F, 0x00, 0xFF, 0x3F, 0x00};
  EXPECT_EQ(DecodeStatus(webp).code(), StatusCode::kResourceExhausted);
  // Limits configured lower are honoured.
  ImageLimits small;
  small.max_side = 8;
  RgbImage img = testing::Pattern(9, 4);
  EXPECT_EQ(DecodeStatus(testing::EncodePngRgb(img), std::nullopt, small).code(), StatusCode::kResourceExhausted);
  small.max_side = 100;
  small.max_pixels = 35;
  EXPECT_EQ(DecodeStatus(testing::EncodePngRgb(img), std::nullopt, small).code(), StatusCode::kResourceExhausted);
  small.max_pixels = 36;
  EXPECT_TRUE(DecodeStatus(testing::EncodePngRgb(img), std::nullopt, small).ok());
}

TEST(MediaReliability, ExcessiveProgressiveScansRejected) {
  std::vector<uint8_t> gray(8 * 8, 90);
  auto jpeg = testing::EncodeJpeg(gray.data(), 8, 8, TJPF_GRAY, TJSAMP_GRAY, 90, TJFLAG_PROGRESSIVE);
  // Find the first scan (SOS header + entropy data up to the next marker) and repeat it 600x.
  size_t sos = 0;
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) {
      sos = i;
      break;
    }
  }
  ASSERT_GT(sos, 0u);
  size_t end = sos + 2 + (jpeg[sos + 2] << 8 | jpeg[sos + 3]);
  while (end + 1 < jpeg.size() && !(jpeg[end] == 0xFF && jpeg[end + 1] != 0 && (jpeg[end + 1] < 0xD0 || jpeg[end + 1] > 0xD7))) ++end;
  std::vector<uint8_t> scan(jpeg.begin() + static_cast<long>(sos), jpeg.begin() + static_cast<long>(end));
  std::vector<uint8_t> bomb(jpeg.begin(), jpeg.begin() + static_cast<long>(end));
  for (int i = 0; i < 600; ++i) bomb.insert(bomb.end(), scan.begin(), scan.end());
  bomb.insert(bomb.end(), jpeg.begin() + static_cast<long>(end), jpeg.end());
  EXPECT_TRUE(DecodeStatus(jpeg).ok());
  EXPECT_EQ(DecodeStatus(bomb).code(), StatusCode::kDataLoss);
}

TEST(MediaReliability, EveryTruncationIsRefused) {
  RgbImage img = testing::Pattern(24, 16, 9);
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> files = {
      {"png", testing::EncodePngRgb(img)},
      {"jpeg", testing::EncodeJpeg(img.data.data(), 24, 16, TJPF_RGB, TJSAMP_420, 85)},
      {"progressive jpeg", testing::EncodeJpeg(img.data.data(), 24, 16, TJPF_RGB, TJSAMP_420, 85, TJFLAG_PROGRESSIVE)},
      {"webp", testing::EncodeWebpLossless(img)},
      {"animated webp", testing::EncodeAnimatedWebp({img, testing::Pattern(24, 16, 10)})},
  };
  for (const auto& [name, bytes] : files) {
    ASSERT_TRUE(DecodeStatus(bytes).ok()) << name;
    for (size_t n = 0; n < bytes.size(); ++n) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
      Status s = DecodeStatus(cut);
      EXPECT_FALSE(s.ok()) << name << " cut at " << n << " of " << bytes.size();
      // Cut inside the magic -> unknown format; otherwise corrupt data.
      EXPECT_TRUE(s.code() == StatusCode::kDataLoss || s.code() == StatusCode::kInvalidArgument)
          << name << " cut at " << n << ": " << s.ToString();
    }
  }
}

TEST(MediaReliability, CorruptBytesNeverCrash) {
  RgbImage img = testing::Pattern(32, 32, 4);
  const std::vector<std::vector<uint8_t>> files = {
      testing::EncodePngRgb(img), testing::EncodeJpeg(img.data.data(), 32, 32, TJPF_RGB, TJSAMP_420, 85),
      testing::EncodeWebpLossless(img)};
  uint32_t s = 12345;
  int refused = 0, accepted = 0;
  for (const auto& bytes : files) {
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<uint8_t> bad = bytes;
      for (int k = 0; k < 4; ++k) {
        s = s * 1664525u + 1013904223u;
        bad[12 + s % (bad.size() - 12)] ^= static_cast<uint8_t>(1 + (s >> 24) % 255);
      }
      auto r = DecodeImage(bad, ImageLimits{});
      if (r.ok()) {
        ++accepted;  // JPEG entropy data has no checksum: damaged pixels are still an image
        EXPECT_EQ(r->rgb.data.size(), r->rgb.num_bytes());
      } else {
        ++refused;
        EXPECT_TRUE(r.status().code() == StatusCode::kDataLoss || r.status().code() == StatusCode::kResourceExhausted ||
                    r.status().code() == StatusCode::kInvalidArgument)
            << r.status().ToString();
      }
    }
  }
  EXPECT_GT(refused, 300);  // PNG CRCs and WebP checks catch nearly all
  std::printf("corrupt inputs: %d refused, %d decoded\n", refused, accepted);
}

TEST(MediaReliability, MimeMismatchAndUnknownFormats) {
  RgbImage img = testing::Pattern(8, 8);
  auto png = testing::EncodePngRgb(img);
  EXPECT_TRUE(DecodeStatus(png, "image/png").ok());
  EXPECT_TRUE(DecodeStatus(png, "IMAGE/PNG; charset=binary").ok());
  EXPECT_EQ(DecodeStatus(png, "image/jpeg").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeStatus(png, "text/html").code(), StatusCode::kInvalidArgument);
  auto jpeg = testing::EncodeJpeg(img.data.data(), 8, 8, TJPF_RGB, TJSAMP_444, 90);
  EXPECT_TRUE(DecodeStatus(jpeg, "image/jpg").ok());
  EXPECT_EQ(DecodeStatus(jpeg, "image/webp").code(), StatusCode::kInvalidArgument);
  const std::string gif = "GIF89a\x01\x00\x01\x00";
  EXPECT_EQ(DecodeStatus(std::vector<uint8_t>(gif.begin(), gif.end())).code(), StatusCode::kInvalidArgument);
  const std::string html = "<html><img src=x></html>";
  EXPECT_EQ(DecodeStatus(std::vector<uint8_t>(html.begin(), html.end())).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeStatus({}).code(), StatusCode::kInvalidArgument);
  ImageLimits tiny;
  tiny.max_input_bytes = 10;
  EXPECT_EQ(DecodeStatus(png, std::nullopt, tiny).code(), StatusCode::kResourceExhausted);
}

TEST(MediaReliability, StrictBase64) {
  auto ok = DecodeBase64Strict("aGVsbG8=", 100);  // "hello"
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::string(ok->begin(), ok->end()), "hello");
  EXPECT_TRUE(DecodeBase64Strict("", 100).ok());
  EXPECT_EQ(DecodeBase64Strict("Zm9vYg==", 100)->size(), 4u);
  EXPECT_EQ(DecodeBase64Strict("Zm9vYmE=", 100)->size(), 5u);
  EXPECT_EQ(DecodeBase64Strict("Zm9vYmFy", 100)->size(), 6u);
  for (const char* bad : {"aGVsbG8", "aGVsbG8==", "aGVs bG8=", "aGVs\nbG8=", "aGVsbG8-", "aGVsbG_=", "a===",
                          "====", "aG=sbG8=", "aGVsbG9=", "Zm9vYh==", "aGVsbG8=aGVs", "aGVsbG8=\n"}) {
    auto r = DecodeBase64Strict(bad, 100);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_EQ(DecodeBase64Strict("aGVsbG8=", 4).status().code(), StatusCode::kResourceExhausted);
}

TEST(MediaReliability, DataUrls) {
  RgbImage img = testing::Pattern(4, 4);
  auto png = testing::EncodePngRgb(img);
  // Encode with a tiny local encoder (independent of the decoder under test).
  const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < png.size(); i += 3) {
    uint32_t v = png[i] << 16 | (i + 1 < png.size() ? png[i + 1] << 8 : 0) | (i + 2 < png.size() ? png[i + 2] : 0);
    b64 += a[v >> 18 & 63];
    b64 += a[v >> 12 & 63];
    b64 += i + 1 < png.size() ? a[v >> 6 & 63] : '=';
    b64 += i + 2 < png.size() ? a[v & 63] : '=';
  }
  auto url = ParseDataUrl("data:image/png;base64," + b64, 1 << 20);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->bytes, png);
  auto img_ok = DecodeImage(url->bytes, ImageLimits{}, url->declared_mime);
  ASSERT_TRUE(img_ok.ok());
  EXPECT_EQ(img_ok->rgb.data, img.data);
  auto lying = ParseDataUrl("data:image/jpeg;base64," + b64, 1 << 20);
  ASSERT_TRUE(lying.ok());
  EXPECT_EQ(DecodeImage(lying->bytes, ImageLimits{}, lying->declared_mime).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseDataUrl("DATA:image/png;name=x.png;base64," + b64, 1 << 20).ok());
  for (const std::string& bad : std::vector<std::string>{"data:image/png," + b64, "data:image/png;base64" + b64, "data:;base64," + b64,
                          "http://example.com/x.png", "data:image/png;base64," + b64 + "!"}) {
    EXPECT_FALSE(ParseDataUrl(bad, 1 << 20).ok()) << bad.substr(0, 40);
  }
  EXPECT_EQ(ParseDataUrl("data:image/png;base64," + b64, 16).status().code(), StatusCode::kResourceExhausted);
}

TEST(MediaReliability, MediaRootRefusesEscapes) {
  ocular::testing::TempDir outer;
  std::filesystem::create_directories(outer.path() / "root/sub");
  auto write = [](const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; };
  write(outer.path() / "root/sub/a.png", "inside");
  write(outer.path() / "secret.txt", "outside");
  std::filesystem::create_symlink(outer.path() / "secret.txt", outer.path() / "root/link_out");
  std::filesystem::create_symlink(outer.path() / "root/sub/a.png", outer.path() / "root/link_in");
  auto root = MediaRoot::Create(outer.path() / "root");
  ASSERT_TRUE(root.ok());
  auto read = [&](const std::string& ref) { return root->ReadFile(ref, 1 << 20); };
  ASSERT_TRUE(read("sub/a.png").ok());
  EXPECT_EQ(read("sub/a.png")->size(), 6u);
  EXPECT_TRUE(read((outer.path() / "root/sub/a.png").string()).ok());
  EXPECT_TRUE(read("file://" + (outer.path() / "root/sub/a.png").string()).ok());
  EXPECT_TRUE(read("link_in").ok());  // a symlink that stays inside is fine
  EXPECT_EQ(read("../secret.txt").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read("sub/../../secret.txt").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read((outer.path() / "secret.txt").string()).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read("file://" + (outer.path() / "secret.txt").string()).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read("link_out").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read("file://" + (outer.path() / "root/sub/a%2epng").string()).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(read("file:relative").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read("sub").status().code(), StatusCode::kPermissionDenied);  // a directory
  EXPECT_EQ(read("missing.png").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(root->ReadFile("sub/a.png", 3).status().code(), StatusCode::kResourceExhausted);
}

// Videos ------------------------------------------------------------------------------------

Status VideoStatus(const std::vector<uint8_t>& bytes, const VideoLimits& limits = VideoLimits{}) {
  SilenceFfmpegLogging();
  auto r = DecodeVideo(bytes, limits, VideoSamplingConfig{});
  return r.ok() ? OkStatus() : r.status();
}

std::vector<uint8_t> Text(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

TEST(MediaReliability, PlaylistsAndTextDisguisedAsVideo) {
  const std::string m3u = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:1/seg.ts\n#EXT-X-ENDLIST\n";
  EXPECT_EQ(VideoStatus(Text(m3u)).code(), StatusCode::kInvalidArgument);
  // The same playlist behind a fake ISO-BMFF box header gets past the sniffer but not the
  // allow-listed demuxers (no HLS, no protocols).
  std::string boxed = std::string("\x00\x00\x00\x18", 4) + "ftypisom" + std::string(12, '\0') + m3u;
  EXPECT_EQ(VideoStatus(Text(boxed)).code(), StatusCode::kInvalidArgument);
  const std::string concat = "ffconcat version 1.0\nfile 'file:/etc/passwd'\n";
  EXPECT_EQ(VideoStatus(Text(concat)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VideoStatus({}).code(), StatusCode::kInvalidArgument);
}

TEST(MediaReliability, VideosWithLyingHeadersAndTruncation) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto mp4 = ocular::testing::ReadFileBytes(golden / "inputs/video/video_b.mp4");
  auto mkv = ocular::testing::ReadFileBytes(golden / "inputs/video/video_b.mkv");
  ASSERT_TRUE(VideoStatus(mp4).ok());
  ASSERT_TRUE(VideoStatus(mkv).ok());
  // The MP4's moov (frame count 15) precedes mdat: cutting mdat leaves a header that claims
  // more frames than exist -> DataLoss, not a short or padded clip.
  std::vector<uint8_t> cut(mp4.begin(), mp4.begin() + static_cast<long>(mp4.size() * 6 / 10));
  EXPECT_EQ(VideoStatus(cut).code(), StatusCode::kDataLoss);
  // Every 997th prefix of both containers: an error or a (shorter, consistent) clip; no crash.
  for (const auto* file : {&mp4, &mkv}) {
    for (size_t n = 0; n < file->size(); n += 997) {
      std::vector<uint8_t> p(file->begin(), file->begin() + static_cast<long>(n));
      auto r = DecodeVideo(p, VideoLimits{}, VideoSamplingConfig{});
      if (r.ok()) {
        EXPECT_EQ(r->frames.size(), r->indices.size());
      }
    }
  }
  // Matroska PixelWidth (0xB0, 1-byte value 160) rewritten to 255: the header lies about the
  // frame size the FFV1 slices describe. Refused or decoded consistently, never a crash.
  std::vector<uint8_t> lying = mkv;
  bool patched = false;
  for (size_t i = 0; i + 3 < lying.size(); ++i) {
    if (lying[i] == 0xB0 && lying[i + 1] == 0x81 && lying[i + 2] == 0xA0) {
      lying[i + 2] = 0xFF;
      patched = true;
      break;
    }
  }
  ASSERT_TRUE(patched);
  {
    auto r = DecodeVideo(lying, VideoLimits{}, VideoSamplingConfig{});
    if (r.ok()) {
      for (const RgbImage& f : r->frames) EXPECT_EQ(f.width, 255);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    }
  }
  // Caps on frames, duration and frame size.
  VideoLimits few;
  few.max_total_frames = 10;
  EXPECT_EQ(VideoStatus(mp4, few).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(VideoStatus(mkv, few).code(), StatusCode::kResourceExhausted);
  VideoLimits shorter;
  shorter.max_duration_s = 2.0;
  EXPECT_EQ(VideoStatus(mp4, shorter).code(), StatusCode::kResourceExhausted);
  VideoLimits narrow;
  narrow.max_side = 128;
  EXPECT_EQ(VideoStatus(mkv, narrow).code(), StatusCode::kResourceExhausted);
  VideoLimits budget;  // 5 frames are sampled: a budget of 4 cannot hold them
  budget.max_decoded_frames = 4;
  EXPECT_EQ(VideoStatus(mkv, budget).code(), StatusCode::kResourceExhausted);
  // Images are not videos.
  RgbImage img = testing::Pattern(64, 64);
  EXPECT_EQ(VideoStatus(testing::EncodePngRgb(img)).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ocular::media
