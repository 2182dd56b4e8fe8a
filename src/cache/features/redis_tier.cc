#include "cache/features/redis_tier.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>
#include <chrono>

#include "base/clock.h"
#include "base/log.h"
#include "cache/features/feature_codec.h"

namespace ocular::features {
namespace {

void FreeContext(redisContext* c) {
  if (c != nullptr) redisFree(c);
}

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

ReplyPtr Command(redisContext* c, const char* format, auto... args) {
  return ReplyPtr(static_cast<redisReply*>(redisCommand(c, format, args...)));
}

}  // namespace

std::string RedisFeatureKey(const FeatureKey& key) {
  return "ocular:feat:v" + std::to_string(kFeatureCodecVersion) + ":" + ToHex(key.media_id) + ":" +
         ToHex(key.salt_id);
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  // The message never repeats the URL: it may hold a password.
  const Status bad = InvalidArgument(
      "feature cache Redis URL must look like redis://[[user]:password@]host[:port][/db]");
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad;
  std::string_view rest = url.substr(kScheme.size());
  RedisEndpoint ep;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return bad;  // a password is required with '@'
    ep.user = std::string(userinfo.substr(0, colon));
    ep.password = std::string(userinfo.substr(colon + 1));
    if (ep.password.empty()) return bad;
  }
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (!ParseInt(rest.substr(slash + 1), &ep.db) || ep.db < 0) return bad;
    rest = rest.substr(0, slash);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (!ParseInt(rest.substr(colon + 1), &ep.port) || ep.port <= 0 || ep.port > 65535) return bad;
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.find_first_of("/@:") != std::string_view::npos) return bad;
  ep.host = std::string(rest);
  return ep;
}

Result<std::unique_ptr<RedisFeatureTier>> RedisFeatureTier::Create(
    std::string_view url, const RedisTierOptions& options) {
  ASSIGN_OR_RETURN(RedisEndpoint ep, ParseRedisUrl(url));
  return std::make_unique<RedisFeatureTier>(Passkey(), std::move(ep), options);
}

RedisFeatureTier::RedisFeatureTier(Passkey, RedisEndpoint endpoint,
                                   const RedisTierOptions& options)
    : endpoint_(std::move(endpoint)), options_(options) {
  writer_ = std::thread([this] { WriterLoop(); });
}

RedisFeatureTier::~RedisFeatureTier() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  writer_.join();
}

std::string RedisFeatureTier::Describe() const {
  return "redis://" + endpoint_.host + ":" + std::to_string(endpoint_.port) + "/" +
         std::to_string(endpoint_.db);
}

bool RedisFeatureTier::IsDown() { return NowNs() < down_until_ns_.load(); }

void RedisFeatureTier::MarkDown() {
  errors_.fetch_add(1);
  const int64_t now = NowNs();
  const int64_t was = down_until_ns_.exchange(now + options_.retry_after_ms * 1'000'000);
  if (was <= now) {
    LOG_WARN("feature cache Redis tier {} unavailable; local memory only, retrying in {} ms",
             Describe(), options_.retry_after_ms);
  }
}

RedisFeatureTier::ContextPtr RedisFeatureTier::Connect(int64_t command_timeout_ms) {
  ContextPtr c(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                       ToTimeval(options_.connect_timeout_ms)),
               &FreeContext);
  if (c == nullptr || c->err != 0 ||
      redisSetTimeout(c.get(), ToTimeval(command_timeout_ms)) != REDIS_OK) {
    return ContextPtr(nullptr, &FreeContext);
  }
  if (!endpoint_.password.empty()) {
    ReplyPtr r = endpoint_.user.empty()
                     ? Command(c.get(), "AUTH %b", endpoint_.password.data(),
                               endpoint_.password.size())
                     : Command(c.get(), "AUTH %b %b", endpoint_.user.data(), endpoint_.user.size(),
                               endpoint_.password.data(), endpoint_.password.size());
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) return ContextPtr(nullptr, &FreeContext);
  }
  if (endpoint_.db != 0) {
    ReplyPtr r = Command(c.get(), "SELECT %d", endpoint_.db);
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) return ContextPtr(nullptr, &FreeContext);
  }
  return c;
}

RedisFeatureTier::ContextPtr RedisFeatureTier::TakeReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      ContextPtr c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return c;
    }
  }
  return Connect(options_.command_timeout_ms);
}

void RedisFeatureTier::ReturnReader(ContextPtr c) {
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (idle_readers_.size() < 16) idle_readers_.push_back(std::move(c));
}

std::shared_ptr<const FeatureEntry> RedisFeatureTier::Fetch(const FeatureKey& key) {
  if (IsDown()) {
    misses_.fetch_add(1);
    return nullptr;
  }
  ContextPtr c = TakeReader();
  if (c == nullptr) {
    MarkDown();
    misses_.fetch_add(1);
    return nullptr;
  }
  const std::string redis_key = RedisFeatureKey(key);
  ReplyPtr reply = Command(c.get(), "GET %b", redis_key.data(), redis_key.size());
  if (reply == nullptr) {  // I/O error or timeout: this connection is unusable
    MarkDown();
    {
      // Pooled connections to a failing server are probably dead too.
      std::lock_guard<std::mutex> lock(readers_mu_);
      idle_readers_.clear();
    }
    misses_.fetch_add(1);
    return nullptr;
  }
  if (reply->type == REDIS_REPLY_NIL) {
    ReturnReader(std::move(c));
    misses_.fetch_add(1);
    return nullptr;
  }
  if (reply->type != REDIS_REPLY_STRING || reply->len > options_.max_value_bytes) {
    ReturnReader(std::move(c));
    if (reply->type == REDIS_REPLY_ERROR) errors_.fetch_add(1);
    else corrupt_.fetch_add(1);
    misses_.fetch_add(1);
    return nullptr;
  }
  Result<std::shared_ptr<const FeatureEntry>> entry =
      DecodeFeatureEntry(std::string_view(reply->str, reply->len));
  reply.reset();
  ReturnReader(std::move(c));
  if (!entry.ok()) {
    corrupt_.fetch_add(1);
    misses_.fetch_add(1);
    return nullptr;
  }
  hits_.fetch_add(1);
  return *entry;
}

void RedisFeatureTier::DropExpiredStagedLocked(int64_t now) {
  for (auto it = staged_.begin(); it != staged_.end();) {
    if (it->second.expires_ns <= now) {
      staged_bytes_ -= it->second.bytes;
      it = staged_.erase(it);
    } else {
      ++it;
    }
  }
}

void RedisFeatureTier::Prefetch(const FeatureKey& key) {
  {
    std::lock_guard<std::mutex> lock(staged_mu_);
    if (staged_.count(key) != 0) return;  // another request of this replica already read it
  }
  std::shared_ptr<const FeatureEntry> entry = Fetch(key);
  if (entry == nullptr) return;
  const uint64_t bytes = entry->ByteSize();
  const int64_t now = NowNs();
  std::lock_guard<std::mutex> lock(staged_mu_);
  DropExpiredStagedLocked(now);
  if (staged_bytes_ + bytes > options_.max_staged_bytes) return;  // the engine will encode
  auto [it, inserted] =
      staged_.emplace(key, Staged{std::move(entry), now + options_.staged_ttl_ms * 1'000'000, bytes});
  if (inserted) staged_bytes_ += bytes;
}

std::shared_ptr<const FeatureEntry> RedisFeatureTier::Get(const FeatureKey& key) {
  std::lock_guard<std::mutex> lock(staged_mu_);
  auto it = staged_.find(key);
  if (it == staged_.end()) return nullptr;
  std::shared_ptr<const FeatureEntry> entry = std::move(it->second.entry);
  staged_bytes_ -= it->second.bytes;
  staged_.erase(it);
  return entry;
}

void RedisFeatureTier::Put(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry) {
  if (entry == nullptr) return;
  const uint64_t bytes = entry->ByteSize();
  if (IsDown() || bytes > options_.max_value_bytes) {
    dropped_.fetch_add(1);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (queued_bytes_ + bytes > options_.max_queued_bytes) {
      dropped_.fetch_add(1);
      return;
    }
    queued_bytes_ += bytes;
    queue_.push_back(PendingWrite{key, std::move(entry)});
  }
  queue_cv_.notify_one();
}

void RedisFeatureTier::WriterLoop() {
  ContextPtr c(nullptr, &FreeContext);
  for (;;) {
    PendingWrite w;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      w = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
    }
    const uint64_t bytes = w.entry->ByteSize();
    bool stored = false;
    if (!IsDown()) {
      if (c == nullptr) c = Connect(options_.write_timeout_ms);
      if (c == nullptr) {
        MarkDown();
      } else {
        const std::string redis_key = RedisFeatureKey(w.key);
        const std::string value = EncodeFeatureEntry(*w.entry);
        ReplyPtr reply =
            Command(c.get(), "SET %b %b EX %lld", redis_key.data(), redis_key.size(), value.data(),
                    value.size(), static_cast<long long>(options_.ttl_s));
        if (reply == nullptr) {
          c.reset();
          MarkDown();
        } else if (reply->type == REDIS_REPLY_ERROR) {
          errors_.fetch_add(1);  // e.g. OOM with maxmemory and no eviction: simply not shared
        } else {
          stored = true;
        }
      }
    }
    (stored ? writes_ : dropped_).fetch_add(1);
    w.entry.reset();
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      queued_bytes_ -= bytes;
      writing_ = false;
    }
    idle_cv_.notify_all();
  }
}

bool RedisFeatureTier::Flush(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  return idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [this] { return queue_.empty() && !writing_; });
}

SharedTierStats RedisFeatureTier::Stats() const {
  SharedTierStats s;
  s.enabled = true;
  s.hits = hits_.load();
  s.misses = misses_.load();
  s.errors = errors_.load();
  s.corrupt = corrupt_.load();
  s.writes = writes_.load();
  s.dropped = dropped_.load();
  return s;
}

}  // namespace ocular::features
