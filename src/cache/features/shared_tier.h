// A second cache tier shared by several Ocular processes (e.g. Redis). Best effort by contract:
// Get returns null on a miss *or* when the tier is unavailable, and Put may silently drop, so a
// slow or dead tier degrades to local-only caching and never fails a request.
//
// Threads: the engine thread calls Get (on a local miss) and Put (after an encode), so neither
// may wait on a network: a networked tier does its reads in Prefetch, which runs on the
// request's own thread before the request reaches the engine, and keeps what it read for the
// following Get; its writes go through a queue. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "cache/features/feature_entry.h"
#include "cache/features/feature_key.h"

namespace ocular::features {

struct SharedTierStats {
  bool enabled = false;
  uint64_t hits = 0;     // reads that returned a valid entry
  uint64_t misses = 0;   // reads that found nothing usable (absent, corrupt, or tier down)
  uint64_t errors = 0;   // connection or command failures and timeouts (each starts a back-off)
  uint64_t corrupt = 0;  // values that failed to decode (counted as misses too)
  uint64_t writes = 0;   // values stored
  uint64_t dropped = 0;  // values not stored: queue full, too large, or tier down
};

class SharedFeatureTier {
 public:
  virtual ~SharedFeatureTier() = default;
  // May block (network); called on a request's thread for a key missing in local memory.
  virtual void Prefetch(const FeatureKey& /*key*/) {}
  // Must not block on a network.
  virtual std::shared_ptr<const FeatureEntry> Get(const FeatureKey& key) = 0;
  // Must not block on a network; `entry` is kept alive by the tier as long as it needs it.
  virtual void Put(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry) = 0;
  virtual SharedTierStats Stats() const { return {}; }
};

}  // namespace ocular::features
