// Finds every stored 64-bit hash within a Hamming radius of a query without scanning them all:
// multi-index hashing (Norouzi, Punjani, Fleet, CVPR 2012). The hash is split into 4 16-bit
// substrings, each with its own table. If two hashes differ in at most r bits, by pigeonhole
// some substring differs in at most floor(r / 4) bits, so probing each table with every
// substring value within floor(r / 4) of the query's finds every match (then the full distance
// is checked). For r <= 7 that is 4 x 17 probes. Thread-compatible (the cache locks around it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ocular::features {

inline int HammingDistance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

class HammingIndex {
 public:
  struct Match {
    uint64_t id;
    int distance;
    friend bool operator==(const Match&, const Match&) = default;
  };

  // Adds (id, hash); ids are the caller's and must be unique among stored items.
  void Insert(uint64_t id, uint64_t hash);
  // Removes (id, hash); returns false when it was not stored.
  bool Erase(uint64_t id, uint64_t hash);
  // Every stored item with HammingDistance(hash, query) <= radius (radius in [0, 64]), sorted by
  // (distance, id).
  std::vector<Match> Query(uint64_t query, int radius) const;
  size_t size() const { return size_; }

 private:
  static constexpr int kChunks = 4;
  static constexpr int kChunkBits = 16;
  static uint16_t Chunk(uint64_t hash, int c) {
    return static_cast<uint16_t>(hash >> (c * kChunkBits));
  }
  struct Item {
    uint64_t id;
    uint64_t hash;
  };
  // tables_[c]: substring value -> items whose substring c has that value.
  std::array<std::unordered_map<uint16_t, std::vector<Item>>, kChunks> tables_;
  size_t size_ = 0;
};

}  // namespace ocular::features
