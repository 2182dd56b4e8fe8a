// Shared pieces of the HTTP tests: an in-process `ocular serve` on the tiny-a checkpoint
// (random free port, API key set), a raw-socket client, SSE parsing and base64.
#pragma once

#include <gtest/gtest.h>

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "base/thread_pool.h"
#include "engine/engine.h"
#include "kernels/compute_context.h"
#include "media/data_source.h"
#include "model/chat/chat_template.h"
#include "model/qwen3vl/model.h"
#include "model/tokenizer/tokenizer.h"
#include "server/fetch.h"
#include "server/http_server.h"
#include "tests/support/golden.h"

namespace ocular::testing {

inline constexpr const char* kApiKey = "test-key-0123456789";

// Less common server set-ups (defaults: the production fetcher, no media root, roomy engine).
struct TestServerExtras {
  bool exact_engine_limits = false;     // keep engine_options' max_running / max_waiting as given
  std::filesystem::path media_root;     // file:// media root (empty: file:// refused)
  bool allow_loopback_fetch = false;    // the fetcher may reach loopback test servers
  std::chrono::milliseconds image_fetch_timeout{0};  // 0: RequestLimits default
};

class TestServer {
 public:
  // Loads tiny-a from `golden`/models/tiny-a and starts serving; check ok().
  TestServer(const std::filesystem::path& golden, server::HttpOptions http = {},
             engine::EngineOptions engine_options = {}, TestServerExtras extras = {});
  ~TestServer();
  bool ok() const { return ok_; }
  int port() const { return port_; }
  server::HttpServer& http() { return *http_; }
  engine::Engine& engine() { return *engine_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }

  // POST JSON with the API key; returns status and body (status -1: no response).
  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& key = kApiKey) const;
  httplib::Result Get(const std::string& path, const std::string& key = kApiKey) const;

 private:
  bool ok_ = false;
  int port_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<kernels::ComputeContext> ctx_;
  std::unique_ptr<qwen3vl::Qwen3VLModel> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<chat::ChatTemplate> template_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<server::UrlFetcher> fetcher_;
  std::unique_ptr<media::MediaRoot> media_root_;
  std::unique_ptr<server::HttpServer> http_;
  std::thread thread_;
};

// A fixture whose tests share one TestServer on tiny-a, started before the suite's first test
// and stopped after its last. `Suite` (the deriving fixture) gives each suite its own server.
template <class Suite>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto golden = GoldenDir();
    if (!golden) return;
    golden_ = *golden;
    server_ = std::make_unique<TestServer>(golden_);
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (server_) {
      ASSERT_TRUE(server_->ok()) << "server failed to start";
    }
  }

  static inline std::filesystem::path golden_;
  static inline std::unique_ptr<TestServer> server_;
};

std::string ReadBinary(const std::filesystem::path& p);

struct SseStream {
  std::vector<nlohmann::json> chunks;  // every `data: {...}` event in order
  bool done = false;                   // `data: [DONE]` seen, and it was the last event
  bool malformed = false;              // an event that is neither JSON nor [DONE], or data after [DONE]
};
SseStream ParseSse(const std::string& body);

// Sends `request` on a new loopback connection, reads until the peer closes or `max_bytes`
// arrived or `timeout_ms` passed; returns what was read.
std::string RawExchange(int port, const std::string& request, size_t max_bytes = 1 << 20,
                        int timeout_ms = 30000, bool shutdown_write = false);

// Connects to 127.0.0.1:`port` and sends `request`; returns the socket (-1 on failure). The
// caller closes it (a hang-up at a chosen moment).
int ConnectAndSend(int port, const std::string& request);
// An HTTP/1.1 POST with the test API key.
std::string HttpPost(const std::string& path, const std::string& body);

// Value of an unlabelled metric line `name value` in Prometheus text (NaN when absent).
double MetricValue(const std::string& metrics, const std::string& name);

}  // namespace ocular::testing
