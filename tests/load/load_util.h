// Helpers shared by the load tests (header-only: inline functions).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/load/load_client.h"
#include "tests/load/serve_process.h"

namespace ocular::testing {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

inline void Figure(const char* name, double value) {
  std::printf("LOAD_FIGURE %s %.6g\n", name, value);
  std::fflush(stdout);
}

inline json Chat(const std::string& text, int max_tokens, bool stream) {
  json r = {{"messages", {{{"role", "user"}, {"content", text}}}}, {"max_tokens", max_tokens},
            {"ignore_eos", true}, {"stream", stream}};
  if (stream) r["stream_options"] = {{"include_usage", true}};
  return r;
}

inline std::unique_ptr<httplib::Client> Connect(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_keep_alive(true);
  c->set_read_timeout(300, 0);
  c->set_write_timeout(60, 0);
  return c;
}

// Waits up to `timeout_ms` until nothing runs, waits or holds KV blocks; returns the ms taken
// (or -1 if the server did not get there).
inline double WaitIdle(const ServeProcess& s, int timeout_ms) {
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < std::chrono::milliseconds(timeout_ms)) {
    if (s.Metric("ocular_requests_running") == 0 && s.Metric("ocular_requests_waiting") == 0 &&
        s.Metric("ocular_kv_blocks_used") == 0) {
      return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

// A complete stream: 200, [DONE] last, nothing malformed, finish "length" and every token.
inline ::testing::AssertionResult CompleteStream(const Exchange& e, int max_tokens) {
  if (e.status != 200) return ::testing::AssertionFailure() << "status " << e.status;
  if (!e.done || e.malformed) return ::testing::AssertionFailure() << "stream truncated or malformed";
  if (e.finish_reason != "length") return ::testing::AssertionFailure() << "finish '" << e.finish_reason << "'";
  if (e.completion_tokens != max_tokens) {
    return ::testing::AssertionFailure() << e.completion_tokens << " tokens of " << max_tokens;
  }
  return ::testing::AssertionSuccess();
}

// The `ocular` binary under test: the build's own, or $OCULAR_TEST_BINARY (another build).
inline std::string Binary() {
  const char* e = std::getenv("OCULAR_TEST_BINARY");
  return e && *e ? e : OCULAR_BINARY;
}

inline std::string Model(const std::filesystem::path& golden) { return (golden / "models/tiny-a").string(); }

}  // namespace ocular::testing
