// WordCache: a bounded, thread-safe LRU cache word bytes -> token ids, so repeated words skip
// the BPE merge loop. Sharded by hash with one mutex per shard, so threads encoding different
// words rarely contend. Owned by one Tokenizer (no global state).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ocular::tokenizer {

class WordCache {
 public:
  // `capacity` entries in total (0 disables the cache).
  explicit WordCache(size_t capacity);

  // Appends the cached ids of `word` to `out` and returns true on a hit.
  bool Lookup(std::string_view word, std::vector<int32_t>* out);
  void Insert(std::string_view word, const int32_t* ids, size_t num_ids);

  size_t capacity() const { return capacity_; }

 private:
  static constexpr size_t kNumShards = 16;

  struct Entry {
    std::string word;
    std::vector<int32_t> ids;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<Entry>::iterator, Hash, std::equal_to<>> index;
  };

  Shard& ShardFor(size_t hash) { return shards_[(hash >> 7) % kNumShards]; }

  size_t capacity_;
  size_t shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace ocular::tokenizer
