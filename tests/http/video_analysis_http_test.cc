// The chat-completions `video_analysis` extension over HTTP (docs/long-video.md) on tiny-a
// with a generated 8 s clip sent as a data: URL: SSE window chunks in time order with the
// planned ranges before the combined answer, the non-streaming shape, 400s naming the field,
// and a client hang-up mid-analysis cancelling every window (KV blocks freed).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "analysis/test_video.h"
#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;

class VideoAnalysisHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    auto golden = GoldenDir();
    if (!golden) GTEST_SKIP() << "golden data absent";
    engine::EngineOptions eo;
    eo.kv_cache_bytes = 16 << 20;
    eo.feature_cache.budget_bytes = 16 << 20;
    server_ = std::make_unique<TestServer>(*golden, server::HttpOptions{}, eo);
    ASSERT_TRUE(server_->ok());
    TempDir dir;
    ASSERT_TRUE(analysis::testing::WriteTestVideo(dir.path() / "clip.mp4", 128, 96, 4, 8).ok());
    url_ = "data:video/mp4;base64," + Base64Encode(ReadBinary(dir.path() / "clip.mp4"));
  }
  json Body(json analysis, bool stream, int max_tokens = 3) const {
    return {{"messages", json::array({{{"role", "user"},
                                       {"content", json::array({{{"type", "video_url"}, {"video_url", {{"url", url_}}}},
                                                                {{"type", "text"}, {"text", "What happens?"}}})}}})},
            {"max_tokens", max_tokens}, {"temperature", 0}, {"ignore_eos", true}, {"stream", stream},
            {"video_analysis", analysis}};
  }
  std::unique_ptr<TestServer> server_;
  std::string url_;
};

TEST_F(VideoAnalysisHttp, StreamsWindowsInTimeOrderThenTheCombinedAnswer) {
  auto r = server_->Post("/v1/chat/completions", Body({{"window_seconds", 2}, {"stride_seconds", 1}}, true).dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  SseStream s = ParseSse(r->body);
  EXPECT_TRUE(s.done);
  EXPECT_FALSE(s.malformed);
  // 8 s: 2 s windows every 1 s -> [0,2) [1,3) ... [6,8).
  std::vector<json> windows;
  bool content_seen = false, finish_seen = false;
  std::string combined;
  for (const json& c : s.chunks) {
    if (c.contains("x_ocular") && c["x_ocular"].contains("window")) {
      EXPECT_FALSE(content_seen) << "a window after the combined answer started";
      EXPECT_TRUE(c["choices"].empty());
      windows.push_back(c["x_ocular"]["window"]);
      continue;
    }
    for (const json& ch : c["choices"]) {
      if (ch["delta"].contains("content")) {
        content_seen = true;
        combined += ch["delta"]["content"].get<std::string>();
      }
      if (!ch["finish_reason"].is_null()) {
        finish_seen = true;
        EXPECT_EQ(ch["finish_reason"], "length");
      }
    }
  }
  ASSERT_EQ(windows.size(), 7u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(windows[i]["index"], i);
    EXPECT_DOUBLE_EQ(windows[i]["start_s"].get<double>(), double(i));
    EXPECT_DOUBLE_EQ(windows[i]["end_s"].get<double>(), double(i + 2));
    EXPECT_FALSE(windows[i]["text"].get<std::string>().empty());
  }
  EXPECT_TRUE(content_seen);
  EXPECT_TRUE(finish_seen);
  EXPECT_FALSE(combined.empty());
}

TEST_F(VideoAnalysisHttp, NonStreamingResponseAndFieldErrors) {
  auto r = server_->Post("/v1/chat/completions", Body({{"window_frames", 4}}, false).dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);  // leading keep-alive spaces are valid JSON whitespace
  EXPECT_EQ(j["object"], "chat.completion");
  ASSERT_EQ(j["x_ocular"]["windows"].size(), 4u);  // 16 samples, 4 per window, end to end
  EXPECT_DOUBLE_EQ(j["x_ocular"]["windows"][3]["start_s"].get<double>(), 6.0);
  EXPECT_FALSE(j["choices"][0]["message"]["content"].get<std::string>().empty());
  EXPECT_EQ(j["usage"]["completion_tokens"], 5 * 3);  // 4 windows + the combine request

  for (const json& bad : {json{{"window_seconds", 2}, {"window_frames", 4}}, json{{"window_seconds", -1}},
                          json{{"stride_seconds", 1}}, json{{"window_seconds", 2}, {"max_windows", 0}}}) {
    auto e = server_->Post("/v1/chat/completions", Body(bad, false).dump());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400) << bad.dump();
    EXPECT_EQ(json::parse(e->body)["error"]["param"].get<std::string>().rfind("video_analysis.", 0), 0u) << e->body;
  }
  json two = Body({{"window_seconds", 2}}, false);
  two["n"] = 2;
  auto e = server_->Post("/v1/chat/completions", two.dump());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
}

TEST_F(VideoAnalysisHttp, HangUpMidAnalysisCancelsEveryWindow) {
  const std::string body = Body({{"window_seconds", 1}}, true, /*max_tokens=*/48).dump();
  const std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          std::string(kApiKey) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  // Read until the first window chunk arrives, then hang up.
  std::string got;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (got.find("\"window\"") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, size_t(n));
  }
  close(fd);
  ASSERT_NE(got.find("\"window\""), std::string::npos) << got.substr(0, 300);
  // Cancelled windows never finish their 48 tokens; the engine must end idle and empty.
  engine::Engine& e = server_->engine();
  for (int i = 0; i < 3000 && !(e.Idle() && e.Stats().kv_blocks_used == 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(e.Idle());
  EXPECT_EQ(e.Stats().kv_blocks_used, 0);
  EXPECT_EQ(e.Stats().feature_cache.leased_entries, 0u);
  EXPECT_LT(e.Stats().finished, 9);
}

}  // namespace
}  // namespace ocular::testing
