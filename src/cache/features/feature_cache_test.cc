#include "cache/features/feature_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <unordered_map>

namespace ocular::features {
namespace {

constexpr int64_t kHidden = 16;

// An entry whose first embedding value is `marker`, with 3 DeepStack levels.
std::shared_ptr<const FeatureEntry> MakeEntry(float marker, int64_t num_tokens = 4,
                                              GridThw grid = {1, 4, 4}, int64_t encode_ns = 1000) {
  auto e = std::make_shared<FeatureEntry>();
  e->embeddings = FeatureArray::Zeros(num_tokens, kHidden);
  e->embeddings.floats()[0] = marker;
  for (int level = 0; level < 3; ++level)
    e->deepstack.push_back(FeatureArray::Zeros(num_tokens, kHidden));
  e->grid = grid;
  e->num_tokens = num_tokens;
  e->encode_ns = encode_ns;
  return e;
}

FeatureKey Key(uint8_t n, std::string_view salt = "") {
  Sha256Digest media{};
  media.fill(n);
  return MakeFeatureKey(media, salt);
}

uint64_t EntryBytes() { return MakeEntry(0)->ByteSize(); }

TEST(FeatureEntryTest, ByteSizeCountsEveryArray) {
  // 4 arrays (main + 3 DeepStack) of 4 x 16 floats, plus the bookkeeping structs.
  EXPECT_EQ(EntryBytes(),
            4 * 4 * kHidden * sizeof(float) + sizeof(FeatureEntry) + 3 * sizeof(FeatureArray));
}

TEST(FeatureCacheTest, ExactHitAndMiss) {
  FeatureCache cache({.budget_bytes = 10 * EntryBytes()});
  EXPECT_FALSE(cache.Lookup({Key(1), {1, 4, 4}, std::nullopt}).has_value());
  auto stored = MakeEntry(1.5f, 4, {1, 4, 4}, 2500);
  cache.Insert(Key(1), stored);
  std::optional<FeatureHit> hit = cache.Lookup({Key(1), {1, 4, 4}, std::nullopt});
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->similar);
  EXPECT_EQ(hit->distance, 0);
  EXPECT_EQ(hit->lease.shared_entry(), stored);  // the same immutable buffer, not a copy
  EXPECT_EQ(hit->lease.entry().embeddings.floats()[0], 1.5f);
  EXPECT_FALSE(cache.Lookup({Key(2), {1, 4, 4}, std::nullopt}).has_value());
  const FeatureCacheStats s = cache.Stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.near_hits, 0u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, EntryBytes());
  EXPECT_EQ(s.encode_ns_saved, 2500);
  EXPECT_EQ(s.leased_entries, 1u);  // `hit` still holds it
}

TEST(FeatureCacheTest, SaltsIsolateTenants) {
  FeatureCache cache({.budget_bytes = 10 * EntryBytes(), .similar_threshold = 8});
  cache.Insert(Key(1, "tenant-a"), MakeEntry(1), uint64_t{0xF0F0});
  EXPECT_FALSE(cache.Lookup({Key(1, "tenant-b"), {1, 4, 4}, std::nullopt}).has_value());
  EXPECT_FALSE(cache.Lookup({Key(1), {1, 4, 4}, std::nullopt}).has_value());
  // Not even as a near duplicate with an identical perceptual hash.
  EXPECT_FALSE(cache.Lookup({Key(2, "tenant-b"), {1, 4, 4}, uint64_t{0xF0F0}}).has_value());
  EXPECT_TRUE(cache.Lookup({Key(1, "tenant-a"), {1, 4, 4}, std::nullopt}).has_value());
  EXPECT_TRUE(cache.Lookup({Key(2, "tenant-a"), {1, 4, 4}, uint64_t{0xF0F0}}).has_value());
  EXPECT_NE(SaltId("a"), SaltId("b"));
  EXPECT_EQ(SaltId(""), Sha256Digest{});
}

TEST(FeatureCacheTest, EvictsLeastRecentlyUsedFirst) {
  FeatureCache cache({.budget_bytes = 3 * EntryBytes()});
  cache.Insert(Key(1), MakeEntry(1));  // leases end at once (temporaries)
  cache.Insert(Key(2), MakeEntry(2));
  cache.Insert(Key(3), MakeEntry(3));
  ASSERT_TRUE(cache.Lookup({Key(1), {}, std::nullopt}).has_value());  // 1 is now most recent
  cache.Insert(Key(4), MakeEntry(4));                                 // evicts 2
  EXPECT_EQ(cache.Stats().evictions, 1u);
  EXPECT_FALSE(cache.Lookup({Key(2), {}, std::nullopt}).has_value());
  cache.Insert(Key(5), MakeEntry(5));  // order now (old -> new): 3, 1, 4 -> evicts 3
  EXPECT_FALSE(cache.Lookup({Key(3), {}, std::nullopt}).has_value());
  for (uint8_t k : {1, 4, 5}) EXPECT_TRUE(cache.Lookup({Key(k), {}, std::nullopt}).has_value());
  EXPECT_EQ(cache.Stats().entries, 3u);
}

TEST(FeatureCacheTest, ByteBudgetHoldsWithMixedSizes) {
  const uint64_t budget = 20 * EntryBytes();
  FeatureCache cache({.budget_bytes = budget});
  for (int i = 0; i < 200; ++i) {
    cache.Insert(Key(static_cast<uint8_t>(i)), MakeEntry(static_cast<float>(i), 1 + i % 13));
    const FeatureCacheStats s = cache.Stats();
    ASSERT_LE(s.bytes, budget);
    ASSERT_EQ(s.leased_bytes, 0u);
  }
  EXPECT_GT(cache.Stats().evictions, 0u);
}

TEST(FeatureCacheTest, LeasedEntriesAreNeverEvicted) {
  FeatureCache cache({.budget_bytes = EntryBytes()});
  FeatureLease a = cache.Insert(Key(1), MakeEntry(1));
  {
    // A second entry while the first is leased: both stay, the budget is exceeded by leased
    // entries only.
    FeatureLease b = cache.Insert(Key(2), MakeEntry(2));
    const FeatureCacheStats s = cache.Stats();
    EXPECT_EQ(s.entries, 2u);
    EXPECT_EQ(s.bytes, 2 * EntryBytes());
    EXPECT_EQ(s.leased_bytes, s.bytes);
  }
  // b's lease ended: it is the only evictable entry, and it goes.
  EXPECT_EQ(cache.Stats().entries, 1u);
  EXPECT_FALSE(cache.Lookup({Key(2), {}, std::nullopt}).has_value());
  // Inserting more never touches the leased entry.
  for (uint8_t k = 3; k < 10; ++k) cache.Insert(Key(k), MakeEntry(k));
  std::optional<FeatureHit> hit = cache.Lookup({Key(1), {}, std::nullopt});
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->lease.entry().embeddings.floats()[0], 1.0f);
  a.Release();
  hit.reset();
  const FeatureCacheStats s = cache.Stats();
  EXPECT_LE(s.bytes, EntryBytes());
  EXPECT_EQ(s.leased_entries, 0u);
}

TEST(FeatureCacheTest, OversizedEntriesAreUsableButNotKept) {
  FeatureCache cache({.budget_bytes = EntryBytes() - 1});
  FeatureLease lease = cache.Insert(Key(1), MakeEntry(7));
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease.entry().embeddings.floats()[0], 7.0f);
  EXPECT_FALSE(cache.Lookup({Key(1), {}, std::nullopt}).has_value());
  EXPECT_EQ(cache.Stats().rejected, 1u);
  EXPECT_EQ(cache.Stats().bytes, 0u);
  FeatureCache disabled({.budget_bytes = 0});
  EXPECT_TRUE(disabled.Insert(Key(1), MakeEntry(1)));
  EXPECT_FALSE(disabled.Lookup({Key(1), {}, std::nullopt}).has_value());
}

TEST(FeatureCacheTest, SecondInsertOfTheSameKeyReturnsTheFirst) {
  FeatureCache cache({.budget_bytes = 10 * EntryBytes()});
  auto first = MakeEntry(1);
  cache.Insert(Key(1), first);
  FeatureLease lease = cache.Insert(Key(1), MakeEntry(2));
  EXPECT_EQ(lease.shared_entry(), first);
  EXPECT_EQ(cache.Stats().entries, 1u);
  EXPECT_EQ(cache.Stats().insertions, 1u);
}

TEST(FeatureCacheTest, NearDuplicatesNeedThresholdGridAndReportDistance) {
  const uint64_t h = 0x0123456789ABCDEFull;
  FeatureCache cache({.budget_bytes = 10 * EntryBytes(), .similar_threshold = 4});
  cache.Insert(Key(1), MakeEntry(1, 4, {1, 4, 4}, 900), h);
  cache.Insert(Key(2), MakeEntry(2, 4, {1, 4, 4}), h ^ 0xFF);  // 8 bits away from h
  // 3 bits from entry 1, 5 bits from entry 2.
  std::optional<FeatureHit> hit = cache.Lookup({Key(9), {1, 4, 4}, h ^ 0b111});
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->similar);
  EXPECT_EQ(hit->distance, 3);
  EXPECT_EQ(hit->lease.entry().embeddings.floats()[0], 1.0f);
  // A different grid never matches, however close the hash.
  EXPECT_FALSE(cache.Lookup({Key(9), {1, 4, 6}, h}).has_value());
  // Beyond the threshold: miss (5 bits from entry 1, 13 from entry 2).
  EXPECT_FALSE(cache.Lookup({Key(9), {1, 4, 4}, h ^ (uint64_t{0b11111} << 20)}).has_value());
  // No hash: exact only.
  EXPECT_FALSE(cache.Lookup({Key(9), {1, 4, 4}, std::nullopt}).has_value());
  const FeatureCacheStats s = cache.Stats();
  EXPECT_EQ(s.near_hits, 1u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.encode_ns_saved, 900);

  FeatureCache exact_only({.budget_bytes = 10 * EntryBytes()});
  exact_only.Insert(Key(1), MakeEntry(1), h);
  EXPECT_FALSE(exact_only.Lookup({Key(9), {1, 4, 4}, h}).has_value());
}

TEST(FeatureCacheTest, EvictedEntriesLeaveTheSimilarityIndex) {
  const uint64_t h = 0xDEADBEEFull;
  FeatureCache cache({.budget_bytes = EntryBytes(), .similar_threshold = 2});
  cache.Insert(Key(1), MakeEntry(1), h);
  cache.Insert(Key(2), MakeEntry(2), ~h);  // evicts 1
  EXPECT_FALSE(cache.Lookup({Key(9), {1, 4, 4}, h}).has_value());
  EXPECT_TRUE(cache.Lookup({Key(9), {1, 4, 4}, ~h ^ 1}).has_value());
}

TEST(FeatureCacheTest, LeasesOutliveTheCache) {
  FeatureLease lease;
  {
    FeatureCache cache({.budget_bytes = 10 * EntryBytes()});
    lease = cache.Insert(Key(1), MakeEntry(3));
  }
  EXPECT_EQ(lease.entry().embeddings.floats()[0], 3.0f);
  lease.Release();
  EXPECT_FALSE(lease);
}

// An in-memory stand-in for a shared tier (Redis is exercised in redis_tier_test.cc).
class FakeTier : public SharedFeatureTier {
 public:
  std::shared_ptr<const FeatureEntry> Get(const FeatureKey& key) override {
    ++gets;
    auto it = values.find(key);
    return it == values.end() ? nullptr : it->second;
  }
  void Put(const FeatureKey& key, std::shared_ptr<const FeatureEntry> entry) override {
    ++puts;
    values[key] = MakeEntry(entry->embeddings.floats()[0]);
  }
  std::unordered_map<FeatureKey, std::shared_ptr<const FeatureEntry>, FeatureKeyHash> values;
  int gets = 0;
  int puts = 0;
};

TEST(FeatureCacheTest, SharedTierIsAskedOnLocalMissAndGivenNewEntries) {
  auto tier = std::make_shared<FakeTier>();
  FeatureCache cache({.budget_bytes = 10 * EntryBytes()}, tier);
  cache.Insert(Key(1), MakeEntry(1));
  cache.Insert(Key(1), MakeEntry(1));  // already cached: not published again
  EXPECT_EQ(tier->puts, 1);
  tier->values[Key(2)] = MakeEntry(2);  // encoded by another replica
  std::optional<FeatureHit> hit = cache.Lookup({Key(2), {1, 4, 4}, std::nullopt});
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->similar);
  EXPECT_EQ(hit->lease.entry().embeddings.floats()[0], 2.0f);
  EXPECT_TRUE(cache.Lookup({Key(2), {1, 4, 4}, std::nullopt}).has_value());  // now local
  EXPECT_EQ(tier->gets, 1);
  // A shared entry with another grid is not used; an absent one is a miss.
  EXPECT_FALSE(cache.Lookup({Key(2, "x"), {1, 4, 4}, std::nullopt}).has_value());
  tier->values[Key(3)] = MakeEntry(3, 4, {1, 8, 8});
  EXPECT_FALSE(cache.Lookup({Key(3), {1, 4, 4}, std::nullopt}).has_value());
  const FeatureCacheStats s = cache.Stats();
  EXPECT_EQ(s.shared_hits, 1u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.entries, 2u);
}

TEST(FeatureCacheTest, ValidatesOptions) {
  EXPECT_TRUE(ValidateFeatureCacheOptions({.budget_bytes = 1, .similar_threshold = -1}).ok());
  EXPECT_TRUE(ValidateFeatureCacheOptions({.budget_bytes = 1, .similar_threshold = 0}).ok());
  EXPECT_FALSE(ValidateFeatureCacheOptions({.budget_bytes = 1, .similar_threshold = 17}).ok());
  EXPECT_FALSE(ValidateFeatureCacheOptions({.budget_bytes = 1, .similar_threshold = -2}).ok());
}

}  // namespace
}  // namespace ocular::features
