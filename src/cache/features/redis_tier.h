// The shared feature tier on Redis (--feature-cache-redis URL), via hiredis. One connection
// guarded by a mutex; every command has a timeout. After a failure the tier stays "down" for a
// retry interval, during which calls return at once (local-only), then reconnects.
// Values use feature_codec.h (versioned, checksummed); keys carry the format version, so
// replicas with different formats never read each other's values.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cache/features/shared_tier.h"

struct redisContext;

namespace ocular::features {

struct RedisTierOptions {
  int64_t connect_timeout_ms = 200;
  int64_t command_timeout_ms = 500;  // a full 1280x720 entry is tens of MB
  int64_t retry_after_ms = 2000;     // how long to stay local-only after a failure
  int64_t ttl_s = 24 * 3600;
  uint64_t max_value_bytes = uint64_t{1} << 30;
};

struct RedisTierStats {
  uint64_t gets = 0, hits = 0, puts = 0, errors = 0, corrupt = 0, skipped_while_down = 0;
};

class RedisFeatureTier final : public SharedFeatureTier {
 public:
  // url: redis://host[:port][/db]. InvalidArgument for anything else. Does not connect yet
  // (Redis being down at start-up is not an error).
  static Result<std::unique_ptr<RedisFeatureTier>> Create(std::string_view url,
                                                          const RedisTierOptions& options = {});
  // Use Create(); public only so that std::make_unique can reach it.
  struct Passkey {
    explicit Passkey() = default;
  };
  RedisFeatureTier(Passkey, std::string host, int port, int db, const RedisTierOptions& options);
  ~RedisFeatureTier() override;
  RedisFeatureTier(const RedisFeatureTier&) = delete;
  RedisFeatureTier& operator=(const RedisFeatureTier&) = delete;

  std::shared_ptr<const FeatureEntry> Get(const FeatureKey& key) override;
  void Put(const FeatureKey& key, const FeatureEntry& entry) override;
  RedisTierStats Stats() const;

 private:
  // Connects if needed; false while down. Requires mu_ held.
  bool EnsureConnectedLocked();
  void MarkDownLocked();

  const std::string host_;
  const int port_;
  const int db_;
  const RedisTierOptions options_;
  mutable std::mutex mu_;
  // The live connection, or null while disconnected (freed with redisFree).
  std::unique_ptr<redisContext, void (*)(redisContext*)> context_;
  int64_t down_until_ns_ = 0;
  RedisTierStats stats_;
};

// "ocular:feat:v<version>:<media id hex>:<salt id hex>".
std::string RedisFeatureKey(const FeatureKey& key);

}  // namespace ocular::features
