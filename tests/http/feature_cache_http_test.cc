// The vision feature cache over HTTP on tiny-a: the same image after a different prompt prefix
// skips the encoder and still gives the reference's greedy text; media-id references
// ("ocular-media:<id>") are served from the cache without image bytes, per tenant, and an
// unknown id is a 409 media_not_cached; a JPEG q85 copy of a screenshot is a near hit only with
// near matching on. Expected texts come from the float64 reference (golden/forward/tiny-a).
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cmath>
#include <string>

#include "cache/features/feature_cache.h"
#include "cache/features/hamming_index.h"
#include "cache/features/perceptual_hash.h"
#include "cache/features/test_screenshots.h"
#include "media/image.h"
#include "media/test_images.h"
#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json ReadCase(const fs::path& golden, const std::string& name) {
  return json::parse(ReadBinary(golden / "forward/tiny-a" / name / "case.json"));
}

// The golden case's messages as an OpenAI request: image parts become data URLs, or
// `image_url` when given (a media-id reference).
json RequestFromCase(const fs::path& golden, const json& c, const std::string& salt,
                     const std::string& image_url = "") {
  json messages = c["messages"];
  for (json& m : messages) {
    if (!m["content"].is_array()) continue;
    for (json& part : m["content"]) {
      if (part["type"] != "image") continue;
      const std::string url =
          image_url.empty()
              ? "data:image/png;base64," + Base64Encode(ReadBinary(golden / part["image"].get<std::string>()))
              : image_url;
      part = {{"type", "image_url"}, {"image_url", {{"url", url}}}};
    }
  }
  return {{"model", "tiny-a"}, {"messages", messages}, {"temperature", 0}, {"max_tokens", 16},
          {"ignore_eos", true}, {"cache_salt", salt}};
}

json ImageRequest(const std::string& url, const std::string& salt, const char* kind = "image_url") {
  return {{"messages",
           {{{"role", "user"},
             {"content", {{{"type", kind}, {kind, {{"url", url}}}}, {{"type", "text"}, {"text", "What is this?"}}}}}}},
          {"temperature", 0}, {"max_tokens", 2}, {"cache_salt", salt}};
}

class FeatureCacheHttpTest : public SharedServerTest<FeatureCacheHttpTest> {
 protected:
  static json Post(const json& body, int expect_status = 200) {
    auto r = server_->Post("/v1/chat/completions", body.dump());
    EXPECT_TRUE(r) << "no response";
    if (!r) return json();
    EXPECT_EQ(r->status, expect_status) << r->body.substr(0, 500);
    return json::parse(r->body, nullptr, false);
  }
  static double Metric(const std::string& name) {
    auto r = server_->Get("/metrics", "");
    return r && r->status == 200 ? MetricValue(r->body, name) : std::nan("");
  }

};

// Issue acceptance: image, then the same image after a different system prompt and history.
TEST_F(FeatureCacheHttpTest, SameImageAfterDifferentSystemPromptSkipsEncoderAndMatchesReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const json first_case = ReadCase(golden, "image_img_320x240_shapes");
  const json second_case = ReadCase(golden, "multi_turn");  // system prompt + history, same image
  const std::string salt = "system-prompt-test";
  json a = Post(RequestFromCase(golden, first_case, salt));
  EXPECT_EQ(a["choices"][0]["message"]["content"], first_case["generated_text"]);
  ASSERT_EQ(a["usage"]["media"].size(), 1u);
  EXPECT_EQ(a["usage"]["media"][0]["cache"], "miss");
  EXPECT_GT(a["usage"]["timings"]["encode_ms"].get<double>(), 0.0);

  const double hits = Metric("ocular_feature_cache_hits_total{kind=\"exact\"}");
  const double misses = Metric("ocular_feature_cache_misses_total");
  const double saved = Metric("ocular_feature_cache_encode_seconds_saved_total");
  json b = Post(RequestFromCase(golden, second_case, salt));
  EXPECT_EQ(b["choices"][0]["message"]["content"], second_case["generated_text"]);
  EXPECT_EQ(b["usage"]["prompt_tokens"], second_case["n_tokens"]);
  ASSERT_EQ(b["usage"]["media"].size(), 1u);
  EXPECT_EQ(b["usage"]["media"][0]["cache"], "hit");
  EXPECT_FALSE(b["usage"]["media"][0].contains("prefix")) << "the prefix cache must not cover it";
  EXPECT_EQ(b["usage"]["media"][0]["id"], a["usage"]["media"][0]["id"]);
  EXPECT_EQ(b["usage"]["timings"]["encode_ms"].get<double>(), 0.0);
  EXPECT_EQ(Metric("ocular_feature_cache_hits_total{kind=\"exact\"}"), hits + 1);
  EXPECT_EQ(Metric("ocular_feature_cache_misses_total"), misses);
  EXPECT_GT(Metric("ocular_feature_cache_encode_seconds_saved_total"), saved);
  EXPECT_GE(Metric("ocular_feature_cache_entries"), 1.0);
  EXPECT_GT(Metric("ocular_feature_cache_bytes"), 0.0);
  EXPECT_EQ(Metric("ocular_feature_cache_evictions_total"), 0.0);  // 64 MiB budget, tiny entries
}

TEST_F(FeatureCacheHttpTest, MediaIdReferenceIsServedFromTheCacheWithoutImageBytes) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const json first_case = ReadCase(golden, "image_img_320x240_shapes");
  const json second_case = ReadCase(golden, "multi_turn");
  const std::string salt = "reference-test";
  json a = Post(RequestFromCase(golden, first_case, salt));
  ASSERT_EQ(a["usage"]["media"].size(), 1u);
  const std::string id = a["usage"]["media"][0]["id"];
  ASSERT_EQ(id.size(), 64u);
  const json ref_request = RequestFromCase(golden, second_case, salt, "ocular-media:" + id);
  EXPECT_LT(ref_request.dump().size(), 2000u) << "the reference carries no image";
  json b = Post(ref_request);
  EXPECT_EQ(b["choices"][0]["message"]["content"], second_case["generated_text"]);
  EXPECT_EQ(b["usage"]["prompt_tokens"], second_case["n_tokens"]);
  ASSERT_EQ(b["usage"]["media"].size(), 1u);
  EXPECT_EQ(b["usage"]["media"][0]["id"], id);
  EXPECT_EQ(b["usage"]["media"][0]["cache"], "hit");
  EXPECT_EQ(b["usage"]["media"][0]["tokens"], second_case["media"][0]["n_tokens"]);
  EXPECT_EQ(b["usage"]["timings"]["encode_ms"].get<double>(), 0.0);
  // Upper-case hex names the same id.
  std::string upper = id;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  json c = Post(RequestFromCase(golden, second_case, salt, "ocular-media:" + upper));
  EXPECT_EQ(c["choices"][0]["message"]["content"], second_case["generated_text"]);
}

TEST_F(FeatureCacheHttpTest, UnknownOrOtherTenantsMediaIdIsMediaNotCached) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const json first_case = ReadCase(golden, "image_img_320x240_shapes");
  json a = Post(RequestFromCase(golden, first_case, "tenant-a"));
  ASSERT_EQ(a["usage"]["media"].size(), 1u);
  const std::string id = a["usage"]["media"][0]["id"];
  auto expect_409 = [](const json& e) {
    ASSERT_TRUE(e.contains("error")) << e.dump();
    EXPECT_EQ(e["error"]["code"], "media_not_cached");
    EXPECT_EQ(e["error"]["param"], "messages[0].content[0].image_url.url");
  };
  expect_409(Post(ImageRequest("ocular-media:" + id, "tenant-b"), 409));  // another tenant's
  expect_409(Post(ImageRequest("ocular-media:" + id, ""), 409));          // no salt is a tenant too
  expect_409(Post(ImageRequest("ocular-media:" + std::string(64, 'a'), "tenant-a"), 409));
  Post(ImageRequest("ocular-media:" + id, "tenant-a"), 200);  // the owner still can
  for (const std::string& bad :
       std::vector<std::string>{"ocular-media:1234", "ocular-media:" + std::string(64, 'g')}) {
    json e = Post(ImageRequest(bad, "tenant-a"), 400);
    EXPECT_EQ(e["error"]["param"], "messages[0].content[0].image_url.url") << bad;
  }
  Post(ImageRequest("ocular-media:" + id, "tenant-a", "video_url"), 400);  // images only
  EXPECT_GE(Metric("ocular_requests_total{status=\"409\"}"), 3.0);
}

// Near duplicates over HTTP: a generated 1280x720 screenshot (PNG), then the same pixels as a
// JPEG at quality 85 (a different media id).
std::string PngDataUrl(const features::testing::Image& img) {
  media::RgbImage rgb{static_cast<int32_t>(img.width), static_cast<int32_t>(img.height), img.rgb};
  auto png = media::testing::EncodePngRgb(rgb);
  return "data:image/png;base64," + Base64Encode(std::string(png.begin(), png.end()));
}
std::string JpegDataUrl(const features::testing::Image& img, int quality) {
  auto jpg = media::testing::EncodeJpeg(img.rgb.data(), static_cast<int>(img.width),
                                        static_cast<int>(img.height), TJPF_RGB, TJSAMP_420, quality);
  return "data:image/jpeg;base64," + Base64Encode(std::string(jpg.begin(), jpg.end()));
}

TEST(FeatureCacheSimilarHttpTest, JpegCopyOfAScreenshotIsANearHitOnlyWithNearMatchingOn) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const features::testing::Image shot = features::testing::MakeScreenshot(7);
  const std::string png = PngDataUrl(shot), jpeg = JpegDataUrl(shot, 85);
  // The JPEG as the server sees it (decoded), hashed: the near hit must report this distance.
  auto jpg = media::testing::EncodeJpeg(shot.rgb.data(), static_cast<int>(shot.width),
                                        static_cast<int>(shot.height), TJPF_RGB, TJSAMP_420, 85);
  auto decoded = media::DecodeImage(jpg, media::ImageLimits{});
  ASSERT_TRUE(decoded.ok());
  auto h_png = features::PerceptualHash(shot.view());
  auto h_jpg = features::PerceptualHash({decoded->rgb.data.data(), decoded->rgb.width, decoded->rgb.height,
                                         int64_t(decoded->rgb.width) * 3});
  ASSERT_TRUE(h_png.ok() && h_jpg.ok());
  const int expected_distance = features::HammingDistance(*h_png, *h_jpg);
  for (int threshold : {features::kDefaultSimilarThreshold, -1}) {
    SCOPED_TRACE("threshold " + std::to_string(threshold));
    engine::EngineOptions eo;
    eo.feature_cache.similar_threshold = threshold;
    TestServer server(golden, {}, eo);
    ASSERT_TRUE(server.ok());
    auto post = [&](const std::string& url) {
      auto r = server.Post("/v1/chat/completions", ImageRequest(url, "near").dump());
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body.substr(0, 300) : "no response");
      return r ? json::parse(r->body, nullptr, false) : json();
    };
    json a = post(png);
    ASSERT_EQ(a["usage"]["media"].size(), 1u);
    EXPECT_EQ(a["usage"]["media"][0]["cache"], "miss");
    json b = post(jpeg);
    ASSERT_EQ(b["usage"]["media"].size(), 1u);
    EXPECT_NE(b["usage"]["media"][0]["id"], a["usage"]["media"][0]["id"]);
    if (threshold >= 0) {
      EXPECT_EQ(b["usage"]["media"][0]["cache"], "similar");
      ASSERT_TRUE(b["usage"]["media"][0].contains("distance"));
      // The distance the server reports is that of the two images' perceptual hashes.
      EXPECT_EQ(b["usage"]["media"][0]["distance"].get<int>(), expected_distance);
      EXPECT_LE(expected_distance, threshold);
      EXPECT_EQ(b["usage"]["timings"]["encode_ms"].get<double>(), 0.0);
      auto m = server.Get("/metrics", "");
      ASSERT_TRUE(m);
      EXPECT_EQ(MetricValue(m->body, "ocular_feature_cache_hits_total{kind=\"similar\"}"), 1.0);
    } else {
      EXPECT_EQ(b["usage"]["media"][0]["cache"], "miss");
      EXPECT_FALSE(b["usage"]["media"][0].contains("distance"));
      EXPECT_GT(b["usage"]["timings"]["encode_ms"].get<double>(), 0.0);
    }
  }
}

}  // namespace
}  // namespace ocular::testing
