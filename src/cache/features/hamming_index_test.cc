#include "cache/features/hamming_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace ocular::features {
namespace {

std::vector<HammingIndex::Match> BruteForce(const std::map<uint64_t, uint64_t>& items,
                                            uint64_t query, int radius) {
  std::vector<HammingIndex::Match> out;
  for (const auto& [id, hash] : items) {
    const int d = __builtin_popcountll(hash ^ query);
    if (d <= radius) out.push_back({id, d});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  });
  return out;
}

// Flips `bits` distinct random bits of `hash`.
uint64_t Perturb(uint64_t hash, int bits, std::mt19937_64& rng) {
  std::vector<int> positions(64);
  for (int i = 0; i < 64; ++i) positions[i] = i;
  std::shuffle(positions.begin(), positions.end(), rng);
  for (int i = 0; i < bits; ++i) hash ^= uint64_t{1} << positions[i];
  return hash;
}

TEST(HammingIndexTest, DistanceIsPopcountOfXor) {
  EXPECT_EQ(HammingDistance(0, 0), 0);
  EXPECT_EQ(HammingDistance(0, ~uint64_t{0}), 64);
  EXPECT_EQ(HammingDistance(0b1011, 0b0110), 3);
}

// Property: on random clustered hashes with interleaved inserts and erases, every query
// returns exactly what a brute-force scan returns, for every radius.
TEST(HammingIndexTest, MatchesBruteForceOnRandomHashes) {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 20; ++trial) {
    HammingIndex index;
    std::map<uint64_t, uint64_t> items;  // id -> hash
    std::vector<uint64_t> centers(8);
    for (auto& c : centers) c = rng();
    uint64_t next_id = 0;
    for (int step = 0; step < 400; ++step) {
      const uint64_t op = rng() % 10;
      if (op < 7 || items.empty()) {
        // Near a center (so neighbours exist at small distances) or uniformly random.
        const uint64_t hash = (rng() % 4 == 0) ? rng()
                                               : Perturb(centers[rng() % centers.size()],
                                                         static_cast<int>(rng() % 12), rng);
        index.Insert(next_id, hash);
        items[next_id++] = hash;
      } else {
        auto it = items.begin();
        std::advance(it, static_cast<long>(rng() % items.size()));
        ASSERT_TRUE(index.Erase(it->first, it->second));
        ASSERT_FALSE(index.Erase(it->first, it->second));
        items.erase(it);
      }
      ASSERT_EQ(index.size(), items.size());
      if (step % 20 == 0) {
        for (int radius : {0, 1, 3, 4, 6, 7, 8, 11, 16, 24, 64}) {
          const uint64_t query = (rng() % 2 == 0) ? Perturb(centers[rng() % centers.size()],
                                                            static_cast<int>(rng() % 10), rng)
                                                  : rng();
          ASSERT_EQ(index.Query(query, radius), BruteForce(items, query, radius))
              << "trial " << trial << " step " << step << " radius " << radius;
        }
      }
    }
  }
}

TEST(HammingIndexTest, DuplicateHashesAreAllReturned) {
  HammingIndex index;
  index.Insert(1, 0xABCD);
  index.Insert(2, 0xABCD);
  index.Insert(3, 0xABCC);
  const std::vector<HammingIndex::Match> want = {{1, 0}, {2, 0}, {3, 1}};
  EXPECT_EQ(index.Query(0xABCD, 1), want);
  EXPECT_TRUE(index.Erase(2, 0xABCD));
  EXPECT_EQ(index.Query(0xABCD, 0), (std::vector<HammingIndex::Match>{{1, 0}}));
}

}  // namespace
}  // namespace ocular::features
