// Several threads look up, insert and hold leases while the cache evicts under a small budget.
// Run under the tsan preset to check the locking; in every build it checks that payloads stay
// intact while leased and that the byte bound holds at every observation.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "cache/features/feature_cache.h"

namespace ocular::features {
namespace {

std::shared_ptr<const FeatureEntry> MakeMarkedEntry(uint8_t key, int64_t num_tokens) {
  auto e = std::make_shared<FeatureEntry>();
  e->embeddings = FeatureArray::Zeros(num_tokens, 8);  // [num_tokens, 8], f32
  for (int64_t i = 0; i < num_tokens * 8; ++i) e->embeddings.floats()[i] = key;
  e->deepstack.push_back(FeatureArray::Zeros(num_tokens, 8));
  e->grid = {1, 2, 2 * num_tokens};
  e->num_tokens = num_tokens;
  e->encode_ns = 10;
  return e;
}

TEST(FeatureCacheConcurrencyTest, ConcurrentLookupsInsertsAndEvictions) {
  const uint64_t entry_bytes = MakeMarkedEntry(0, 4)->ByteSize();
  const uint64_t budget = 6 * entry_bytes;  // far fewer slots than keys: constant eviction
  FeatureCache cache({.budget_bytes = budget, .similar_threshold = 3});
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 4000;
  std::atomic<uint64_t> lookups{0};
  std::atomic<bool> bound_violated{false};
  std::atomic<bool> payload_corrupt{false};

  auto worker = [&](int thread_index) {
    std::mt19937 rng(static_cast<uint32_t>(thread_index) * 7919u + 1u);
    std::vector<FeatureLease> held;  // leases kept across operations, like running requests
    for (int op = 0; op < kOpsPerThread; ++op) {
      const uint8_t k = static_cast<uint8_t>(rng() % 24);
      Sha256Digest media{};
      media.fill(k);
      const FeatureKey key = MakeFeatureKey(media, (k % 3 == 0) ? "tenant" : "");
      const int64_t tokens = 2 + k % 4;
      const uint64_t phash = 0x9E3779B97F4A7C15ull * (k + 1);
      const int what = static_cast<int>(rng() % 10);
      if (what < 6) {
        lookups.fetch_add(1, std::memory_order_relaxed);
        std::optional<FeatureHit> hit = cache.Lookup({key, {1, 2, 2 * tokens}, phash});
        if (hit.has_value()) {
          const FeatureEntry& e = hit->lease.entry();
          // An exact hit must carry this key's payload; a near hit one of the same grid.
          if (!hit->similar && e.embeddings.floats()[0] != k) payload_corrupt = true;
          if (!(e.grid == GridThw{1, 2, 2 * tokens})) payload_corrupt = true;
          if (rng() % 4 == 0) held.push_back(std::move(hit->lease));
        }
      } else if (what < 9) {
        FeatureLease lease = cache.Insert(key, MakeMarkedEntry(k, tokens), phash);
        if (lease.entry().embeddings.floats()[0] != k) payload_corrupt = true;
        if (rng() % 4 == 0) held.push_back(std::move(lease));
      } else {
        const FeatureCacheStats s = cache.Stats();
        if (s.bytes > std::max(budget, s.leased_bytes)) bound_violated = true;
      }
      if (held.size() > 3) {
        // Re-check the oldest held payload (it must not have been freed or changed), then drop it.
        const FeatureEntry& e = held.front().entry();
        for (int64_t i = 0; i < e.num_tokens * 8; ++i) {
          if (e.embeddings.floats()[i] != e.embeddings.floats()[0]) payload_corrupt = true;
        }
        held.erase(held.begin());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (std::thread& t : threads) t.join();

  EXPECT_FALSE(bound_violated.load());
  EXPECT_FALSE(payload_corrupt.load());
  const FeatureCacheStats s = cache.Stats();
  EXPECT_EQ(s.hits + s.near_hits + s.misses, lookups.load());
  EXPECT_EQ(s.leased_entries, 0u);
  EXPECT_EQ(s.leased_bytes, 0u);
  EXPECT_LE(s.bytes, budget);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.hits, 0u);
  EXPECT_EQ(s.insertions - s.evictions, s.entries);
}

}  // namespace
}  // namespace ocular::features
