#include "cache/features/hamming_index.h"

#include <algorithm>

#include "base/check.h"

namespace ocular::features {
namespace {

// Calls fn(v) for every 16-bit v within Hamming distance `flips` of `value` (each once).
template <typename Fn>
void ForEachWithin(uint16_t value, int flips, int first_bit, Fn&& fn) {
  fn(value);
  if (flips == 0) return;
  for (int bit = first_bit; bit < 16; ++bit) {
    ForEachWithin(static_cast<uint16_t>(value ^ (1u << bit)), flips - 1, bit + 1, fn);
  }
}

}  // namespace

void HammingIndex::Insert(uint64_t id, uint64_t hash) {
  for (int c = 0; c < kChunks; ++c) tables_[c][Chunk(hash, c)].push_back({id, hash});
  ++size_;
}

bool HammingIndex::Erase(uint64_t id, uint64_t hash) {
  bool found = false;
  for (int c = 0; c < kChunks; ++c) {
    auto it = tables_[c].find(Chunk(hash, c));
    if (it == tables_[c].end()) continue;
    std::vector<Item>& bucket = it->second;
    for (size_t i = 0; i < bucket.size(); ++i) {
      if (bucket[i].id == id && bucket[i].hash == hash) {
        bucket[i] = bucket.back();
        bucket.pop_back();
        found = true;
        break;
      }
    }
    if (bucket.empty()) tables_[c].erase(it);
  }
  if (found) --size_;
  return found;
}

std::vector<HammingIndex::Match> HammingIndex::Query(uint64_t query, int radius) const {
  CHECK(radius >= 0 && radius <= 64) << "radius " << radius;
  std::vector<Match> matches;
  const int sub_radius = radius / kChunks;
  for (int c = 0; c < kChunks; ++c) {
    ForEachWithin(Chunk(query, c), sub_radius, 0, [&](uint16_t probe) {
      auto it = tables_[c].find(probe);
      if (it == tables_[c].end()) return;
      for (const Item& item : it->second) {
        const int distance = HammingDistance(item.hash, query);
        if (distance > radius) continue;
        // Report each item from the first table whose probe set reaches it, so no duplicates.
        bool seen_earlier = false;
        for (int e = 0; e < c && !seen_earlier; ++e) {
          seen_earlier = HammingDistance(Chunk(item.hash, e), Chunk(query, e)) <= sub_radius;
        }
        if (!seen_earlier) matches.push_back({item.id, distance});
      }
    });
  }
  std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  });
  return matches;
}

}  // namespace ocular::features
