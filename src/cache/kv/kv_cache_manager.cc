#include "cache/kv/kv_cache_manager.h"

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace ocular::kv {

KvCacheManager::KvCacheManager(const KvCacheConfig& config)
    : pool_(config.num_blocks, config.block_size, config.hash_seed),
      enable_prefix_caching_(config.enable_prefix_caching) {}

int64_t KvCacheManager::NumBlocksFor(int64_t num_tokens) const {
  CHECK_GE(num_tokens, 0);
  const int64_t bs = block_size();
  return num_tokens / bs + (num_tokens % bs != 0 ? 1 : 0);
}

CachedPrefix KvCacheManager::FindCachedPrefix(const PrefixKeyInput& input) const {
  CachedPrefix prefix;
  if (!enable_prefix_caching_ || input.tokens.empty()) return prefix;
  CHECK(ValidatePrefixKeyInput(input).ok()) << "media spans must be validated at the boundary";
  // Keep the last token out of the prefix: the forward pass must produce its logits.
  const int64_t max_blocks = (static_cast<int64_t>(input.tokens.size()) - 1) / block_size();
  for (int64_t i = 0; i < max_blocks; ++i) {
    const BlockHash hash =
        HashBlock(i == 0 ? nullptr : &prefix.hashes.back(), input, i, block_size());
    const std::optional<BlockId> block = pool_.FindCachedBlock(hash);
    if (!block) break;  // keys chain: nothing after a miss can hit
    prefix.blocks.push_back(*block);
    prefix.hashes.push_back(hash);
  }
  prefix.num_tokens = static_cast<int64_t>(prefix.blocks.size()) * block_size();
  return prefix;
}

bool KvCacheManager::AllocateSlots(RequestId id, int64_t num_new_tokens,
                                   const CachedPrefix* prefix) {
  CHECK_GE(num_new_tokens, 0);
  const auto it = requests_.find(id);
  const bool is_new = it == requests_.end();
  CHECK(is_new || prefix == nullptr) << "a cached prefix is only taken at admission";
  const bool has_prefix = prefix != nullptr && !prefix->blocks.empty();

  int64_t num_computed = 0;
  int64_t num_held_blocks = 0;
  int64_t num_revived = 0;  // cached free blocks the prefix takes out of the free list
  if (!is_new) {
    num_computed = it->second.num_computed_tokens;
    num_held_blocks = static_cast<int64_t>(it->second.block_table.size());
  } else if (has_prefix) {
    CHECK(enable_prefix_caching_);
    CHECK_EQ(prefix->blocks.size(), prefix->hashes.size());
    CHECK_EQ(prefix->num_tokens, static_cast<int64_t>(prefix->blocks.size()) * block_size());
    for (size_t i = 0; i < prefix->blocks.size(); ++i) {
      // A stale prefix (a pool change between FindCachedPrefix and here) would hand the
      // request someone else's K/V: refuse loudly.
      const BlockHash* key = pool_.KeyOf(prefix->blocks[i]);
      CHECK(key != nullptr && *key == prefix->hashes[i]) << "stale cached prefix";
      if (pool_.RefCount(prefix->blocks[i]) == 0) ++num_revived;
    }
    num_computed = prefix->num_tokens;
    num_held_blocks = static_cast<int64_t>(prefix->blocks.size());
  }

  CHECK_LE(num_new_tokens, std::numeric_limits<int64_t>::max() - num_computed);
  const int64_t num_needed_blocks =
      std::max<int64_t>(0, NumBlocksFor(num_computed + num_new_tokens) - num_held_blocks);
  if (num_needed_blocks + num_revived > pool_.num_free_blocks()) return false;

  // Take the prefix first so allocating fresh blocks cannot evict it.
  if (has_prefix) pool_.Touch(prefix->blocks);
  std::optional<std::vector<BlockId>> fresh =
      pool_.Allocate(static_cast<int32_t>(num_needed_blocks));
  CHECK(fresh.has_value()) << "capacity was checked above";

  RequestState& state = is_new ? requests_[id] : it->second;
  if (is_new) {
    ++num_admissions_;
    if (has_prefix) {
      state.block_table = prefix->blocks;
      state.block_hashes = prefix->hashes;
      state.num_computed_tokens = prefix->num_tokens;
      prefix_hit_tokens_ += prefix->num_tokens;
    }
  }
  state.block_table.insert(state.block_table.end(), fresh->begin(), fresh->end());
  return true;
}

void KvCacheManager::CacheFullBlocks(RequestId id, const PrefixKeyInput& input,
                                     int64_t num_computed_tokens) {
  const auto it = requests_.find(id);
  CHECK(it != requests_.end()) << "CacheFullBlocks for an unknown request";
  RequestState& state = it->second;
  CHECK_GE(num_computed_tokens, state.num_computed_tokens) << "computed tokens went backwards";
  CHECK_LE(num_computed_tokens, static_cast<int64_t>(state.block_table.size()) * block_size())
      << "computed tokens beyond the allocated blocks";
  CHECK_LE(num_computed_tokens, static_cast<int64_t>(input.tokens.size()));
  state.num_computed_tokens = num_computed_tokens;
  if (!enable_prefix_caching_) return;
  CHECK(ValidatePrefixKeyInput(input).ok()) << "media spans must be validated at the boundary";

  const int64_t num_full = num_computed_tokens / block_size();
  for (int64_t i = static_cast<int64_t>(state.block_hashes.size()); i < num_full; ++i) {
    const BlockHash hash =
        HashBlock(i == 0 ? nullptr : &state.block_hashes.back(), input, i, block_size());
    state.block_hashes.push_back(hash);
    // A false return means an identical block is already cached; this request keeps its own
    // copy unregistered, and it returns to the pool as plain free space.
    (void)pool_.CacheBlock(state.block_table[static_cast<size_t>(i)], hash);
  }
}

bool KvCacheManager::Free(RequestId id) {
  const auto it = requests_.find(id);
  if (it == requests_.end()) return false;
  pool_.Free(it->second.block_table);
  requests_.erase(it);
  return true;
}

const KvCacheManager::RequestState& KvCacheManager::State(RequestId id) const {
  const auto it = requests_.find(id);
  CHECK(it != requests_.end()) << "unknown request " << id;
  return it->second;
}

std::span<const BlockId> KvCacheManager::BlockTable(RequestId id) const {
  return State(id).block_table;
}

int64_t KvCacheManager::NumComputedTokens(RequestId id) const {
  return State(id).num_computed_tokens;
}

KvCacheStats KvCacheManager::Stats() const {
  KvCacheStats s;
  s.block_size = block_size();
  s.num_blocks = pool_.num_blocks();
  s.num_used_blocks = pool_.num_used_blocks();
  s.num_free_blocks = pool_.num_free_blocks();
  s.num_cached_blocks = pool_.num_cached_blocks();
  s.capacity_tokens = static_cast<int64_t>(s.num_blocks) * s.block_size;
  s.used_tokens = static_cast<int64_t>(s.num_used_blocks) * s.block_size;
  s.num_requests = static_cast<int64_t>(requests_.size());
  s.num_admissions = num_admissions_;
  s.prefix_hit_tokens = prefix_hit_tokens_;
  return s;
}

void KvCacheManager::CheckInvariants() const {
  pool_.CheckInvariants();
  std::vector<int32_t> refs(static_cast<size_t>(pool_.num_blocks()), 0);
  for (const auto& [id, state] : requests_) {
    const int64_t num_blocks = static_cast<int64_t>(state.block_table.size());
    CHECK_LE(state.num_computed_tokens, num_blocks * block_size()) << "request " << id;
    CHECK_LE(static_cast<int64_t>(state.block_hashes.size()), num_blocks) << "request " << id;
    if (enable_prefix_caching_) {
      CHECK_EQ(static_cast<int64_t>(state.block_hashes.size()),
               state.num_computed_tokens / block_size())
          << "request " << id;
    }
    for (size_t i = 0; i < state.block_table.size(); ++i) {
      const BlockId block = state.block_table[i];
      ++refs[static_cast<size_t>(block)];
      const BlockHash* key = pool_.KeyOf(block);
      if (i < state.block_hashes.size()) {
        CHECK(key == nullptr || *key == state.block_hashes[i]) << "request " << id;
      } else {
        CHECK(key == nullptr) << "request " << id << " holds a keyed block past its hashes";
      }
    }
  }
  for (BlockId b = 0; b < pool_.num_blocks(); ++b) {
    CHECK_EQ(refs[static_cast<size_t>(b)], pool_.RefCount(b)) << "refcount of block " << b;
  }
}

}  // namespace ocular::kv
