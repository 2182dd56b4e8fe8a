// Issue 6 acceptance (shared tier): a real redis-server on loopback and two `ocular serve`
// processes with --feature-cache-redis. An image encoded by A is a feature-cache hit on B (no
// encoder run) with the reference's greedy text on both; after Redis is killed both keep
// serving correctly (new images are misses, no errors reach clients).
// Expected texts come from the float64 reference (golden/forward/tiny-a).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/cluster/cluster_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;

std::string Content(const ChatReply& r) {
  return r.body["choices"][0]["message"]["content"].get<std::string>();
}

// Waits up to 10 s for counter >= at_least (the shared tier writes asynchronously).
bool WaitForCounter(int port, const std::string& name, double at_least) {
  for (int i = 0; i < 200; ++i) {
    if (Counter(port, name) >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(SharedFeatureCache, SecondProcessHitsWhatTheFirstEncodedAndSurvivesRedisDying) {
  OCULAR_REQUIRE_GOLDEN(golden);
  if (FindOnPath("redis-server").empty()) {
    GTEST_SKIP() << "\n*** SKIPPED: redis-server not installed (scripts/setup-debian.sh) ***";
  }
  TempDir dir;
  ChildProcess redis, a, b;
  int redis_port = 0, port_a = 0, port_b = 0;
  ASSERT_TRUE(StartRedis(redis, dir.path(), &redis_port)) << "redis-server did not start";
  const std::vector<std::string> flags = {
      "--threads", "1", "--kv-cache-bytes", "16777216", "--feature-cache-redis",
      "redis://127.0.0.1:" + std::to_string(redis_port)};
  std::vector<std::string> flags_a = flags, flags_b = flags;
  flags_a.insert(flags_a.end(), {"--replica-name", "a"});
  flags_b.insert(flags_b.end(), {"--replica-name", "b"});
  const auto model = golden / "models/tiny-a";
  ASSERT_TRUE(StartOcular(a, dir.path() / "a.log", model, flags_a, &port_a));
  ASSERT_TRUE(StartOcular(b, dir.path() / "b.log", model, flags_b, &port_b));

  const json shapes = GoldenCase(golden, "image_img_224x224_shapes");
  const json request = GoldenRequest(golden, shapes, 16);
  const std::string expected = shapes["generated_text"];

  ChatReply on_a = PostChat(port_a, request);
  ASSERT_EQ(on_a.status, 200) << on_a.body.dump();
  EXPECT_EQ(on_a.replica, "a");
  EXPECT_EQ(on_a.body["usage"]["replica"], "a");
  EXPECT_EQ(Content(on_a), expected);
  EXPECT_EQ(on_a.body["usage"]["media"][0]["cache"], "miss");
  EXPECT_GT(on_a.body["usage"]["timings"]["encode_ms"].get<double>(), 0.0);
  ASSERT_TRUE(WaitForCounter(port_a, "ocular_feature_cache_shared_writes_total", 1))
      << "A never wrote its encoding to Redis";

  ChatReply on_b = PostChat(port_b, request);
  ASSERT_EQ(on_b.status, 200) << on_b.body.dump();
  EXPECT_EQ(on_b.replica, "b");
  EXPECT_EQ(Content(on_b), expected);
  EXPECT_EQ(on_b.body["usage"]["media"][0]["cache"], "hit");
  EXPECT_EQ(on_b.body["usage"]["timings"]["encode_ms"].get<double>(), 0.0) << "B ran the encoder";
  EXPECT_EQ(Counter(port_b, "ocular_feature_cache_shared_hits_total"), 1);
  EXPECT_EQ(Counter(port_b, "ocular_feature_cache_hits_total{kind=\"shared\"}"), 1);
  EXPECT_EQ(Counter(port_b, "ocular_feature_cache_misses_total"), 0);

  // Redis dies mid-test: both replicas keep answering correctly; new images are encoded.
  redis.Signal(SIGKILL);
  redis.Wait(5000);
  const json other = GoldenCase(golden, "image_img_320x240_shapes");
  const json other_request = GoldenRequest(golden, other, 16);
  for (int port : {port_a, port_b}) {
    const auto t0 = std::chrono::steady_clock::now();
    ChatReply r = PostChat(port, other_request);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(Content(r), other["generated_text"].get<std::string>());
    EXPECT_EQ(r.body["usage"]["media"][0]["cache"], "miss");
    ChatReply again = PostChat(port, request);  // the first image: still in local memory
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(Content(again), expected);
    EXPECT_EQ(again.body["usage"]["media"][0]["cache"], "hit");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  }
  EXPECT_GE(Counter(port_a, "ocular_feature_cache_shared_errors_total") +
                Counter(port_b, "ocular_feature_cache_shared_errors_total"),
            1);
  EXPECT_EQ(Counter(port_a, "ocular_requests_total{status=\"200\"}"), 3);
  EXPECT_EQ(Counter(port_b, "ocular_requests_total{status=\"200\"}"), 3);

  // Both exit cleanly on SIGTERM.
  a.Signal(SIGTERM);
  b.Signal(SIGTERM);
  const int sa = a.Wait(30000), sb = b.Wait(30000);
  EXPECT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
  EXPECT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
}

}  // namespace
}  // namespace ocular::testing
