// The image feature cache: media id (+ tenant salt) -> the vision encoder's outputs, so the same
// image is never encoded twice; optionally a perceptually near-identical image with the same
// grid is served too (off by default; it trades exactness for latency).
//
// Memory: LRU bounded by a byte budget. An entry in use by a request is held through a
// FeatureLease; leased entries are never evicted (they sit outside the LRU list until their
// last lease ends). So the budget can be exceeded only by leased entries, temporarily:
// at every point outside a call, bytes <= max(budget, leased bytes), and the excess is evicted
// as soon as leases end. An entry larger than the whole budget is not kept (the inserter still
// gets a lease on it for its own use).
//
// Thread-safe: one mutex around all bookkeeping; payloads are immutable and shared without it.
// Leases may outlive the cache object (they keep its shared state alive).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "base/status.h"
#include "cache/features/feature_entry.h"
#include "cache/features/feature_key.h"
#include "cache/features/shared_tier.h"

namespace ocular::features {

// Largest accepted near-duplicate threshold (bits of 64).
constexpr int kMaxSimilarThreshold = 16;
// Suggested threshold when near matching is switched on (calibrated in perceptual_hash_test.cc).
constexpr int kDefaultSimilarThreshold = 6;

struct FeatureCacheOptions {
  uint64_t budget_bytes = 0;   // --feature-cache-bytes; 0 disables caching
  int similar_threshold = -1;  // --feature-cache-similar; -1 = exact matches only
};

// InvalidArgument when similar_threshold is outside [-1, kMaxSimilarThreshold].
Status ValidateFeatureCacheOptions(const FeatureCacheOptions& options);

struct FeatureCacheStats {
  uint64_t hits = 0;
  uint64_t near_hits = 0;
  uint64_t shared_hits = 0;  // local misses served by the shared tier (then kept locally)
  uint64_t misses = 0;
  uint64_t insertions = 0;
  uint64_t evictions = 0;
  uint64_t rejected = 0;  // entries larger than the budget (not kept)
  uint64_t bytes = 0;     // all kept entries
  uint64_t entries = 0;
  uint64_t leased_bytes = 0;  // kept entries with at least one lease
  uint64_t leased_entries = 0;
  int64_t encode_ns_saved = 0;  // sum of the stored encode time over hits and near hits
};

namespace internal {
struct CacheState;
struct CacheNode;
}  // namespace internal

// Shared, read-only access to one entry; while it lives the entry is not evicted. Move-only;
// releasing it (destruction or Release()) may evict entries that were over budget.
class FeatureLease {
 public:
  FeatureLease() = default;
  ~FeatureLease() { Release(); }
  FeatureLease(FeatureLease&& other) noexcept;
  FeatureLease& operator=(FeatureLease&& other) noexcept;
  FeatureLease(const FeatureLease&) = delete;
  FeatureLease& operator=(const FeatureLease&) = delete;

  explicit operator bool() const { return entry_ != nullptr; }
  const FeatureEntry& entry() const { return *entry_; }
  const std::shared_ptr<const FeatureEntry>& shared_entry() const { return entry_; }
  void Release();

 private:
  friend class FeatureCache;
  std::shared_ptr<const FeatureEntry> entry_;
  std::shared_ptr<internal::CacheState> state_;  // null when the entry is not kept
  internal::CacheNode* node_ = nullptr;
};

struct FeatureQuery {
  FeatureKey key;
  GridThw grid;                   // near hits need an identical grid
  std::optional<uint64_t> phash;  // PerceptualHash of the image; near matching needs it
};

struct FeatureHit {
  FeatureLease lease;
  bool similar = false;  // a near-duplicate, not this exact image
  int distance = 0;      // Hamming distance of the perceptual hashes (0 for exact hits)
};

class FeatureCache {
 public:
  // Requires ValidateFeatureCacheOptions(options).ok(). `shared_tier` (optional) is asked on a
  // local exact miss and given every newly inserted entry; calls to it never hold the lock.
  explicit FeatureCache(const FeatureCacheOptions& options,
                        std::shared_ptr<SharedFeatureTier> shared_tier = nullptr);
  ~FeatureCache();
  FeatureCache(const FeatureCache&) = delete;
  FeatureCache& operator=(const FeatureCache&) = delete;

  // Exact hit on query.key in memory; else an exact hit in the shared tier (stored locally too);
  // else, with near matching on and a phash given, the closest local entry of the same salt and
  // grid within the threshold (ties -> most recently inserted). Counts one hit, shared hit,
  // near hit or miss.
  std::optional<FeatureHit> Lookup(const FeatureQuery& query);

  // Stores `entry` under `key` (with its perceptual hash for near matching) and returns a lease
  // on what is cached under `key`: when another thread stored the same key first, that entry
  // (identical by construction) wins and `entry` is dropped.
  FeatureLease Insert(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry,
                      std::optional<uint64_t> phash = std::nullopt);

  // For a key not in local memory, lets the shared tier read it (over the network) on the
  // caller's thread, so that the following Lookup on the engine thread finds it without
  // waiting. Counts nothing; a no-op without a shared tier.
  void PrefetchShared(const FeatureKey& key);

  FeatureCacheStats Stats() const;
  const FeatureCacheOptions& options() const { return options_; }

 private:
  // Takes a lease on a kept node. Requires s.mu held.
  static FeatureLease MakeLease(internal::CacheState& s,
                                const std::shared_ptr<internal::CacheState>& state,
                                internal::CacheNode* node);
  // Local insertion; *inserted tells whether `entry` became a new cache entry.
  FeatureLease InsertLocal(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry,
                           std::optional<uint64_t> phash, bool* inserted);

  FeatureCacheOptions options_;
  std::shared_ptr<internal::CacheState> state_;
  std::shared_ptr<SharedFeatureTier> shared_tier_;
};

}  // namespace ocular::features
