// A second cache tier shared by several Ocular processes (e.g. Redis). Best effort by contract:
// Get returns null on a miss *or* when the tier is unavailable, and Put may silently drop, so a
// slow or dead tier degrades to local-only caching and never fails a request.
// Implementations are thread-safe.
#pragma once

#include <memory>

#include "cache/features/feature_entry.h"
#include "cache/features/feature_key.h"

namespace ocular::features {

class SharedFeatureTier {
 public:
  virtual ~SharedFeatureTier() = default;
  virtual std::shared_ptr<const FeatureEntry> Get(const FeatureKey& key) = 0;
  virtual void Put(const FeatureKey& key, const FeatureEntry& entry) = 0;
};

}  // namespace ocular::features
