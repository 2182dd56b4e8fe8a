// BlockPool: bookkeeping for a paged KV cache of `num_blocks` blocks of `block_size` tokens
// (ARCHITECTURE.md "Bookkeeping apart from storage": no tensors here; the runner owns the
// KV storage and indexes it with the block ids handed out by this pool).
//
// Each block has a refcount (how many requests' block tables hold it), an optional key
// (set once the block is full and computed, see block_hash.h) and a last-access tick.
// Blocks with refcount 0 sit in an intrusive doubly-linked free list in eviction order:
// allocation takes the head. A freed block that carries a key stays in the key -> block
// map, so a later request with the same prefix can take it back (Touch) until it reaches
// the head and is handed out as a fresh block, which evicts its key.
//
// Free-list order (what gets evicted first):
//  - freed blocks WITHOUT a key go to the head: their content is useless to anyone, so they
//    are reused before any cached content is lost;
//  - freed blocks WITH a key go to the tail, a sequence's blocks in reverse order, so its
//    last blocks are evicted before its first ones (a prefix is shared more often than a
//    suffix) and recently freed sequences outlive older ones (LRU).
//
// Capacity is a value, not an error: Allocate returns nullopt when blocks run out. Misuse
// (double free, touching an unknown id) is a broken invariant and CHECK-fails.
//
// Thread-safety: none. The pool is owned by the KV cache manager, which is owned and used by
// the scheduler thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "cache/kv/block_hash.h"

namespace ocular::kv {

using BlockId = int32_t;

class BlockPool {
 public:
  // `hash_seed` keys the bucket placement of the key -> block map (see BlockHashHasher);
  // callers pass a random value in production and any value in tests.
  BlockPool(int32_t num_blocks, int32_t block_size, uint64_t hash_seed);
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t block_size() const { return block_size_; }
  // Blocks with refcount 0 (including cached ones that may still be reused).
  int32_t num_free_blocks() const { return num_free_; }
  int32_t num_used_blocks() const { return num_blocks() - num_free_; }
  // Blocks registered in the key map, whether in use or free.
  int32_t num_cached_blocks() const { return static_cast<int32_t>(cached_.size()); }

  // Takes `n` blocks from the head of the free list, drops any key they carried, and gives
  // each refcount 1. Returns nullopt (and changes nothing) when fewer than `n` are free.
  std::optional<std::vector<BlockId>> Allocate(int32_t n);

  // Adds one reference to each block (a prefix-cache hit). A block with refcount 0 leaves
  // the free list, so it can no longer be evicted.
  void Touch(std::span<const BlockId> blocks);

  // Drops one reference per block. `blocks` is a block table in sequence order; it is
  // released back to front (see the free-list order above). CHECK-fails on a block whose
  // refcount is already 0 (double free).
  void Free(std::span<const BlockId> blocks);

  // The block holding `hash`, in use or free; nullopt on a miss. No side effects.
  std::optional<BlockId> FindCachedBlock(const BlockHash& hash) const;

  // Registers `hash` for an in-use block that has just become full and computed.
  // Returns false (and registers nothing) when another block already holds the same key:
  // two requests computed the same content before either was cached; the first keeps it.
  // Precondition: the block is in use and has no key yet.
  bool CacheBlock(BlockId block, const BlockHash& hash);

  int32_t RefCount(BlockId block) const;
  // The block's key, or nullptr when it has none.
  const BlockHash* KeyOf(BlockId block) const;
  uint64_t LastAccessTick(BlockId block) const;

  // O(num_blocks) audit of every invariant: free list well formed and holding exactly the
  // refcount-0 blocks, free + used = total, the key map and the blocks' keys agree.
  void CheckInvariants() const;

  // The free list from head (evicted first) to tail. O(num_free); for tests and debugging.
  std::vector<BlockId> FreeListInOrder() const;

 private:
  static constexpr BlockId kNone = -1;

  struct Block {
    int32_t ref_count = 0;
    bool has_key = false;
    bool in_free_list = false;
    BlockId prev = kNone;  // free-list links, valid while in_free_list
    BlockId next = kNone;
    uint64_t last_access_tick = 0;
    BlockHash key;
  };

  Block& At(BlockId block);
  const Block& At(BlockId block) const;
  void PushFront(BlockId block);
  void PushBack(BlockId block);
  void Unlink(BlockId block);

  int32_t block_size_;
  std::vector<Block> blocks_;
  BlockId head_ = kNone;
  BlockId tail_ = kNone;
  int32_t num_free_ = 0;
  uint64_t tick_ = 0;  // advanced once per mutating call
  std::unordered_map<BlockHash, BlockId, BlockHashHasher> cached_;
};

}  // namespace ocular::kv
