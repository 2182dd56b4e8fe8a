#include "cache/kv/block_pool.h"

#include "base/check.h"

namespace ocular::kv {

BlockPool::BlockPool(int32_t num_blocks, int32_t block_size, uint64_t hash_seed)
    : block_size_(block_size),
      blocks_(static_cast<size_t>(num_blocks)),
      cached_(/*bucket_count=*/16, BlockHashHasher(hash_seed)) {
  CHECK_GT(num_blocks, 0);
  CHECK_GT(block_size, 0);
  for (BlockId b = 0; b < num_blocks; ++b) PushBack(b);
  // Every block may end up keyed: size the map once so a step never pays for a rehash.
  cached_.reserve(static_cast<size_t>(num_blocks));
}

BlockPool::Block& BlockPool::At(BlockId block) {
  CHECK(block >= 0 && block < num_blocks()) << "block id " << block << " out of range";
  return blocks_[static_cast<size_t>(block)];
}

const BlockPool::Block& BlockPool::At(BlockId block) const {
  CHECK(block >= 0 && block < num_blocks()) << "block id " << block << " out of range";
  return blocks_[static_cast<size_t>(block)];
}

void BlockPool::PushFront(BlockId block) {
  Block& b = At(block);
  DCHECK(!b.in_free_list);
  b.in_free_list = true;
  b.prev = kNone;
  b.next = head_;
  if (head_ != kNone) {
    At(head_).prev = block;
  } else {
    tail_ = block;
  }
  head_ = block;
  ++num_free_;
}

void BlockPool::PushBack(BlockId block) {
  Block& b = At(block);
  DCHECK(!b.in_free_list);
  b.in_free_list = true;
  b.next = kNone;
  b.prev = tail_;
  if (tail_ != kNone) {
    At(tail_).next = block;
  } else {
    head_ = block;
  }
  tail_ = block;
  ++num_free_;
}

void BlockPool::Unlink(BlockId block) {
  Block& b = At(block);
  CHECK(b.in_free_list);
  if (b.prev != kNone) {
    At(b.prev).next = b.next;
  } else {
    head_ = b.next;
  }
  if (b.next != kNone) {
    At(b.next).prev = b.prev;
  } else {
    tail_ = b.prev;
  }
  b.prev = b.next = kNone;
  b.in_free_list = false;
  --num_free_;
  CHECK_GE(num_free_, 0);
}

std::optional<std::vector<BlockId>> BlockPool::Allocate(int32_t n) {
  CHECK_GE(n, 0);
  if (n > num_free_) return std::nullopt;
  ++tick_;
  std::vector<BlockId> out;
  out.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    const BlockId id = head_;
    CHECK_NE(id, kNone);
    Unlink(id);
    Block& b = At(id);
    CHECK_EQ(b.ref_count, 0);
    if (b.has_key) {  // evict the cached content this block held
      const size_t erased = cached_.erase(b.key);
      CHECK_EQ(erased, 1u);
      b.has_key = false;
    }
    b.ref_count = 1;
    b.last_access_tick = tick_;
    out.push_back(id);
  }
  return out;
}

void BlockPool::Touch(std::span<const BlockId> blocks) {
  ++tick_;
  for (BlockId id : blocks) {
    Block& b = At(id);
    CHECK_GE(b.ref_count, 0);
    if (b.ref_count == 0) Unlink(id);
    ++b.ref_count;
    b.last_access_tick = tick_;
  }
}

void BlockPool::Free(std::span<const BlockId> blocks) {
  ++tick_;
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    const BlockId id = *it;
    Block& b = At(id);
    CHECK_GT(b.ref_count, 0) << "double free of block " << id;
    --b.ref_count;
    b.last_access_tick = tick_;
    if (b.ref_count == 0) {
      if (b.has_key) {
        PushBack(id);
      } else {
        PushFront(id);
      }
    }
  }
}

std::optional<BlockId> BlockPool::FindCachedBlock(const BlockHash& hash) const {
  const auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

bool BlockPool::CacheBlock(BlockId block, const BlockHash& hash) {
  Block& b = At(block);
  CHECK_GT(b.ref_count, 0) << "only an in-use block can be registered";
  CHECK(!b.has_key) << "block " << block << " already has a key";
  const auto [it, inserted] = cached_.emplace(hash, block);
  if (!inserted) return false;
  b.has_key = true;
  b.key = hash;
  return true;
}

int32_t BlockPool::RefCount(BlockId block) const { return At(block).ref_count; }

const BlockHash* BlockPool::KeyOf(BlockId block) const {
  const Block& b = At(block);
  return b.has_key ? &b.key : nullptr;
}

uint64_t BlockPool::LastAccessTick(BlockId block) const { return At(block).last_access_tick; }

void BlockPool::CheckInvariants() const {
  // Walk the free list: well linked, only refcount-0 blocks, no cycles.
  int32_t walked = 0;
  BlockId prev = kNone;
  for (BlockId id = head_; id != kNone; id = At(id).next) {
    const Block& b = At(id);
    CHECK(b.in_free_list) << "block " << id << " linked but not marked free";
    CHECK_EQ(b.ref_count, 0) << "block " << id << " in free list while in use";
    CHECK_EQ(b.prev, prev);
    prev = id;
    ++walked;
    CHECK_LE(walked, num_blocks()) << "free list has a cycle";
  }
  CHECK_EQ(prev, tail_);
  CHECK_EQ(walked, num_free_);

  int32_t num_zero = 0;
  int32_t num_used = 0;
  int32_t num_keyed = 0;
  for (BlockId id = 0; id < num_blocks(); ++id) {
    const Block& b = At(id);
    CHECK_GE(b.ref_count, 0) << "negative refcount on block " << id;
    CHECK_EQ(b.in_free_list, b.ref_count == 0) << "block " << id;
    if (b.ref_count == 0) {
      ++num_zero;
    } else {
      ++num_used;
    }
    if (b.has_key) {
      ++num_keyed;
      const auto it = cached_.find(b.key);
      CHECK(it != cached_.end() && it->second == id) << "block " << id << " key not mapped";
    }
  }
  CHECK_EQ(num_zero, num_free_);
  CHECK_EQ(num_free_ + num_used, num_blocks()) << "free + used != total";
  CHECK_EQ(num_keyed, static_cast<int32_t>(cached_.size()));
  for (const auto& [key, id] : cached_) {
    const Block& b = At(id);
    CHECK(b.has_key && b.key == key) << "map entry for block " << id << " is stale";
  }
}

std::vector<BlockId> BlockPool::FreeListInOrder() const {
  std::vector<BlockId> out;
  out.reserve(static_cast<size_t>(num_free_));
  for (BlockId id = head_; id != kNone; id = At(id).next) out.push_back(id);
  return out;
}

}  // namespace ocular::kv
