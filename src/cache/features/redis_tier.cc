#include "cache/features/redis_tier.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>

#include "base/clock.h"
#include "base/log.h"
#include "cache/features/feature_codec.h"

namespace ocular::features {
namespace {

void FreeContext(redisContext* c) { redisFree(c); }

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(int64_t ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string RedisFeatureKey(const FeatureKey& key) {
  return "ocular:feat:v" + std::to_string(kFeatureCodecVersion) + ":" + ToHex(key.media_id) + ":" +
         ToHex(key.salt_id);
}

Result<std::unique_ptr<RedisFeatureTier>> RedisFeatureTier::Create(
    std::string_view url, const RedisTierOptions& options) {
  const Status bad =
      InvalidArgument("feature cache Redis URL must look like redis://host[:port][/db]");
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad;
  std::string_view rest = url.substr(kScheme.size());
  int db = 0;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (!ParseInt(rest.substr(slash + 1), &db) || db < 0) return bad;
    rest = rest.substr(0, slash);
  }
  int port = 6379;
  if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (!ParseInt(rest.substr(colon + 1), &port) || port <= 0 || port > 65535) return bad;
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.find('@') != std::string_view::npos) return bad;  // no credentials yet
  return std::make_unique<RedisFeatureTier>(Passkey(), std::string(rest), port, db, options);
}

RedisFeatureTier::RedisFeatureTier(Passkey, std::string host, int port, int db,
                                   const RedisTierOptions& options)
    : host_(std::move(host)),
      port_(port),
      db_(db),
      options_(options),
      context_(nullptr, &FreeContext) {}

RedisFeatureTier::~RedisFeatureTier() = default;

void RedisFeatureTier::MarkDownLocked() {
  ++stats_.errors;
  if (down_until_ns_ <= NowNs())
    LOG_WARN("feature cache Redis tier unavailable; serving from local memory only");
  context_.reset();
  down_until_ns_ = NowNs() + options_.retry_after_ms * 1'000'000;
}

bool RedisFeatureTier::EnsureConnectedLocked() {
  if (context_ != nullptr) return true;
  if (NowNs() < down_until_ns_) {
    ++stats_.skipped_while_down;
    return false;
  }
  context_.reset(
      redisConnectWithTimeout(host_.c_str(), port_, ToTimeval(options_.connect_timeout_ms)));
  if (context_ == nullptr || context_->err != 0 ||
      redisSetTimeout(context_.get(), ToTimeval(options_.command_timeout_ms)) != REDIS_OK) {
    MarkDownLocked();
    return false;
  }
  if (db_ != 0) {
    ReplyPtr reply(static_cast<redisReply*>(redisCommand(context_.get(), "SELECT %d", db_)));
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
      MarkDownLocked();
      return false;
    }
  }
  return true;
}

std::shared_ptr<const FeatureEntry> RedisFeatureTier::Get(const FeatureKey& key) {
  const std::string redis_key = RedisFeatureKey(key);
  std::string value;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.gets;
    if (!EnsureConnectedLocked()) return nullptr;
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommand(context_.get(), "GET %b", redis_key.data(), redis_key.size())));
    if (reply == nullptr) {
      MarkDownLocked();  // I/O error or timeout: the connection is unusable
      return nullptr;
    }
    if (reply->type == REDIS_REPLY_NIL) return nullptr;
    if (reply->type != REDIS_REPLY_STRING || reply->len > options_.max_value_bytes) {
      ++stats_.corrupt;
      return nullptr;
    }
    value.assign(reply->str, reply->len);
  }
  Result<std::shared_ptr<const FeatureEntry>> entry = DecodeFeatureEntry(value);
  std::lock_guard<std::mutex> lock(mu_);
  if (!entry.ok()) {
    ++stats_.corrupt;
    return nullptr;
  }
  ++stats_.hits;
  return *entry;
}

void RedisFeatureTier::Put(const FeatureKey& key, const FeatureEntry& entry) {
  const std::string redis_key = RedisFeatureKey(key);
  const std::string value = EncodeFeatureEntry(entry);
  if (value.size() > options_.max_value_bytes) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.puts;
  if (!EnsureConnectedLocked()) return;
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommand(context_.get(), "SET %b %b EX %lld", redis_key.data(), redis_key.size(),
                   value.data(), value.size(), static_cast<long long>(options_.ttl_s))));
  if (reply == nullptr) {
    MarkDownLocked();
  } else if (reply->type == REDIS_REPLY_ERROR) {
    ++stats_.errors;  // e.g. maxmemory reached: the value is simply not shared
  }
}

RedisTierStats RedisFeatureTier::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace ocular::features
