#include "cache/kv/block_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocular::kv {
namespace {

using ::testing::ElementsAre;

BlockHash Key(int i) {
  const std::string s = "key-" + std::to_string(i);
  return BlockHash{Sha256::Hash(s.data(), s.size())};
}

TEST(BlockPoolTest, AllocatesUntilEmptyThenReportsNotEnough) {
  BlockPool pool(4, 16, 0);
  EXPECT_EQ(pool.num_free_blocks(), 4);
  EXPECT_FALSE(pool.Allocate(5).has_value());  // capacity is a value...
  EXPECT_EQ(pool.num_free_blocks(), 4);        // ...and a refusal changes nothing
  const auto a = pool.Allocate(3);
  ASSERT_TRUE(a.has_value());
  EXPECT_THAT(*a, ElementsAre(0, 1, 2));
  EXPECT_EQ(pool.num_used_blocks() + pool.num_free_blocks(), 4);
  EXPECT_FALSE(pool.Allocate(2).has_value());
  const auto b = pool.Allocate(1);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(pool.num_free_blocks(), 0);
  EXPECT_EQ(pool.num_used_blocks(), 4);
  EXPECT_TRUE(pool.Allocate(0).has_value());
  pool.CheckInvariants();
  for (BlockId id : *a) EXPECT_EQ(pool.RefCount(id), 1);
}

TEST(BlockPoolTest, FreedSequenceIsEvictedTailFirst) {
  BlockPool pool(4, 16, 0);
  const std::vector<BlockId> seq = *pool.Allocate(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pool.CacheBlock(seq[i], Key(i)));
  pool.Free(seq);
  pool.CheckInvariants();
  // Released back to front: the sequence's last block is at the head.
  EXPECT_THAT(pool.FreeListInOrder(), ElementsAre(3, 2, 1, 0));
  EXPECT_EQ(pool.num_cached_blocks(), 4);

  // A fresh allocation evicts the head block and drops its key; the prefix stays cached.
  EXPECT_THAT(*pool.Allocate(1), ElementsAre(3));
  EXPECT_FALSE(pool.FindCachedBlock(Key(3)).has_value());
  EXPECT_EQ(pool.KeyOf(3), nullptr);
  EXPECT_EQ(pool.FindCachedBlock(Key(0)), std::optional<BlockId>(0));
  EXPECT_EQ(pool.num_cached_blocks(), 3);
  pool.CheckInvariants();
}

TEST(BlockPoolTest, OlderSequencesAreEvictedBeforeNewerOnes) {
  BlockPool pool(4, 16, 0);
  const std::vector<BlockId> older = *pool.Allocate(2);  // 0, 1
  const std::vector<BlockId> newer = *pool.Allocate(2);  // 2, 3
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pool.CacheBlock(i, Key(i)));
  pool.Free(older);
  pool.Free(newer);
  EXPECT_THAT(pool.FreeListInOrder(), ElementsAre(1, 0, 3, 2));
  EXPECT_THAT(*pool.Allocate(2), ElementsAre(1, 0));
  EXPECT_TRUE(pool.FindCachedBlock(Key(2)).has_value());
  EXPECT_TRUE(pool.FindCachedBlock(Key(3)).has_value());
}

TEST(BlockPoolTest, UnkeyedFreedBlocksAreReusedBeforeCachedOnes) {
  BlockPool pool(4, 16, 0);
  const std::vector<BlockId> seq = *pool.Allocate(3);  // 0, 1, 2; block 3 stays free
  ASSERT_TRUE(pool.CacheBlock(0, Key(0)));
  ASSERT_TRUE(pool.CacheBlock(1, Key(1)));
  pool.Free(seq);  // block 2 (partial, no key) holds nothing reusable
  EXPECT_THAT(pool.FreeListInOrder(), ElementsAre(2, 3, 1, 0));
  EXPECT_THAT(*pool.Allocate(2), ElementsAre(2, 3));
  EXPECT_EQ(pool.num_cached_blocks(), 2);
  pool.CheckInvariants();
}

TEST(BlockPoolTest, CachedBlockIsRevivedAndProtectedFromEviction) {
  BlockPool pool(3, 16, 0);
  const std::vector<BlockId> seq = *pool.Allocate(1);
  ASSERT_TRUE(pool.CacheBlock(seq[0], Key(7)));
  pool.Free(seq);
  EXPECT_EQ(pool.num_free_blocks(), 3);

  const std::optional<BlockId> hit = pool.FindCachedBlock(Key(7));
  ASSERT_EQ(hit, std::optional<BlockId>(seq[0]));
  EXPECT_EQ(pool.RefCount(*hit), 0);  // lookup has no side effect
  pool.Touch(std::vector<BlockId>{*hit});
  EXPECT_EQ(pool.RefCount(*hit), 1);
  EXPECT_EQ(pool.num_free_blocks(), 2);
  // Allocating everything else never hands out the revived block.
  const std::vector<BlockId> rest = *pool.Allocate(2);
  for (BlockId id : rest) EXPECT_NE(id, *hit);
  EXPECT_TRUE(pool.FindCachedBlock(Key(7)).has_value());
  pool.CheckInvariants();
}

TEST(BlockPoolTest, SharedBlockStaysInUseUntilLastReferenceGoes) {
  BlockPool pool(2, 16, 0);
  const std::vector<BlockId> a = *pool.Allocate(1);
  pool.Touch(a);  // a second request shares it
  EXPECT_EQ(pool.RefCount(a[0]), 2);
  pool.Free(a);
  EXPECT_EQ(pool.RefCount(a[0]), 1);
  EXPECT_EQ(pool.num_used_blocks(), 1);
  pool.Free(a);
  EXPECT_EQ(pool.RefCount(a[0]), 0);
  EXPECT_EQ(pool.num_free_blocks(), 2);
  pool.CheckInvariants();
}

TEST(BlockPoolTest, DuplicateKeyIsNotRegisteredTwice) {
  BlockPool pool(2, 16, 0);
  const std::vector<BlockId> blocks = *pool.Allocate(2);
  EXPECT_TRUE(pool.CacheBlock(blocks[0], Key(1)));
  EXPECT_FALSE(pool.CacheBlock(blocks[1], Key(1)));
  EXPECT_EQ(pool.KeyOf(blocks[1]), nullptr);
  EXPECT_EQ(pool.FindCachedBlock(Key(1)), std::optional<BlockId>(blocks[0]));
  EXPECT_EQ(pool.num_cached_blocks(), 1);
  pool.CheckInvariants();
}

TEST(BlockPoolTest, LastAccessTickAdvances) {
  BlockPool pool(2, 16, 0);
  const std::vector<BlockId> a = *pool.Allocate(1);
  const std::vector<BlockId> b = *pool.Allocate(1);
  EXPECT_LT(pool.LastAccessTick(a[0]), pool.LastAccessTick(b[0]));
  pool.Touch(a);
  EXPECT_GT(pool.LastAccessTick(a[0]), pool.LastAccessTick(b[0]));
}

TEST(BlockPoolDeathTest, DoubleFreeAborts) {
  BlockPool pool(2, 16, 0);
  const std::vector<BlockId> a = *pool.Allocate(1);
  pool.Free(a);
  EXPECT_DEATH(pool.Free(a), "double free");
}

TEST(BlockPoolDeathTest, UnknownBlockIdAborts) {
  BlockPool pool(2, 16, 0);
  EXPECT_DEATH(pool.Touch(std::vector<BlockId>{2}), "out of range");
  EXPECT_DEATH(pool.Free(std::vector<BlockId>{-1}), "out of range");
}

TEST(BlockPoolDeathTest, KeyOnlyForInUseBlocks) {
  BlockPool pool(2, 16, 0);
  EXPECT_DEATH((void)pool.CacheBlock(0, Key(0)), "in-use");
}

}  // namespace
}  // namespace ocular::kv
