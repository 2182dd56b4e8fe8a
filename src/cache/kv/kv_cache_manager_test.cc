#include "cache/kv/kv_cache_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

namespace ocular::kv {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr int32_t kBlockSize = 4;
constexpr int32_t kImagePad = 151655;

Sha256Digest DigestOf(std::string_view s) { return Sha256::Hash(s.data(), s.size()); }

KvCacheManager MakeManager(int32_t num_blocks, bool prefix_caching = true) {
  return KvCacheManager(KvCacheConfig{num_blocks, kBlockSize, prefix_caching, /*seed=*/42});
}

// Admission + one forward of the whole remaining prompt, as the scheduler would drive it.
// Returns the cached prefix it was admitted with.
CachedPrefix AdmitAndPrefill(KvCacheManager& kv, RequestId id, const PrefixKeyInput& input) {
  const CachedPrefix prefix = kv.FindCachedPrefix(input);
  const int64_t remaining = static_cast<int64_t>(input.tokens.size()) - prefix.num_tokens;
  EXPECT_TRUE(kv.AllocateSlots(id, remaining, &prefix));
  kv.CacheFullBlocks(id, input, static_cast<int64_t>(input.tokens.size()));
  kv.CheckInvariants();
  return prefix;
}

std::vector<int32_t> Iota(int n, int32_t start) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(KvCacheManagerTest, SecondRequestWithSamePrefixSharesFullBlocks) {
  KvCacheManager kv = MakeManager(16);
  const std::vector<int32_t> a = Iota(14, 0);  // 3 full blocks + 2 tokens
  std::vector<int32_t> b = a;
  b[13] = 99;  // differs only in the partial last block
  const CachedPrefix pa = AdmitAndPrefill(kv, 1, {a, {}, ""});
  EXPECT_EQ(pa.num_tokens, 0);
  const CachedPrefix pb = AdmitAndPrefill(kv, 2, {b, {}, ""});
  EXPECT_EQ(pb.num_tokens, 12);

  const auto ta = kv.BlockTable(1);
  const auto tb = kv.BlockTable(2);
  ASSERT_EQ(ta.size(), 4u);
  ASSERT_EQ(tb.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ta[i], tb[i]) << "block " << i;
    EXPECT_EQ(kv.pool().RefCount(ta[i]), 2);
  }
  EXPECT_NE(ta[3], tb[3]);
  const KvCacheStats s = kv.Stats();
  EXPECT_EQ(s.num_used_blocks, 5);
  EXPECT_EQ(s.num_used_blocks + s.num_free_blocks, s.num_blocks);
  EXPECT_EQ(s.prefix_hit_tokens, 12);
  EXPECT_EQ(s.num_admissions, 2);
  EXPECT_EQ(s.used_tokens, 5 * kBlockSize);
  EXPECT_EQ(s.capacity_tokens, 16 * kBlockSize);
}

TEST(KvCacheManagerTest, NeverReturnsTheWholePrompt) {
  KvCacheManager kv = MakeManager(16);
  const std::vector<int32_t> prompt = Iota(12, 0);  // exactly 3 blocks
  AdmitAndPrefill(kv, 1, {prompt, {}, ""});
  // The same prompt again: the last token must be recomputed, so only 2 blocks are reused.
  EXPECT_EQ(kv.FindCachedPrefix({prompt, {}, ""}).num_tokens, 8);
  // One token more and all 3 blocks are usable.
  const std::vector<int32_t> longer = Iota(13, 0);
  EXPECT_EQ(kv.FindCachedPrefix({longer, {}, ""}).num_tokens, 12);
  EXPECT_EQ(kv.FindCachedPrefix({std::span<const int32_t>(), {}, ""}).num_tokens, 0);
}

// The engine issue's acceptance case, at block level.
class KvImagePrefixTest : public ::testing::Test {
 protected:
  // System prompt [0, 8), image placeholders [8, 20), question [20, 26).
  std::vector<int32_t> Prompt() const {
    std::vector<int32_t> t = Iota(26, 1000);
    for (int i = 8; i < 20; ++i) t[i] = kImagePad;
    return t;
  }
  KvCacheManager kv_ = MakeManager(32);
  const std::vector<int32_t> tokens_ = Prompt();
  const MediaSpanRef image_a_{8, 12, DigestOf("image-a")};
  const MediaSpanRef image_b_{8, 12, DigestOf("image-b")};
};

TEST_F(KvImagePrefixTest, SameImageAfterSamePrefixReusesEveryFullBlockThroughTheImage) {
  AdmitAndPrefill(kv_, 1, {tokens_, {&image_a_, 1}, ""});
  std::vector<int32_t> other_question = tokens_;
  other_question[24] = 5;  // differs in block 6 ([24, 28)), after the image
  const CachedPrefix p = kv_.FindCachedPrefix({other_question, {&image_a_, 1}, ""});
  // Blocks 0..5 cover [0, 24): system prompt, the whole image and 4 question tokens.
  EXPECT_EQ(p.num_tokens, 24);
}

TEST_F(KvImagePrefixTest, DifferentImageReusesOnlyBlocksBeforeIt) {
  AdmitAndPrefill(kv_, 1, {tokens_, {&image_a_, 1}, ""});
  const CachedPrefix p = kv_.FindCachedPrefix({tokens_, {&image_b_, 1}, ""});
  EXPECT_EQ(p.num_tokens, 8);  // blocks 0 and 1: the system prompt
  EXPECT_THAT(p.blocks, ElementsAreArray(kv_.BlockTable(1).subspan(0, 2)));
}

TEST_F(KvImagePrefixTest, DifferentSaltReusesNothing) {
  AdmitAndPrefill(kv_, 1, {tokens_, {&image_a_, 1}, "tenant-a"});
  EXPECT_EQ(kv_.FindCachedPrefix({tokens_, {&image_a_, 1}, "tenant-b"}).num_tokens, 0);
  EXPECT_EQ(kv_.FindCachedPrefix({tokens_, {&image_a_, 1}, ""}).num_tokens, 0);
  EXPECT_EQ(kv_.FindCachedPrefix({tokens_, {&image_a_, 1}, "tenant-a"}).num_tokens, 24);
}

TEST_F(KvImagePrefixTest, CachedBlocksSurviveTheirRequest) {
  AdmitAndPrefill(kv_, 1, {tokens_, {&image_a_, 1}, ""});
  EXPECT_TRUE(kv_.Free(1));
  kv_.CheckInvariants();
  EXPECT_EQ(kv_.Stats().num_used_blocks, 0);
  EXPECT_EQ(kv_.Stats().num_cached_blocks, 6);
  const CachedPrefix p = AdmitAndPrefill(kv_, 2, {tokens_, {&image_a_, 1}, ""});
  EXPECT_EQ(p.num_tokens, 24);
  EXPECT_EQ(kv_.Stats().num_used_blocks, 7);
}

TEST(KvCacheManagerTest, RefusedAllocationChangesNothing) {
  KvCacheManager kv = MakeManager(4);
  const std::vector<int32_t> a = Iota(12, 0);
  AdmitAndPrefill(kv, 1, {a, {}, ""});  // blocks 0, 1, 2 keyed
  ASSERT_TRUE(kv.Free(1));
  ASSERT_TRUE(kv.AllocateSlots(2, 3));  // takes the one unkeyed block (3)
  EXPECT_THAT(kv.BlockTable(2), ElementsAre(3));

  // 17 tokens sharing a's first 2 blocks (then diverging): prefix revives 2 cached free
  // blocks and needs 3 more, 5 > 3 free.
  std::vector<int32_t> b = Iota(17, 0);
  b[8] = -1;
  const CachedPrefix p = kv.FindCachedPrefix({b, {}, ""});
  ASSERT_EQ(p.num_tokens, 8);
  const std::vector<BlockId> free_before = kv.pool().FreeListInOrder();
  EXPECT_FALSE(kv.AllocateSlots(3, 9, &p));
  EXPECT_FALSE(kv.HasRequest(3));
  EXPECT_EQ(kv.pool().FreeListInOrder(), free_before);
  EXPECT_EQ(kv.Stats().num_cached_blocks, 3);
  EXPECT_EQ(kv.Stats().num_admissions, 2);
  kv.CheckInvariants();

  // With 1 new block it fits: 2 revived + 1 fresh = 3 free. The fresh one evicts block 2,
  // a's third block, which is at the head of the free list; the prefix is never evicted.
  std::vector<int32_t> c = Iota(9, 0);
  const CachedPrefix pc = kv.FindCachedPrefix({c, {}, ""});
  ASSERT_EQ(pc.num_tokens, 8);
  EXPECT_TRUE(kv.AllocateSlots(4, 1, &pc));
  EXPECT_THAT(kv.BlockTable(4), ElementsAre(0, 1, 2));
  EXPECT_EQ(kv.Stats().num_free_blocks, 0);
  EXPECT_EQ(kv.Stats().num_cached_blocks, 2);
  kv.CheckInvariants();
}

TEST(KvCacheManagerTest, DecodeAllocatesOnlyAtBlockBoundaries) {
  KvCacheManager kv = MakeManager(8);
  std::vector<int32_t> tokens = Iota(6, 0);
  AdmitAndPrefill(kv, 1, {tokens, {}, ""});
  EXPECT_EQ(kv.BlockTable(1).size(), 2u);
  // Decode: each step appends one token (the sampled one) and computes it.
  const size_t expected_blocks[] = {2, 2, 3, 3, 3, 3, 4};
  for (size_t step = 0; step < 7; ++step) {
    tokens.push_back(100 + static_cast<int32_t>(step));
    ASSERT_TRUE(kv.AllocateSlots(1, 1));
    kv.CacheFullBlocks(1, {tokens, {}, ""}, static_cast<int64_t>(tokens.size()));
    EXPECT_EQ(kv.BlockTable(1).size(), expected_blocks[step]) << "step " << step;
    kv.CheckInvariants();
  }
  EXPECT_EQ(kv.NumComputedTokens(1), 13);
  EXPECT_EQ(kv.Stats().num_cached_blocks, 3);  // 13 tokens: 3 full blocks
}

TEST(KvCacheManagerTest, ChunkedPrefillCachesBlocksAsTheyFill) {
  KvCacheManager kv = MakeManager(8);
  const std::vector<int32_t> tokens = Iota(14, 0);
  const PrefixKeyInput in{tokens, {}, ""};
  ASSERT_TRUE(kv.AllocateSlots(1, 5));
  kv.CacheFullBlocks(1, in, 5);
  EXPECT_EQ(kv.Stats().num_cached_blocks, 1);
  ASSERT_TRUE(kv.AllocateSlots(1, 6));
  kv.CacheFullBlocks(1, in, 11);
  EXPECT_EQ(kv.Stats().num_cached_blocks, 2);
  ASSERT_TRUE(kv.AllocateSlots(1, 3));
  kv.CacheFullBlocks(1, in, 14);
  EXPECT_EQ(kv.Stats().num_cached_blocks, 3);
  kv.CheckInvariants();
  // The keys equal those of a one-shot prefill of the same prompt.
  const auto keys = HashBlocks(in, 3, kBlockSize);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*kv.pool().KeyOf(kv.BlockTable(1)[i]), keys[i]);
}

TEST(KvCacheManagerTest, ConcurrentDuplicatePrefillKeepsOneCachedCopy) {
  KvCacheManager kv = MakeManager(8);
  const std::vector<int32_t> tokens = Iota(9, 0);
  const PrefixKeyInput in{tokens, {}, ""};
  // Both admitted before either computed anything: no sharing possible yet.
  ASSERT_TRUE(kv.AllocateSlots(1, 9));
  ASSERT_TRUE(kv.AllocateSlots(2, 9));
  kv.CacheFullBlocks(1, in, 9);
  kv.CacheFullBlocks(2, in, 9);
  kv.CheckInvariants();
  EXPECT_EQ(kv.Stats().num_cached_blocks, 2);
  EXPECT_EQ(kv.Stats().num_used_blocks, 6);
  ASSERT_TRUE(kv.Free(2));
  ASSERT_TRUE(kv.Free(1));
  kv.CheckInvariants();
  EXPECT_EQ(kv.Stats().num_free_blocks, 8);
  EXPECT_EQ(kv.FindCachedPrefix({Iota(10, 0), {}, ""}).blocks.size(), 2u);
}

TEST(KvCacheManagerTest, PreemptedRequestFindsItsBlocksAgain) {
  KvCacheManager kv = MakeManager(8);
  std::vector<int32_t> tokens = Iota(10, 0);
  AdmitAndPrefill(kv, 1, {tokens, {}, ""});
  tokens.push_back(50);      // one generated token, not yet computed
  ASSERT_TRUE(kv.Free(1));   // preempt
  EXPECT_FALSE(kv.Free(1));  // idempotent
  const CachedPrefix p = AdmitAndPrefill(kv, 1, {tokens, {}, ""});
  EXPECT_EQ(p.num_tokens, 8);
  EXPECT_EQ(kv.NumComputedTokens(1), 11);
}

TEST(KvCacheManagerTest, PrefixCachingOff) {
  KvCacheManager kv = MakeManager(8, /*prefix_caching=*/false);
  const std::vector<int32_t> tokens = Iota(12, 0);
  AdmitAndPrefill(kv, 1, {tokens, {}, ""});
  EXPECT_EQ(kv.Stats().num_cached_blocks, 0);
  EXPECT_EQ(kv.FindCachedPrefix({tokens, {}, ""}).num_tokens, 0);
  ASSERT_TRUE(kv.Free(1));
  EXPECT_EQ(kv.Stats().num_free_blocks, 8);
}

TEST(KvCacheManagerTest, NumBlocksForRoundsUp) {
  KvCacheManager kv = MakeManager(2);
  EXPECT_EQ(kv.NumBlocksFor(0), 0);
  EXPECT_EQ(kv.NumBlocksFor(1), 1);
  EXPECT_EQ(kv.NumBlocksFor(4), 1);
  EXPECT_EQ(kv.NumBlocksFor(5), 2);
  EXPECT_EQ(kv.capacity_tokens(), 8);
  EXPECT_TRUE(kv.FitsInCache(8));
  EXPECT_FALSE(kv.FitsInCache(9));  // oversize: refused at admission, never preempted for
}

TEST(KvCacheManagerDeathTest, StalePrefixAborts) {
  KvCacheManager kv = MakeManager(3);
  const std::vector<int32_t> a = Iota(9, 0);
  AdmitAndPrefill(kv, 1, {a, {}, ""});  // blocks 0, 1 keyed; 2 unkeyed
  ASSERT_TRUE(kv.Free(1));
  const CachedPrefix p = kv.FindCachedPrefix({a, {}, ""});
  ASSERT_EQ(p.blocks.size(), 2u);
  // Another admission in between evicts the prefix's blocks.
  ASSERT_TRUE(kv.AllocateSlots(2, 12));
  EXPECT_DEATH(kv.AllocateSlots(3, 1, &p), "stale cached prefix");
}

TEST(KvCacheManagerDeathTest, MisuseAborts) {
  KvCacheManager kv = MakeManager(4);
  const std::vector<int32_t> a = Iota(8, 0);
  const CachedPrefix empty;
  ASSERT_TRUE(kv.AllocateSlots(1, 4));
  EXPECT_DEATH(kv.AllocateSlots(1, 1, &empty), "only taken at admission");
  EXPECT_DEATH(kv.CacheFullBlocks(1, {a, {}, ""}, 5), "beyond the allocated blocks");
  kv.CacheFullBlocks(1, {a, {}, ""}, 4);
  EXPECT_DEATH(kv.CacheFullBlocks(1, {a, {}, ""}, 3), "went backwards");
  EXPECT_DEATH(kv.CacheFullBlocks(9, {a, {}, ""}, 1), "unknown request");
  EXPECT_DEATH((void)kv.BlockTable(9), "unknown request");
  const MediaSpanRef outside{6, 4, DigestOf("x")};  // ends past the 8 tokens
  EXPECT_DEATH((void)kv.FindCachedPrefix({a, {&outside, 1}, ""}), "validated at the boundary");
}

}  // namespace
}  // namespace ocular::kv
