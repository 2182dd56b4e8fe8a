// KvCacheManager: per-request block tables over a BlockPool, with automatic prefix caching
// in which images are first-class (keys include media ids, see block_hash.h).
//
// Pure bookkeeping (ARCHITECTURE.md "Bookkeeping apart from storage"): the scheduler asks
// for slots, the runner writes K/V into the returned block ids, and the scheduler reports
// how many tokens were computed so full blocks can be registered for reuse.
//
// Lifecycle of a request, as the scheduler drives it:
//   prefix = FindCachedPrefix(input);            // query, no side effects
//   AllocateSlots(id, n, &prefix);               // admission: takes the prefix, adds blocks
//   ... forward pass computes n tokens ...
//   CacheFullBlocks(id, input, computed + n);    // registers newly full blocks
//   AllocateSlots(id, m); CacheFullBlocks(...);  // later chunks / decode steps
//   Free(id);                                    // finish, cancel or preempt: same path
// A preempted request is simply freed and later re-admitted; its blocks usually survive in
// the cache, so re-admission finds them again.
//
// Capacity is a value: AllocateSlots returns false and changes nothing when blocks run out;
// the scheduler then waits or preempts. Misuse by the caller (unknown request, computed
// tokens going backwards, a stale prefix) is a broken invariant and CHECK-fails.
//
// Thread-safety: none, by design. The manager is owned by the scheduler thread and only
// that thread calls it; other threads see its effects through the step plans it produces.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "cache/kv/block_hash.h"
#include "cache/kv/block_pool.h"

namespace ocular::kv {

using RequestId = uint64_t;

struct KvCacheConfig {
  int32_t num_blocks = 0;   // from KvNumBlocksForBudget (kv_capacity.h)
  int32_t block_size = 16;  // tokens per block
  bool enable_prefix_caching = true;
  uint64_t hash_seed = 0;  // secret for the key map's bucket placement; random in production
};

// The cached part of a prompt: whole blocks only, never the whole prompt.
struct CachedPrefix {
  int64_t num_tokens = 0;         // blocks.size() * block_size
  std::vector<BlockId> blocks;    // in sequence order
  std::vector<BlockHash> hashes;  // keys of `blocks`, parallel to it
};

struct KvCacheStats {
  int32_t block_size = 0;
  int32_t num_blocks = 0;
  int32_t num_used_blocks = 0;
  int32_t num_free_blocks = 0;    // includes cached blocks that may still be reused
  int32_t num_cached_blocks = 0;  // blocks holding a registered key (used or free)
  int64_t capacity_tokens = 0;    // num_blocks * block_size
  int64_t used_tokens = 0;        // num_used_blocks * block_size
  int64_t num_requests = 0;       // requests currently holding blocks
  int64_t num_admissions = 0;     // cumulative
  int64_t prefix_hit_tokens = 0;  // cumulative tokens reused from the cache at admission
};

class KvCacheManager {
 public:
  explicit KvCacheManager(const KvCacheConfig& config);
  KvCacheManager(const KvCacheManager&) = delete;
  KvCacheManager& operator=(const KvCacheManager&) = delete;

  int32_t block_size() const { return pool_.block_size(); }
  // Blocks needed to hold `num_tokens` tokens (the admission check for oversize requests
  // compares this with num_blocks).
  int64_t NumBlocksFor(int64_t num_tokens) const;
  int64_t capacity_tokens() const {
    return static_cast<int64_t>(pool_.num_blocks()) * pool_.block_size();
  }
  // Whether a request of `num_tokens` total tokens (prompt + max new tokens) could ever fit,
  // with the whole cache to itself. Admission refuses requests for which this is false.
  bool FitsInCache(int64_t num_tokens) const {
    return NumBlocksFor(num_tokens) <= pool_.num_blocks();
  }

  // The longest run of full blocks of `input` already in the cache, capped so that at least
  // the last prompt token is left to compute (its logits are needed). Keys are computed
  // lazily and hashing stops at the first miss. Empty when prefix caching is off.
  // Precondition: ValidatePrefixKeyInput(input) is OK.
  CachedPrefix FindCachedPrefix(const PrefixKeyInput& input) const;

  // Makes room for `num_new_tokens` more tokens after the request's computed tokens.
  // For a request the manager does not know yet (admission), `prefix` (may be null) is what
  // FindCachedPrefix returned just before, with no other pool change in between; its blocks
  // are taken (refcount + 1) and count as computed. Returns false, changing nothing, when
  // not enough blocks are free (cached free blocks the prefix revives count as needed).
  bool AllocateSlots(RequestId id, int64_t num_new_tokens, const CachedPrefix* prefix = nullptr);

  // Records that the first `num_computed_tokens` tokens of the request have K/V in its blocks
  // and registers every block that became full since the last call. `input` is the request's
  // current token view (prompt + generated tokens, media, salt).
  // Preconditions: the request is known; num_computed_tokens does not go backwards, fits
  // the allocated blocks and the input's tokens.
  void CacheFullBlocks(RequestId id, const PrefixKeyInput& input, int64_t num_computed_tokens);

  // Releases the request's blocks (back to front) and forgets it. Finish, cancel and
  // preempt all come here. Idempotent: returns false when the request held nothing.
  bool Free(RequestId id);

  bool HasRequest(RequestId id) const { return requests_.contains(id); }
  // Precondition for both: HasRequest(id).
  std::span<const BlockId> BlockTable(RequestId id) const;
  int64_t NumComputedTokens(RequestId id) const;

  KvCacheStats Stats() const;
  const BlockPool& pool() const { return pool_; }

  // O(blocks + table entries) audit: pool invariants, every block's refcount equals the
  // number of block tables holding it, and request state is consistent.
  void CheckInvariants() const;

 private:
  struct RequestState {
    std::vector<BlockId> block_table;
    // Keys of the leading full blocks (block_table[i] was keyed with block_hashes[i]);
    // kept so later blocks chain without rehashing the prefix.
    std::vector<BlockHash> block_hashes;
    int64_t num_computed_tokens = 0;
  };

  const RequestState& State(RequestId id) const;

  BlockPool pool_;
  bool enable_prefix_caching_;
  std::unordered_map<RequestId, RequestState> requests_;
  int64_t num_admissions_ = 0;
  int64_t prefix_hit_tokens_ = 0;
};

}  // namespace ocular::kv
