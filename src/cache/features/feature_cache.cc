#include "cache/features/feature_cache.h"

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/check.h"
#include "cache/features/hamming_index.h"

namespace ocular::features {
namespace internal {

struct CacheNode {
  FeatureKey key;
  std::shared_ptr<const FeatureEntry> entry;
  uint64_t bytes = 0;
  uint64_t id = 0;  // insertion order; the Hamming index's item id
  std::optional<uint64_t> phash;
  int leases = 0;
  std::list<CacheNode>::iterator self;  // position in lru or leased (splice keeps it valid)
};

using Graveyard = std::vector<std::shared_ptr<const FeatureEntry>>;

struct CacheState {
  std::mutex mu;
  uint64_t budget_bytes = 0;
  int similar_threshold = -1;
  std::list<CacheNode> lru;     // unleased entries, front = most recently used; evicted from back
  std::list<CacheNode> leased;  // entries with leases > 0: never evicted
  std::unordered_map<FeatureKey, CacheNode*, FeatureKeyHash> by_key;
  std::unordered_map<uint64_t, CacheNode*> by_id;
  HammingIndex index;  // (id, phash) of entries stored with a perceptual hash
  uint64_t next_id = 1;
  FeatureCacheStats stats;

  void AcquireLocked(CacheNode* node) {
    if (node->leases++ == 0) {
      leased.splice(leased.begin(), lru, node->self);
      stats.leased_bytes += node->bytes;
      ++stats.leased_entries;
    }
  }

  void ReleaseLocked(CacheNode* node, Graveyard* graveyard) {
    CHECK_GT(node->leases, 0);
    if (--node->leases == 0) {
      lru.splice(lru.begin(), leased, node->self);
      stats.leased_bytes -= node->bytes;
      --stats.leased_entries;
      EvictLocked(graveyard);
    }
  }

  // Evicts least recently used unleased entries until within budget or none is left.
  void EvictLocked(Graveyard* graveyard) {
    while (stats.bytes > budget_bytes && !lru.empty()) {
      CacheNode& victim = lru.back();
      if (victim.phash) CHECK(index.Erase(victim.id, *victim.phash));
      by_key.erase(victim.key);
      by_id.erase(victim.id);
      stats.bytes -= victim.bytes;
      --stats.entries;
      ++stats.evictions;
      graveyard->push_back(std::move(victim.entry));  // freed after the lock is dropped
      lru.pop_back();
    }
    CHECK(stats.bytes <= budget_bytes || stats.bytes == stats.leased_bytes);
  }
};

}  // namespace internal

Status ValidateFeatureCacheOptions(const FeatureCacheOptions& options) {
  if (options.similar_threshold < -1 || options.similar_threshold > kMaxSimilarThreshold) {
    return InvalidArgument("feature cache similar threshold must be in [0, " +
                           std::to_string(kMaxSimilarThreshold) + "] bits (or off)");
  }
  return OkStatus();
}

FeatureLease::FeatureLease(FeatureLease&& other) noexcept
    : entry_(std::move(other.entry_)),
      state_(std::move(other.state_)),
      node_(std::exchange(other.node_, nullptr)) {}

FeatureLease& FeatureLease::operator=(FeatureLease&& other) noexcept {
  if (this != &other) {
    Release();
    entry_ = std::move(other.entry_);
    state_ = std::move(other.state_);
    node_ = std::exchange(other.node_, nullptr);
  }
  return *this;
}

void FeatureLease::Release() {
  if (state_ != nullptr) {
    internal::Graveyard graveyard;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->ReleaseLocked(node_, &graveyard);
    }
    state_.reset();
    node_ = nullptr;
  }
  entry_.reset();
}

FeatureCache::FeatureCache(const FeatureCacheOptions& options,
                           std::shared_ptr<SharedFeatureTier> shared_tier)
    : options_(options),
      state_(std::make_shared<internal::CacheState>()),
      shared_tier_(std::move(shared_tier)) {
  CHECK(ValidateFeatureCacheOptions(options).ok());
  state_->budget_bytes = options.budget_bytes;
  state_->similar_threshold = options.similar_threshold;
}

FeatureCache::~FeatureCache() = default;

FeatureLease FeatureCache::MakeLease(internal::CacheState& s,
                                     const std::shared_ptr<internal::CacheState>& state,
                                     internal::CacheNode* node) {
  s.AcquireLocked(node);
  FeatureLease lease;
  lease.entry_ = node->entry;
  lease.state_ = state;
  lease.node_ = node;
  return lease;
}

std::optional<FeatureHit> FeatureCache::Lookup(const FeatureQuery& query) {
  internal::CacheState& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (auto it = s.by_key.find(query.key); it != s.by_key.end()) {
      ++s.stats.hits;
      s.stats.encode_ns_saved += it->second->entry->encode_ns;
      return FeatureHit{MakeLease(s, state_, it->second), false, 0};
    }
  }
  if (shared_tier_ != nullptr) {
    std::shared_ptr<const FeatureEntry> shared = shared_tier_->Get(query.key);
    // An unknown grid (a media-id reference) accepts the entry's own, as a local exact hit does.
    if (shared != nullptr && (query.grid == GridThw{} || shared->grid == query.grid)) {
      bool inserted = false;
      FeatureLease lease = InsertLocal(query.key, shared, query.phash, &inserted);
      std::lock_guard<std::mutex> lock(s.mu);
      ++s.stats.shared_hits;
      s.stats.encode_ns_saved += lease.entry().encode_ns;
      return FeatureHit{std::move(lease), false, 0};
    }
  }
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.similar_threshold >= 0 && query.phash.has_value()) {
    // Closest first; among equally close, the most recently inserted (largest id).
    internal::CacheNode* node = nullptr;
    int best_distance = -1;
    for (const HammingIndex::Match& m : s.index.Query(*query.phash, s.similar_threshold)) {
      if (best_distance >= 0 && m.distance > best_distance) break;
      internal::CacheNode* candidate = s.by_id.at(m.id);
      if (candidate->key.salt_id != query.key.salt_id) continue;  // tenants never share
      if (!(candidate->entry->grid == query.grid)) continue;      // same token layout only
      node = candidate;
      best_distance = m.distance;
    }
    if (node != nullptr) {
      ++s.stats.near_hits;
      s.stats.encode_ns_saved += node->entry->encode_ns;
      return FeatureHit{MakeLease(s, state_, node), true, best_distance};
    }
  }
  ++s.stats.misses;
  return std::nullopt;
}

FeatureLease FeatureCache::Insert(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry,
                                  std::optional<uint64_t> phash) {
  bool inserted = false;
  FeatureLease lease = InsertLocal(key, std::move(entry), phash, &inserted);
  // Publish outside the lock; the lease keeps the payload alive meanwhile. Entries too large
  // for the local budget are still shared (another replica may have more memory).
  if (shared_tier_ != nullptr && (inserted || lease.state_ == nullptr)) {
    shared_tier_->Put(key, lease.shared_entry());
  }
  return lease;
}

void FeatureCache::PrefetchShared(const FeatureKey& key) {
  if (shared_tier_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->by_key.count(key) != 0) return;
  }
  shared_tier_->Prefetch(key);
}

FeatureLease FeatureCache::InsertLocal(const FeatureKey& key,
                                       std::shared_ptr<const FeatureEntry> entry,
                                       std::optional<uint64_t> phash, bool* inserted) {
  CHECK(entry != nullptr);
  *inserted = false;
  const uint64_t bytes = entry->ByteSize();
  internal::Graveyard graveyard;  // destroyed after the lock is released
  internal::CacheState& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  if (auto it = s.by_key.find(key); it != s.by_key.end()) return MakeLease(s, state_, it->second);
  if (bytes > s.budget_bytes) {
    ++s.stats.rejected;
    FeatureLease lease;
    lease.entry_ = std::move(entry);  // usable by the inserter, not kept
    return lease;
  }
  s.lru.emplace_front();
  internal::CacheNode* node = &s.lru.front();
  node->self = s.lru.begin();
  node->key = key;
  node->entry = std::move(entry);
  node->bytes = bytes;
  node->id = s.next_id++;
  if (s.similar_threshold >= 0 && phash.has_value()) {
    node->phash = phash;
    s.index.Insert(node->id, *phash);
  }
  s.by_key.emplace(key, node);
  s.by_id.emplace(node->id, node);
  s.stats.bytes += bytes;
  ++s.stats.entries;
  ++s.stats.insertions;
  *inserted = true;
  FeatureLease lease = MakeLease(s, state_, node);  // leased first: cannot evict itself
  s.EvictLocked(&graveyard);
  return lease;
}

FeatureCacheStats FeatureCache::Stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stats;
}

}  // namespace ocular::features
