// Issue 11 acceptance: `scripts/cluster up 3` (Redis, three `ocular serve` replicas, haproxy
// from deploy/haproxy.cfg.in) on loopback, driven through haproxy:
// - the same session key (X-Ocular-Session, or the body's `user`) lands on the same replica,
//   and its second turn reuses the first turn's KV prefix (cached_tokens > 0);
// - an image encoded on replica A is a feature-cache hit on replica B (two keys that hash to
//   different replicas), with the reference's greedy text;
// - SIGTERM to a replica under streaming load: every accepted stream ends with a finish
//   reason and [DONE], and new requests are served by the others;
// - killing Redis keeps every replica serving.
// Skips loudly when haproxy or redis-server is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "tests/cluster/cluster_util.h"
#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::map<std::string, std::string> ReadEnvFile(const fs::path& p) {
  std::map<std::string, std::string> env;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (size_t eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

int PortOf(const std::string& url) { return std::atoi(url.substr(url.rfind(':') + 1).c_str()); }

// Runs scripts/cluster with `args`; true when it exits 0 within the timeout.
bool RunClusterScript(const std::vector<std::string>& args, const fs::path& log, int timeout_ms) {
  std::vector<std::string> argv = {"/bin/bash", OCULAR_CLUSTER_SCRIPT};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p;
  if (!p.Start(argv, log)) return false;
  const int status = p.Wait(timeout_ms);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

json TextTurn(const json& messages, int max_tokens) {
  return {{"messages", messages}, {"temperature", 0}, {"max_tokens", max_tokens},
          {"ignore_eos", true}};
}

class ClusterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // On a failure, haproxy's log says whether a replica left the rotation (health checks).
    if (up_ && HasFailure() && fs::exists(state_ / "haproxy.log")) {
      std::fprintf(stderr, "--- haproxy.log\n%s\n", ReadFileText(state_ / "haproxy.log").c_str());
    }
    if (up_) RunClusterScript({"down", "--state", state_.string()}, dir_.path() / "down.log", 90000);
  }
  // Starts the cluster; false (with a failure) when it did not come up.
  bool Up(const fs::path& golden) {
    state_ = dir_.path() / "state";
    up_ = true;
    if (!RunClusterScript({"up", "3", "--binary", OCULAR_BINARY, "--model",
                           (golden / "models/tiny-a").string(), "--state", state_.string(), "--",
                           "--threads", "1", "--kv-cache-bytes", "33554432",
                           // Draining replicas finish their streams however slow the machine
                           // (a loaded CI runner took over 30 s, the default grace).
                           "--shutdown-grace-seconds", "600"},
                          dir_.path() / "up.log", 240000)) {
      std::string logs;  // the state folder goes with the test: show what each process said
      for (const char* name : {"redis.log", "replica-0.log", "replica-1.log", "replica-2.log", "haproxy.log"}) {
        if (fs::exists(state_ / name)) logs += std::string("\n--- ") + name + "\n" + ReadFileText(state_ / name);
      }
      ADD_FAILURE() << "scripts/cluster up failed:\n" << ReadFileText(dir_.path() / "up.log") << logs;
      return false;
    }
    env_ = ReadEnvFile(state_ / "cluster.env");
    lb_ = PortOf(env_["OCULAR_CLUSTER_URL"]);
    const std::string stats_url = env_["OCULAR_CLUSTER_STATS_URL"];  // .../stats
    stats_ = PortOf(stats_url.substr(0, stats_url.rfind('/')));
    // haproxy marks servers up after its first checks.
    for (int i = 0; i < 100; ++i) {
      if (PostChat(lb_, TextTurn({{{"role", "user"}, {"content", "hi"}}}, 1)).status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no answer through haproxy";
    return false;
  }

  // POST through haproxy once its last request has left the backend. Routing is consistent
  // hashing with bounded loads (hash-balance-factor): a request sent the moment the previous
  // one's response arrived can find that stream still counted on its server, and a key whose
  // home server then looks over its bound goes to the next server on the ring. A test that
  // asserts where a key lands waits for the count to reach zero (and for all three servers to
  // be in rotation) first.
  ChatReply Routed(const json& request, const std::string& session = "") {
    for (int i = 0; i < 400; ++i) {
      if (Counter(stats_, "haproxy_backend_current_sessions{proxy=\"ocular_replicas\"}") == 0 &&
          Counter(stats_, "haproxy_backend_active_servers{proxy=\"ocular_replicas\"}") == 3) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return PostChat(lb_, request, session);
  }

  // The direct port of "replica-<i>" (for its /metrics).
  int ReplicaPort(const std::string& replica) {
    return PortOf(env_["OCULAR_REPLICA_" + replica.substr(8) + "_URL"]);
  }

  TempDir dir_;
  fs::path state_;
  bool up_ = false;
  std::map<std::string, std::string> env_;
  int lb_ = 0;
  int stats_ = 0;  // haproxy's stats and /metrics port
};

struct StreamResult {
  std::string replica;
  std::string finish;
  bool done = false;
  bool malformed = false;
  int status = -1;
};

// *replica_index is set to i of "replica-<i>" as soon as the response headers arrive.
StreamResult Stream(int port, const json& request, const std::string& session,
                    std::atomic<int>* started, std::atomic<int>* replica_index) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(120, 0);
  httplib::Request r;
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.body = request.dump();
  r.set_header("Content-Type", "application/json");
  r.set_header("X-Ocular-Session", session);
  StreamResult out;
  std::string body;
  r.response_handler = [&](const httplib::Response& res) {
    out.replica = res.get_header_value("X-Ocular-Replica");
    if (out.replica.rfind("replica-", 0) == 0) replica_index->store(std::atoi(out.replica.c_str() + 8));
    return true;
  };
  r.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    if (body.empty()) started->fetch_add(1);
    body.append(d, n);
    return true;
  };
  auto res = cli.send(r);
  if (!res) return out;
  out.status = res->status;
  SseStream s = ParseSse(body);
  out.done = s.done;
  out.malformed = s.malformed;
  for (const json& ch : s.chunks) {
    if (!ch.contains("choices")) continue;
    for (const json& x : ch["choices"]) {
      if (!x["finish_reason"].is_null()) out.finish = x["finish_reason"];
    }
  }
  return out;
}

TEST_F(ClusterTest, SessionRoutingSharedFeaturesDrainAndRedisLoss) {
  OCULAR_REQUIRE_GOLDEN(golden);
  if (FindOnPath("haproxy").empty() || FindOnPath("redis-server").empty()) {
    GTEST_SKIP() << "\n*** SKIPPED: haproxy and redis-server are needed (scripts/setup-debian.sh) ***";
  }
  ASSERT_TRUE(Up(golden));

  // 1. Sticky sessions: turn 2 of each conversation goes where turn 1 went and reuses its KV.
  std::set<std::string> replicas_seen;
  for (int s = 0; s < 6; ++s) {
    const std::string session = "conversation-" + std::to_string(s);
    json messages = {{{"role", "user"}, {"content", "Tell me a story about number " + std::to_string(s)}}};
    ChatReply t1 = Routed(TextTurn(messages, 8), session);
    ASSERT_EQ(t1.status, 200);
    ASSERT_FALSE(t1.replica.empty());
    EXPECT_EQ(t1.body["usage"]["session"], session);
    EXPECT_EQ(t1.body["usage"]["replica"], t1.replica);
    messages.push_back({{"role", "assistant"}, {"content", t1.body["choices"][0]["message"]["content"]}});
    messages.push_back({{"role", "user"}, {"content", "And then?"}});
    ChatReply t2 = Routed(TextTurn(messages, 4), session);
    ASSERT_EQ(t2.status, 200);
    EXPECT_EQ(t2.replica, t1.replica) << session;
    EXPECT_GT(t2.body["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), 0) << session;
    replicas_seen.insert(t1.replica);
  }
  EXPECT_GE(replicas_seen.size(), 2u) << "six sessions all hashed to one replica";
  // The OpenAI `user` field is the key when there is no header.
  {
    json req = TextTurn({{{"role", "user"}, {"content", "hello"}}}, 2);
    req["user"] = "user-42";
    const std::string first = Routed(req).replica;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(Routed(req).replica, first);
  }

  // 2. An image encoded on one replica is a feature-cache hit on another.
  std::map<std::string, std::string> key_for_replica;
  for (int k = 0; k < 64 && key_for_replica.size() < 3; ++k) {
    const std::string key = "image-session-" + std::to_string(k);
    ChatReply r = Routed(TextTurn({{{"role", "user"}, {"content", "ping"}}}, 1), key);
    ASSERT_EQ(r.status, 200);
    key_for_replica.emplace(r.replica, key);
  }
  ASSERT_EQ(key_for_replica.size(), 3u);
  const std::string key_a = key_for_replica.begin()->second;
  const std::string key_b = std::next(key_for_replica.begin())->second;
  const std::string key_c = std::next(key_for_replica.begin(), 2)->second;
  const json shapes = GoldenCase(golden, "image_img_224x224_shapes");
  const json image_request = GoldenRequest(golden, shapes, 16);
  ChatReply on_a = Routed(image_request, key_a);
  ASSERT_EQ(on_a.status, 200);
  EXPECT_EQ(on_a.body["usage"]["media"][0]["cache"], "miss");
  EXPECT_EQ(on_a.body["choices"][0]["message"]["content"], shapes["generated_text"]);
  // The write to Redis is asynchronous: wait until A reports it, then ask B once (a retry
  // loop could pass on B's own encoding).
  const int port_a = ReplicaPort(on_a.replica);
  for (int i = 0; i < 200 && Counter(port_a, "ocular_feature_cache_shared_writes_total") < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(Counter(port_a, "ocular_feature_cache_shared_writes_total"), 1);
  // A differently worded question: only the image (not a KV prefix) can be reused.
  json other_question = image_request;
  other_question["messages"][0]["content"][1]["text"] = "Describe it in other words.";
  ChatReply on_b = Routed(other_question, key_b);
  ASSERT_EQ(on_b.status, 200);
  ASSERT_NE(on_b.replica, on_a.replica);
  EXPECT_EQ(on_b.body["usage"]["media"][0]["cache"], "hit") << on_b.body["usage"].dump();
  EXPECT_EQ(on_b.body["usage"]["timings"]["encode_ms"].get<double>(), 0.0);
  EXPECT_EQ(Counter(ReplicaPort(on_b.replica), "ocular_feature_cache_shared_hits_total"), 1);
  // A media-id reference (no image bytes) resolves on the third replica through Redis too.
  json by_reference = image_request;
  by_reference["messages"][0]["content"][0]["image_url"]["url"] =
      "ocular-media:" + on_a.body["usage"]["media"][0]["id"].get<std::string>();
  ChatReply on_c = Routed(by_reference, key_c);
  ASSERT_EQ(on_c.status, 200) << on_c.body.dump();
  EXPECT_NE(on_c.replica, on_a.replica);
  EXPECT_NE(on_c.replica, on_b.replica);
  EXPECT_EQ(on_c.body["usage"]["media"][0]["cache"], "hit");
  EXPECT_EQ(on_c.body["choices"][0]["message"]["content"], shapes["generated_text"]);

  // 3. SIGTERM to one replica under streaming load.
  constexpr int kStreams = 12;
  std::atomic<int> started{0};
  std::vector<StreamResult> results(kStreams);
  std::vector<std::atomic<int>> replica_index(kStreams);
  for (auto& r : replica_index) r.store(-1);
  std::vector<std::thread> threads;
  // A failed ASSERT below returns with the streams still running: join them first (a joinable
  // std::thread destroyed would abort the test before TearDown stops the cluster).
  struct JoinAll {
    std::vector<std::thread>& threads;
    ~JoinAll() {
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } join_all{threads};
  const json story = {{"messages", {{{"role", "user"}, {"content", "A long story, please."}}}},
                      {"max_tokens", 256}, {"ignore_eos", true}, {"stream", true}};
  for (int i = 0; i < kStreams; ++i) {
    threads.emplace_back([&, i] {
      results[size_t(i)] =
          Stream(lb_, story, "stream-" + std::to_string(i), &started, &replica_index[size_t(i)]);
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (started.load() < kStreams && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(started.load(), kStreams);
  // The victim: the replica serving the first stream (so it has work in flight).
  ASSERT_GE(replica_index[0].load(), 0);  // headers come before the first data
  const std::string victim_index = std::to_string(replica_index[0].load());
  const std::string victim = "replica-" + victim_index;
  const pid_t victim_pid = std::atoi(env_["OCULAR_REPLICA_" + victim_index + "_PID"].c_str());
  ASSERT_GT(victim_pid, 0);
  ASSERT_EQ(kill(victim_pid, SIGTERM), 0);
  // Once the victim has started draining (its /ready says 503; a request sent in the instant
  // before the signal is handled would still be accepted there, correctly), new work goes to
  // the others, including requests routed to it before haproxy's check notices.
  {
    httplib::Client direct("127.0.0.1", ReplicaPort(victim));
    bool draining = false;
    for (int i = 0; i < 500 && !draining; ++i) {
      auto r = direct.Get("/ready");
      draining = !r || r->status == 503;
      if (!draining) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(draining);
  }
  for (int i = 0; i < 10; ++i) {
    ChatReply r = PostChat(lb_, TextTurn({{{"role", "user"}, {"content", "new " + std::to_string(i)}}}, 2),
                           "after-" + std::to_string(i));
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_NE(r.replica, victim);
  }
  for (auto& t : threads) t.join();  // JoinAll then has nothing left to do
  int victim_streams = 0;
  for (int i = 0; i < kStreams; ++i) {
    const StreamResult& r = results[size_t(i)];
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_TRUE(r.done && !r.malformed) << i << " on " << r.replica;
    EXPECT_EQ(r.finish, "length") << i << " on " << r.replica;
    victim_streams += r.replica == victim;
  }
  EXPECT_GE(victim_streams, 1);

  // 4. Redis dies: every replica still serves (a new image is encoded where it lands).
  const pid_t redis_pid = std::atoi(ReadFileText(state_ / "redis.pid").c_str());
  ASSERT_GT(redis_pid, 0);
  ASSERT_EQ(kill(redis_pid, SIGKILL), 0);
  const json other = GoldenCase(golden, "image_img_320x240_shapes");
  for (int i = 0; i < 4; ++i) {
    ChatReply r = PostChat(lb_, GoldenRequest(golden, other, 16), "after-redis-" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_NE(r.replica, victim);
    EXPECT_EQ(r.body["choices"][0]["message"]["content"], other["generated_text"]);
  }
}

}  // namespace
}  // namespace ocular::testing
