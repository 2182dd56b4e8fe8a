// The server under hostile or unlucky clients (RELIABILITY.md API/URL/load/fault classes):
// clients that hang up at every stage of a request, a full admission queue (429 +
// Retry-After), oversized header blocks (431), video_url parts (data: and file:// under the
// media root, checked against the float64 reference tokens), file:// outside the root, slow
// and endless media servers hitting the fetch time cap, deep JSON, NaN parameters and prompts
// longer than the context.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The bounds are for release builds (the issue's "within 1 s"); sanitizer builds run the same
// work several times slower, so every bound (and the fetch cap they are compared with) scales.
#if defined(OCULAR_ASAN) || defined(OCULAR_TSAN)
constexpr int kScale = 5;
#else
constexpr int kScale = 1;
#endif
constexpr auto kFetchCap = std::chrono::milliseconds(1500 * kScale);

// A loopback "media server" that accepts connections and never answers (or answers one byte
// at a time, forever). It records when each accepted connection was closed by the fetcher.
class StallingMediaServer {
 public:
  explicit StallingMediaServer(bool trickle) : trickle_(trickle) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_fd_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~StallingMediaServer() {
    stop_.store(true);
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int closed() const { return closed_.load(); }

 private:
  void Loop() {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    auto last_trickle = Clock::now();
    while (!stop_.load()) {
      ::poll(fds.data(), fds.size(), 20);
      if (fds[0].revents & POLLIN) {
        int c = ::accept(listen_fd_, nullptr, nullptr);
        if (c >= 0) {
          accepted_.fetch_add(1);
          fds.push_back({c, POLLIN, 0});
          if (trickle_) {
            static const char kHead[] = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n";
            ::send(c, kHead, sizeof(kHead) - 1, MSG_NOSIGNAL);
          }
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          closed_.fetch_add(1);
        }
      }
      if (trickle_ && Clock::now() - last_trickle > std::chrono::milliseconds(100)) {
        last_trickle = Clock::now();
        for (size_t i = 1; i < fds.size(); ++i) {
          if (fds[i].fd >= 0) ::send(fds[i].fd, "x", 1, MSG_NOSIGNAL);
        }
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].fd >= 0) ::close(fds[i].fd);
    }
  }
  bool trickle_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_{0};
  std::thread thread_;
};

class ServerLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto golden = GoldenDir();
    if (!golden) return;
    golden_ = *golden;
    engine::EngineOptions eo;
    eo.max_running = 1;  // a second request waits in the queue
    eo.max_waiting = 2;  // and a fourth is refused with 429
    TestServerExtras ex;
    ex.exact_engine_limits = true;
    ex.media_root = golden_ / "inputs";
    ex.allow_loopback_fetch = true;
    ex.image_fetch_timeout = kFetchCap;
    server_ = std::make_unique<TestServer>(golden_, server::HttpOptions{}, eo, ex);
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (server_) {
      ASSERT_TRUE(server_->ok()) << "server failed to start";
    }
  }

  static std::string Metrics() { return server_->Get("/metrics", "")->body; }
  struct Snapshot {
    double kv_used = 0, leased = 0;
  };
  static Snapshot Baseline() {
    const std::string m = Metrics();
    return {MetricValue(m, "ocular_kv_blocks_used"), MetricValue(m, "ocular_feature_cache_leased_entries")};
  }
  // Within 1 s: nothing running or waiting, KV blocks and feature-cache references at baseline.
  static ::testing::AssertionResult BackToBaseline(const Snapshot& base) {
    const auto t0 = Clock::now();
    std::string m;
    while (Clock::now() - t0 < std::chrono::milliseconds(1000 * kScale)) {
      m = Metrics();
      if (MetricValue(m, "ocular_requests_running") == 0 && MetricValue(m, "ocular_requests_waiting") == 0 &&
          MetricValue(m, "ocular_kv_blocks_used") <= base.kv_used &&
          MetricValue(m, "ocular_feature_cache_leased_entries") <= base.leased) {
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ::testing::AssertionFailure()
           << "after 1 s: running " << MetricValue(m, "ocular_requests_running") << ", waiting "
           << MetricValue(m, "ocular_requests_waiting") << ", kv blocks " << MetricValue(m, "ocular_kv_blocks_used")
           << " (baseline " << base.kv_used << "), leased " << MetricValue(m, "ocular_feature_cache_leased_entries")
           << " (baseline " << base.leased << ")";
  }
  static void ExpectNextRequestSucceeds() {
    json req = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 2}, {"temperature", 0}};
    auto r = server_->Post("/v1/chat/completions", req.dump());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  static json LongDecode(bool stream) {
    return {{"messages", {{{"role", "user"}, {"content", "Tell me a very long story."}}}},
            {"max_tokens", 3000}, {"ignore_eos", true}, {"stream", stream}};
  }
  static json ImageRequest(const std::string& file, int64_t max_tokens) {
    const std::string png = ReadBinary(golden_ / "inputs/images" / file);
    return {{"messages", {{{"role", "user"},
                           {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + Base64Encode(png)}}}},
                                        {{"type", "text"}, {"text", "Describe."}}}}}}},
            {"max_tokens", max_tokens}, {"ignore_eos", true}};
  }
  // Waits up to 5 s for a metric to reach at least `value`.
  static bool WaitMetricAtLeast(const std::string& name, double value) {
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < std::chrono::seconds(5)) {
      if (MetricValue(Metrics(), name) >= value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  static inline fs::path golden_;
  static inline std::unique_ptr<TestServer> server_;
};

// Queued: one long request holds the only running slot; a second, non-streaming one waits.
// Hanging up the waiting one removes it from the queue; then the running one is dropped too.
TEST_F(ServerLimitsTest, DisconnectWhileQueuedFreesEverything) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Snapshot base = Baseline();
  int blocker = ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", LongDecode(true).dump()));
  ASSERT_GE(blocker, 0);
  ASSERT_TRUE(WaitMetricAtLeast("ocular_requests_running", 1));
  int queued = ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", LongDecode(false).dump()));
  ASSERT_TRUE(WaitMetricAtLeast("ocular_requests_waiting", 1));
  ::close(queued);
  const auto t0 = Clock::now();
  bool left_queue = false;
  while (Clock::now() - t0 < std::chrono::seconds(kScale)) {
    if (MetricValue(Metrics(), "ocular_requests_waiting") == 0) {
      left_queue = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(left_queue) << "the hung-up request still waits after 1 s";
  EXPECT_EQ(MetricValue(Metrics(), "ocular_requests_running"), 1) << "the other request must keep running";
  ::close(blocker);
  EXPECT_TRUE(BackToBaseline(base));
  ExpectNextRequestSucceeds();
}

// Fetching: the media host never answers; the client hangs up while the server waits for it.
// The fetch stops (the media host sees its connection closed) long before the fetch time cap.
TEST_F(ServerLimitsTest, DisconnectWhileFetchingStopsTheFetch) {
  OCULAR_REQUIRE_GOLDEN(golden);
  StallingMediaServer media(/*trickle=*/false);
  const Snapshot base = Baseline();
  json req = {{"messages", {{{"role", "user"},
                             {"content", {{{"type", "image_url"},
                                           {"image_url", {{"url", "http://127.0.0.1:" + std::to_string(media.port()) + "/a.png"}}}}}}}}},
              {"max_tokens", 4}};
  int fd = ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", req.dump()));
  const auto t_wait = Clock::now();
  while (media.accepted() == 0 && Clock::now() - t_wait < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(media.accepted(), 1);
  ::close(fd);
  const auto t0 = Clock::now();
  while (media.closed() == 0 && Clock::now() - t0 < kFetchCap) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // A close well before the fetch cap (1.5 s) is the cancellation, not the timeout.
  EXPECT_EQ(media.closed(), 1);
  EXPECT_LT(Clock::now() - t0, kFetchCap / 3);
  EXPECT_TRUE(BackToBaseline(base));
  ExpectNextRequestSucceeds();
}

// Encode, prefill, decode and the last token: hang-ups at staggered moments of image and
// long-prompt requests (non-streaming: nothing is written until the end, so only the socket
// watch can notice). Each must leave KV blocks and feature-cache references at baseline.
TEST_F(ServerLimitsTest, DisconnectDuringEncodePrefillAndDecodeFreesEverything) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Snapshot base = Baseline();
  std::string long_prompt;
  for (int i = 0; i < 600; ++i) long_prompt += "lorem ipsum dolor sit amet ";
  const json prefill_req = {{"messages", {{{"role", "user"}, {"content", long_prompt}}}}, {"max_tokens", 3000},
                            {"ignore_eos", true}};
  struct Case {
    const char* what;
    json body;
    int hang_up_ms;
  };
  const std::vector<Case> cases = {
      {"encode (image, at once)", ImageRequest("img_1280x720_screenshot.png", 3000), 0},
      {"encode (image, 20 ms)", ImageRequest("img_640x480_photo_q90.png", 3000), 20},
      {"prefill (long prompt, 30 ms)", prefill_req, 30},
      {"decode (400 ms)", LongDecode(false), 400},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    int fd = ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", c.body.dump()));
    ASSERT_GE(fd, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(c.hang_up_ms));
    ::close(fd);
    EXPECT_TRUE(BackToBaseline(base));
    ExpectNextRequestSucceeds();
  }
}

// The last token: a streaming client reads up to the finish chunk and hangs up before [DONE].
TEST_F(ServerLimitsTest, DisconnectAtTheLastTokenFreesEverything) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Snapshot base = Baseline();
  json req = LongDecode(true);
  req["max_tokens"] = 8;
  req["stream_options"] = {{"include_usage", true}};
  int fd = ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", req.dump()));
  ASSERT_GE(fd, 0);
  std::string got;
  char buf[4096];
  const auto t0 = Clock::now();
  while (got.find("\"finish_reason\":\"length\"") == std::string::npos && Clock::now() - t0 < std::chrono::seconds(20)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, size_t(n));
  }
  EXPECT_NE(got.find("\"finish_reason\":\"length\""), std::string::npos);
  ::close(fd);
  EXPECT_TRUE(BackToBaseline(base));
  ExpectNextRequestSucceeds();
}

// The admission queue holds max_waiting requests; beyond that: 429 with Retry-After, at once.
TEST_F(ServerLimitsTest, FullQueueGets429WithRetryAfter) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Snapshot base = Baseline();
  std::vector<int> held;
  held.push_back(ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", LongDecode(true).dump())));
  ASSERT_TRUE(WaitMetricAtLeast("ocular_requests_running", 1));
  for (int i = 0; i < 2; ++i) {
    held.push_back(ConnectAndSend(server_->port(), HttpPost("/v1/chat/completions", LongDecode(true).dump())));
  }
  ASSERT_TRUE(WaitMetricAtLeast("ocular_requests_waiting", 2));
  // Many more at once: every one is refused immediately.
  std::vector<std::thread> clients;
  std::mutex mu;
  std::vector<int> statuses;
  std::vector<std::string> retry_after;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      auto r = server_->Post("/v1/chat/completions", LongDecode(false).dump());
      std::lock_guard<std::mutex> lock(mu);
      statuses.push_back(r ? r->status : -1);
      retry_after.push_back(r ? r->get_header_value("Retry-After") : "");
      if (r && r->status == 429) {
        json j = json::parse(r->body, nullptr, false);
        EXPECT_EQ(j["error"]["type"], "rate_limit_error");
      }
    });
  }
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_EQ(statuses[i], 429);
    EXPECT_FALSE(retry_after[i].empty());
    EXPECT_GE(std::atoi(retry_after[i].c_str()), 1);
  }
  for (int fd : held) ::close(fd);
  EXPECT_TRUE(BackToBaseline(base));
  ExpectNextRequestSucceeds();
}

// video_url parts: a data: URL and a file:// URL under the media root give the reference's
// greedy tokens for video_a; file:// outside the root is refused naming the part.
TEST_F(ServerLimitsTest, VideoUrlPartsMatchTheReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const json c = json::parse(ReadBinary(golden_ / "forward/tiny-a/video_a/case.json"));
  const std::string mkv = ReadBinary(golden_ / "inputs/video/video_a.mkv");
  ASSERT_FALSE(mkv.empty());
  for (const std::string& url : {"data:video/x-matroska;base64," + Base64Encode(mkv),
                                "file://" + (golden_ / "inputs/video/video_a.mkv").string()}) {
    SCOPED_TRACE(url.substr(0, 30));
    json req = {{"messages", {{{"role", "user"},
                               {"content", {{{"type", "video_url"}, {"video_url", {{"url", url}}}},
                                            {{"type", "text"}, {"text", "What happens in this video?"}}}}}}},
                {"temperature", 0}, {"max_tokens", 16}, {"ignore_eos", true}};
    auto r = server_->Post("/v1/chat/completions", req.dump());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    EXPECT_EQ(j["usage"]["prompt_tokens"], c["n_tokens"]);
    EXPECT_EQ(j["choices"][0]["message"]["content"], c["generated_text"]);
    ASSERT_EQ(j["usage"]["media"].size(), 1u);
    EXPECT_EQ(j["usage"]["media"][0]["tokens"], 24);
  }
  // Outside the media root (the golden folder's models/ is beside inputs/).
  for (const std::string& url : {"file://" + (golden_ / "models/tiny-a/config.json").string(),
                                "file://" + (golden_ / "inputs/../models/tiny-a/config.json").string(),
                                std::string("file:///etc/passwd")}) {
    json req = {{"messages", {{{"role", "user"}, {"content", {{{"type", "video_url"}, {"video_url", {{"url", url}}}}}}}}},
                {"max_tokens", 2}};
    auto r = server_->Post("/v1/chat/completions", req.dump());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << url << ": " << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_EQ(j["error"]["param"], "messages[0].content[0].video_url.url") << r->body;
    EXPECT_EQ(r->body.find("passwd"), std::string::npos) << "errors never echo the URL";
  }
}

// A media host that never finishes (one byte every 100 ms, forever) or never answers hits the
// fetch time cap (1.5 s here): 400 naming the part, well before any client timeout.
TEST_F(ServerLimitsTest, SlowAndEndlessMediaServersHitTheFetchTimeCap) {
  OCULAR_REQUIRE_GOLDEN(golden);
  for (bool trickle : {false, true}) {
    SCOPED_TRACE(trickle ? "endless body" : "no answer");
    StallingMediaServer media(trickle);
    json req = {{"messages", {{{"role", "user"},
                               {"content", {{{"type", "image_url"},
                                             {"image_url", {{"url", "http://127.0.0.1:" + std::to_string(media.port()) + "/x.png"}}}}}}}}},
                {"max_tokens", 2}};
    const auto t0 = Clock::now();
    auto r = server_->Post("/v1/chat/completions", req.dump());
    const auto took = Clock::now() - t0;
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_EQ(j["error"]["param"], "messages[0].content[0].image_url.url") << r->body;
    EXPECT_EQ(j["error"]["code"], "DEADLINE_EXCEEDED") << r->body;
    EXPECT_GE(took, kFetchCap - std::chrono::milliseconds(100));
    EXPECT_LT(took, kFetchCap + std::chrono::milliseconds(2500 * kScale));
  }
}

// Header limits (RELIABILITY.md): more than 100 header fields or more than 32 KiB of header
// block -> 431, and the connection is closed.
TEST_F(ServerLimitsTest, TooManyOrTooLargeHeadersAre431) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const std::string body = R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":1})";
  auto request = [&](int n_headers, size_t value_bytes) {
    std::string h = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kApiKey) +
                    "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
    for (int i = 0; i < n_headers; ++i) h += "X-Filler-" + std::to_string(i) + ": " + std::string(value_bytes, 'a') + "\r\n";
    return h + "\r\n" + body;
  };
  auto status_of = [](const std::string& response) {
    return response.size() > 12 && response.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(response.c_str() + 9) : -1;
  };
  // Within the limits: 90 small extra headers, 20 KiB in all.
  EXPECT_EQ(status_of(RawExchange(server_->port(), request(90, 200))), 200);
  EXPECT_EQ(status_of(RawExchange(server_->port(), request(120, 10))), 431);      // > 100 fields
  EXPECT_EQ(status_of(RawExchange(server_->port(), request(10, 4000))), 431);     // > 32 KiB
  ExpectNextRequestSucceeds();
}

// JSON nesting depth, NaN/Infinity parameters and prompts longer than the context.
TEST_F(ServerLimitsTest, DeepJsonNanParametersAndOverlongPromptsAre400) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto post = [](const std::string& body) { return server_->Post("/v1/chat/completions", body); };
  std::string deep = R"({"messages":[{"role":"user","content":"Hi"}],"x":)" + std::string(200, '[') +
                     std::string(200, ']') + "}";
  auto r = post(deep);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  // JSON has no NaN; the spellings clients produce are refused as malformed or out of range.
  for (const char* v : {"NaN", "Infinity", "-Infinity", "1e999"}) {
    r = post(std::string(R"({"messages":[{"role":"user","content":"Hi"}],"temperature":)") + v + "}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << v << ": " << r->body;
  }
  // A prompt longer than max_model_len (TestServer: engine default 32768 tokens; the text
  // limit is 16 MiB): ~40k tokens of distinct words.
  std::string text;
  for (int i = 0; i < 40000; ++i) text += " w" + std::to_string(i);
  r = post(json{{"messages", {{{"role", "user"}, {"content", text}}}}, {"max_tokens", 4}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body.substr(0, 300);
  json j = json::parse(r->body, nullptr, false);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  ExpectNextRequestSucceeds();
}

}  // namespace
}  // namespace ocular::testing

namespace ocular::testing {
namespace {

// /v1/models: every model carries "ocular": {"demo": ...}; a random-weight demo model says so
// with a note (the web UI shows it as a banner).
TEST(ModelsEndpointTest, DemoModelIsMarked) {
  OCULAR_REQUIRE_GOLDEN(golden);
  for (bool demo : {false, true}) {
    server::HttpOptions ho;
    ho.demo_model = demo;
    TestServer s(golden, ho);
    ASSERT_TRUE(s.ok());
    auto r = s.Get("/v1/models");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    json j = json::parse(r->body);
    ASSERT_EQ(j["data"].size(), 1u);
    const json& m = j["data"][0];
    ASSERT_TRUE(m.contains("ocular")) << r->body;
    EXPECT_EQ(m["ocular"]["demo"], demo);
    EXPECT_EQ(m["ocular"].contains("note"), demo);
    if (demo) {
      EXPECT_NE(m["ocular"]["note"].get<std::string>().find("random"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace ocular::testing
