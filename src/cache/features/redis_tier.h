// The shared feature tier on Redis (--feature-cache-redis URL), via hiredis.
//
// Reads: Prefetch (a request's thread) GETs the value with a short timeout and stages the
// decoded entry; the engine thread's Get only takes staged entries, so it never waits on the
// network. Writes: Put queues the entry (bounded by bytes; beyond, it is dropped) and one writer
// thread SETs it with a TTL on its own connection. Circuit breaker: after any failure the tier
// stays "down" for a retry interval, during which calls return at once (local-only), then the
// next call reconnects.
// Values use feature_codec.h (versioned, checksummed; a bad value is a miss); keys carry the
// format version and the tenant's salt id, so replicas with another format never read each
// other's values and tenants never share.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "cache/features/shared_tier.h"

struct redisContext;

namespace ocular::features {

struct RedisTierOptions {
  int64_t connect_timeout_ms = 200;
  int64_t command_timeout_ms = 500;   // a full 1280x720 entry of the 2B model is ~30 MB
  int64_t write_timeout_ms = 5000;    // writes run off the request path
  int64_t retry_after_ms = 2000;      // how long to stay local-only after a failure
  int64_t ttl_s = 24 * 3600;
  uint64_t max_value_bytes = uint64_t{1} << 30;
  uint64_t max_queued_bytes = uint64_t{512} << 20;  // pending writes; beyond, drop
  uint64_t max_staged_bytes = uint64_t{1} << 30;    // prefetched, not yet taken by Get
  int64_t staged_ttl_ms = 60'000;  // a staged entry nobody took (request cancelled) expires
};

// Parsed redis://[[user]:password@]host[:port][/db].
struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;
  std::string password;
};
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

class RedisFeatureTier final : public SharedFeatureTier {
 public:
  // InvalidArgument for a malformed URL. Does not connect yet (Redis being down at start-up is
  // not an error); starts the writer thread.
  static Result<std::unique_ptr<RedisFeatureTier>> Create(std::string_view url,
                                                          const RedisTierOptions& options = {});
  // Use Create(); public only so that std::make_unique can reach it.
  struct Passkey {
    explicit Passkey() = default;
  };
  RedisFeatureTier(Passkey, RedisEndpoint endpoint, const RedisTierOptions& options);
  ~RedisFeatureTier() override;  // pending writes are abandoned
  RedisFeatureTier(const RedisFeatureTier&) = delete;
  RedisFeatureTier& operator=(const RedisFeatureTier&) = delete;

  void Prefetch(const FeatureKey& key) override;
  std::shared_ptr<const FeatureEntry> Get(const FeatureKey& key) override;
  void Put(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry) override;
  SharedTierStats Stats() const override;

  // A blocking read straight from Redis (what Prefetch does); null on a miss or failure.
  std::shared_ptr<const FeatureEntry> Fetch(const FeatureKey& key);
  // Waits up to timeout_ms for the write queue to drain; true when it did.
  bool Flush(int64_t timeout_ms);
  // "redis://host:port/db" (never the password), for logs.
  std::string Describe() const;

 private:
  using ContextPtr = std::unique_ptr<redisContext, void (*)(redisContext*)>;
  struct PendingWrite {
    FeatureKey key;
    std::shared_ptr<const FeatureEntry> entry;
  };
  struct Staged {
    std::shared_ptr<const FeatureEntry> entry;
    int64_t expires_ns = 0;
    uint64_t bytes = 0;
  };

  // A connected, authenticated context; null while down or when connecting fails.
  ContextPtr Connect(int64_t command_timeout_ms);
  bool IsDown();
  void MarkDown();
  // Reads connections from the idle pool (or makes one) and gives them back.
  ContextPtr TakeReader();
  void ReturnReader(ContextPtr c);
  void WriterLoop();
  void DropExpiredStagedLocked(int64_t now);

  const RedisEndpoint endpoint_;
  const RedisTierOptions options_;

  std::atomic<int64_t> down_until_ns_{0};
  std::atomic<uint64_t> hits_{0}, misses_{0}, errors_{0}, corrupt_{0}, writes_{0}, dropped_{0};

  std::mutex readers_mu_;
  std::vector<ContextPtr> idle_readers_;

  std::mutex staged_mu_;
  std::unordered_map<FeatureKey, Staged, FeatureKeyHash> staged_;
  uint64_t staged_bytes_ = 0;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<PendingWrite> queue_;
  uint64_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stop_ = false;
  std::thread writer_;  // last: started once everything above exists
};

// "ocular:feat:v<version>:<media id hex>:<salt id hex>".
std::string RedisFeatureKey(const FeatureKey& key);

}  // namespace ocular::features
