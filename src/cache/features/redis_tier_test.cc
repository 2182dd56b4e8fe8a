// The Redis shared tier against a real redis-server started on a random loopback port (skipped,
// with a message, when redis-server is not installed).
#include "cache/features/redis_tier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "cache/features/feature_cache.h"

extern char** environ;

namespace ocular::features {
namespace {

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(begin, end - begin)) / name;
    if (!candidate.empty() && access(candidate.c_str(), X_OK) == 0) return candidate.string();
    begin = end + 1;
  }
  return "";
}

// A free loopback port (bind to 0, read it back, close; a tiny race is acceptable in a test).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// redis-server as a child process (no persistence); killed by Kill() or the destructor.
class RedisServer {
 public:
  bool Start(const std::string& binary, const std::vector<std::string>& extra = {},
             const std::string& password = "") {
    port_ = FreePort();
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {binary,      "--port",      port,       "--bind",
                                     "127.0.0.1", "--save",      "",         "--appendonly",
                                     "no",        "--daemonize", "no",       "--loglevel",
                                     "warning",   "--logfile",   "/dev/null"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
      return false;
    for (int i = 0; i < 100; ++i) {  // up to 5 s for it to accept connections
      timeval tv{0, 100000};
      redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
      bool up = c != nullptr && c->err == 0;
      if (up && !password.empty()) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "AUTH %s", password.c_str()));
        up = r != nullptr && r->type != REDIS_REPLY_ERROR;
        if (r != nullptr) freeReplyObject(r);
      }
      if (c != nullptr) redisFree(c);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  ~RedisServer() { Kill(); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::shared_ptr<const FeatureEntry> MakeEntry(float marker) {
  auto e = std::make_shared<FeatureEntry>();
  e->embeddings = FeatureArray::Zeros(64, 32);
  for (int i = 0; i < 64 * 32; ++i) e->embeddings.floats()[i] = marker + i;
  e->deepstack.push_back(FeatureArray::Zeros(64, 32));
  e->grid = {1, 16, 16};
  e->num_tokens = 64;
  e->encode_ns = 5000;
  return e;
}

FeatureKey Key(uint8_t n) {
  Sha256Digest media{};
  media.fill(n);
  return MakeFeatureKey(media, "");
}

TEST(RedisTierTest, ParsesUrls) {
  EXPECT_TRUE(RedisFeatureTier::Create("redis://127.0.0.1:6380").ok());
  EXPECT_TRUE(RedisFeatureTier::Create("redis://cache-host").ok());
  EXPECT_TRUE(RedisFeatureTier::Create("redis://cache-host:7000/2").ok());
  for (const char* bad : {"", "http://x:1", "redis://", "redis://h:0", "redis://h:70000",
                          "redis://h:port", "redis://user@h:1", "redis://:@h:1", "redis://h:1/x",
                          "redis://@h"}) {
    EXPECT_FALSE(RedisFeatureTier::Create(bad).ok()) << bad;
  }
  auto ep = ParseRedisUrl("redis://alice:s3cr:et@cache-host:7000/3");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->user, "alice");
  EXPECT_EQ(ep->password, "s3cr:et");
  EXPECT_EQ(ep->host, "cache-host");
  EXPECT_EQ(ep->port, 7000);
  EXPECT_EQ(ep->db, 3);
  ep = ParseRedisUrl("redis://:pw@h");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->user, "");
  EXPECT_EQ(ep->password, "pw");
  EXPECT_EQ(ep->port, 6379);
  // Errors never repeat the URL (it may carry a password).
  auto bad = RedisFeatureTier::Create("redis://u:topsecret@h:99999");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("topsecret"), std::string::npos);
}

TEST(RedisTierTest, GetNeverReadsTheNetworkOnlyWhatPrefetchStaged) {
  RedisTierOptions options;
  options.connect_timeout_ms = 100;
  auto tier = RedisFeatureTier::Create("redis://127.0.0.1:" + std::to_string(FreePort()), options);
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ((*tier)->Get(Key(1)), nullptr);
  EXPECT_EQ((*tier)->Stats().errors, 0u);  // no connection was even tried
  EXPECT_EQ((*tier)->Stats().misses, 0u);
}

// A server that accepts connections and never answers (Redis stuck): the first read waits for
// the command timeout, then the breaker makes every call return at once.
TEST(RedisTierTest, AStuckServerCostsOneTimeoutThenLocalOnly) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);  // the kernel completes handshakes; nobody reads
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  RedisTierOptions options;
  options.command_timeout_ms = 150;
  options.retry_after_ms = 60'000;
  auto tier = RedisFeatureTier::Create("redis://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)),
                                       options);
  ASSERT_TRUE(tier.ok());
  Stopwatch first;
  EXPECT_EQ((*tier)->Fetch(Key(1)), nullptr);
  EXPECT_GE(first.ElapsedMs(), 100.0);
  EXPECT_LT(first.ElapsedMs(), 1500.0);
  Stopwatch rest;
  for (int i = 0; i < 20; ++i) {
    (*tier)->Prefetch(Key(2));
    (*tier)->Put(Key(2), MakeEntry(2));
  }
  // Without the breaker these 20 reads would wait 20 x 150 ms; with it they return at once
  // (the bound leaves room for a loaded or sanitizer machine).
  EXPECT_LT(rest.ElapsedMs(), 500.0) << "the breaker should answer at once";
  const SharedTierStats s = (*tier)->Stats();
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.misses, 21u);
  EXPECT_EQ(s.dropped, 20u);
  close(fd);
}

TEST(RedisTierTest, PasswordIsSentAndAWrongOneIsAnError) {
  const std::string binary = FindOnPath("redis-server");
  if (binary.empty()) GTEST_SKIP() << "redis-server not found on PATH: shared-tier test SKIPPED";
  RedisServer server;
  ASSERT_TRUE(server.Start(binary, {"--requirepass", "pa55"}, "pa55"));
  const std::string where = "127.0.0.1:" + std::to_string(server.port());
  auto good = RedisFeatureTier::Create("redis://:pa55@" + where);
  auto wrong = RedisFeatureTier::Create("redis://:nope@" + where);
  ASSERT_TRUE(good.ok() && wrong.ok());
  (*good)->Put(Key(5), MakeEntry(5));
  ASSERT_TRUE((*good)->Flush(5000));
  EXPECT_EQ((*good)->Stats().writes, 1u);
  auto back = (*good)->Fetch(Key(5));
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->embeddings.floats()[3], 8.0f);
  EXPECT_EQ((*wrong)->Fetch(Key(5)), nullptr);
  EXPECT_EQ((*wrong)->Stats().errors, 1u);
}

TEST(RedisTierTest, DownAtStartIsAMissNotAFailure) {
  RedisTierOptions options;
  options.connect_timeout_ms = 100;
  auto tier = RedisFeatureTier::Create("redis://127.0.0.1:" + std::to_string(FreePort()), options);
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ((*tier)->Get(Key(1)), nullptr);
  (*tier)->Prefetch(Key(1));
  EXPECT_EQ((*tier)->Get(Key(1)), nullptr);
  (*tier)->Put(Key(1), MakeEntry(1));
  const SharedTierStats s = (*tier)->Stats();
  EXPECT_EQ(s.errors, 1u);  // the put did not even try: the tier is down
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.dropped, 1u);
}

TEST(RedisTierTest, TwoReplicasShareEncodingsAndSurviveRedisDying) {
  const std::string binary = FindOnPath("redis-server");
  if (binary.empty()) GTEST_SKIP() << "redis-server not found on PATH: shared-tier test SKIPPED";
  RedisServer server;
  ASSERT_TRUE(server.Start(binary)) << "redis-server did not come up";
  const std::string url = "redis://127.0.0.1:" + std::to_string(server.port());
  RedisTierOptions options;
  options.retry_after_ms = 200;
  auto tier_a = RedisFeatureTier::Create(url, options);
  auto tier_b = RedisFeatureTier::Create(url, options);
  ASSERT_TRUE(tier_a.ok() && tier_b.ok());
  std::shared_ptr<RedisFeatureTier> shared_a = std::move(*tier_a);
  std::shared_ptr<RedisFeatureTier> shared_b = std::move(*tier_b);
  // Two replicas: separate local caches, separate connections, one Redis.
  FeatureCache replica_a({.budget_bytes = 1 << 24}, shared_a);
  FeatureCache replica_b({.budget_bytes = 1 << 24}, shared_b);

  auto stored = MakeEntry(7);
  replica_a.Insert(Key(1), stored);
  ASSERT_TRUE(shared_a->Flush(5000));  // the write is asynchronous
  EXPECT_EQ(shared_a->Stats().writes, 1u);
  // Without the prefetch (the request thread's read), the engine-side lookup is local only.
  EXPECT_FALSE(replica_b.Lookup({Key(1), {1, 16, 16}, std::nullopt}).has_value());
  replica_b.PrefetchShared(Key(1));
  std::optional<FeatureHit> hit = replica_b.Lookup({Key(1), {1, 16, 16}, std::nullopt});
  ASSERT_TRUE(hit.has_value()) << "replica b should be served from Redis";
  EXPECT_EQ(std::memcmp(hit->lease.entry().embeddings.data.data(), stored->embeddings.data.data(),
                        stored->embeddings.byte_size()),
            0);
  EXPECT_EQ(hit->lease.entry().deepstack.size(), 1u);
  EXPECT_EQ(replica_b.Stats().shared_hits, 1u);
  EXPECT_EQ(replica_b.Stats().encode_ns_saved, 5000);
  hit.reset();
  replica_b.PrefetchShared(Key(1));  // already local: Redis is not asked again
  ASSERT_TRUE(replica_b.Lookup({Key(1), {1, 16, 16}, std::nullopt}).has_value());
  EXPECT_EQ(replica_b.Stats().hits, 1u);  // now from local memory
  EXPECT_EQ(shared_b->Stats().hits, 1u);
  EXPECT_EQ(shared_b->Stats().misses, 0u);

  // A corrupted value in Redis is a miss, never a bad entry.
  {
    timeval tv{1, 0};
    redisContext* raw = redisConnectWithTimeout("127.0.0.1", server.port(), tv);
    ASSERT_TRUE(raw != nullptr && raw->err == 0);
    const std::string key = RedisFeatureKey(Key(2));
    freeReplyObject(redisCommand(raw, "SET %b %b", key.data(), key.size(), "garbage", size_t{7}));
    redisFree(raw);
  }
  replica_b.PrefetchShared(Key(2));
  EXPECT_FALSE(replica_b.Lookup({Key(2), {1, 16, 16}, std::nullopt}).has_value());
  EXPECT_EQ(shared_b->Stats().corrupt, 1u);
  EXPECT_EQ(shared_b->Stats().misses, 1u);

  // Redis dies: both replicas keep serving from memory and miss cleanly on new images.
  server.Kill();
  Stopwatch watch;
  EXPECT_TRUE(replica_a.Lookup({Key(1), {1, 16, 16}, std::nullopt}).has_value());
  EXPECT_TRUE(replica_b.Lookup({Key(1), {1, 16, 16}, std::nullopt}).has_value());
  replica_b.PrefetchShared(Key(3));
  EXPECT_FALSE(replica_b.Lookup({Key(3), {1, 16, 16}, std::nullopt}).has_value());
  EXPECT_TRUE(replica_a.Insert(Key(4), MakeEntry(4)));
  shared_a->Flush(5000);
  EXPECT_TRUE(replica_a.Lookup({Key(4), {1, 16, 16}, std::nullopt}).has_value());
  replica_b.PrefetchShared(Key(4));
  EXPECT_FALSE(replica_b.Lookup({Key(4), {1, 16, 16}, std::nullopt}).has_value());
  EXPECT_LT(watch.ElapsedMs(), 2000.0) << "a dead Redis must not stall requests";
  EXPECT_GE(shared_a->Stats().errors + shared_b->Stats().errors, 1u);
}

}  // namespace
}  // namespace ocular::features
