#include "model/tokenizer/word_cache.h"

namespace ocular::tokenizer {

WordCache::WordCache(size_t capacity)
    : capacity_(capacity),
      shard_capacity_((capacity + kNumShards - 1) / kNumShards),
      shards_(std::make_unique<Shard[]>(kNumShards)) {}

bool WordCache::Lookup(std::string_view word, std::vector<int32_t>* out) {
  if (capacity_ == 0) return false;
  Shard& shard = ShardFor(Hash{}(word));
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.index.find(word);
  if (it == shard.index.end()) return false;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  const std::vector<int32_t>& ids = it->second->ids;
  out->insert(out->end(), ids.begin(), ids.end());
  return true;
}

void WordCache::Insert(std::string_view word, const int32_t* ids, size_t num_ids) {
  if (capacity_ == 0) return;
  Shard& shard = ShardFor(Hash{}(word));
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.index.find(word) != shard.index.end()) return;  // another thread raced us
  if (shard.lru.size() >= shard_capacity_) {
    shard.index.erase(shard.lru.back().word);
    shard.lru.pop_back();
  }
  shard.lru.push_front(Entry{std::string(word), std::vector<int32_t>(ids, ids + num_ids)});
  // The key views the entry's own string, which list nodes never move.
  shard.index.emplace(shard.lru.front().word, shard.lru.begin());
}

}  // namespace ocular::tokenizer
