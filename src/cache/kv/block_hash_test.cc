#include "cache/kv/block_hash.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace ocular::kv {
namespace {

constexpr int32_t kBlockSize = 4;
constexpr int32_t kImagePad = 151655;  // the placeholder token every image span repeats

Sha256Digest DigestOf(std::string_view s) { return Sha256::Hash(s.data(), s.size()); }

// 20 tokens (5 blocks of 4): text 0..5, image placeholders 6..13, text 14..19.
std::vector<int32_t> PromptWithImage() {
  std::vector<int32_t> tokens(20);
  std::iota(tokens.begin(), tokens.end(), 100);
  for (int i = 6; i < 14; ++i) tokens[i] = kImagePad;
  return tokens;
}

TEST(BlockHashTest, SameTokensSameImageSameKeys) {
  const std::vector<int32_t> tokens = PromptWithImage();
  const MediaSpanRef a{6, 8, DigestOf("image-a")};
  const MediaSpanRef a_again{6, 8, DigestOf("image-a")};
  const auto h1 = HashBlocks({tokens, {&a, 1}, ""}, 5, kBlockSize);
  const auto h2 = HashBlocks({tokens, {&a_again, 1}, ""}, 5, kBlockSize);
  EXPECT_EQ(h1, h2);
  // Every block's key is distinct from every other block's (the chain differs).
  for (size_t i = 0; i < h1.size(); ++i) {
    for (size_t j = i + 1; j < h1.size(); ++j) EXPECT_NE(h1[i], h1[j]) << i << " " << j;
  }
}

TEST(BlockHashTest, DifferentImageDiffersFromItsFirstBlockOn) {
  const std::vector<int32_t> tokens = PromptWithImage();
  const MediaSpanRef a{6, 8, DigestOf("image-a")};
  const MediaSpanRef b{6, 8, DigestOf("image-b")};
  const auto ha = HashBlocks({tokens, {&a, 1}, ""}, 5, kBlockSize);
  const auto hb = HashBlocks({tokens, {&b, 1}, ""}, 5, kBlockSize);
  // Block 0 ([0, 4)) precedes the image: shared. The image starts in block 1 ([4, 8)), so
  // blocks 1..4 differ, including block 4 (text after the image) through the chain.
  EXPECT_EQ(ha[0], hb[0]);
  for (int i = 1; i < 5; ++i) EXPECT_NE(ha[i], hb[i]) << "block " << i;
}

TEST(BlockHashTest, PlaceholdersWithoutMediaDifferFromPlaceholdersWithMedia) {
  const std::vector<int32_t> tokens = PromptWithImage();
  const MediaSpanRef a{6, 8, DigestOf("image-a")};
  const auto with = HashBlocks({tokens, {&a, 1}, ""}, 5, kBlockSize);
  const auto without = HashBlocks({tokens, {}, ""}, 5, kBlockSize);
  EXPECT_EQ(with[0], without[0]);
  EXPECT_NE(with[1], without[1]);
}

TEST(BlockHashTest, DifferentSaltSharesNothing) {
  const std::vector<int32_t> tokens = PromptWithImage();
  const MediaSpanRef a{6, 8, DigestOf("image-a")};
  const auto h1 = HashBlocks({tokens, {&a, 1}, "tenant-1"}, 5, kBlockSize);
  const auto h2 = HashBlocks({tokens, {&a, 1}, "tenant-2"}, 5, kBlockSize);
  const auto h0 = HashBlocks({tokens, {&a, 1}, ""}, 5, kBlockSize);
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(h1[i], h2[i]) << "block " << i;
    EXPECT_NE(h1[i], h0[i]) << "block " << i;
  }
}

TEST(BlockHashTest, MediaSpanStartingMidBlockIsPositionSensitive) {
  // All placeholders, so only the span's position distinguishes the two prompts.
  const std::vector<int32_t> tokens(12, kImagePad);
  const MediaSpanRef at5{5, 6, DigestOf("image-a")};  // starts 1 token into block 1
  const MediaSpanRef at6{6, 6, DigestOf("image-a")};  // starts 2 tokens into block 1
  const auto h5 = HashBlocks({tokens, {&at5, 1}, ""}, 3, kBlockSize);
  const auto h6 = HashBlocks({tokens, {&at6, 1}, ""}, 3, kBlockSize);
  EXPECT_EQ(h5[0], h6[0]);  // neither span touches block 0
  EXPECT_NE(h5[1], h6[1]);
  EXPECT_NE(h5[2], h6[2]);
}

TEST(BlockHashTest, SpanEndingBeforeBlockDoesNotEnterItsKeyDirectly) {
  // Two prompts that differ only in an image confined to block 0: block 1's own encoding
  // has no media pair, but its parent differs, so the keys still differ.
  const std::vector<int32_t> tokens(8, kImagePad);
  const MediaSpanRef a{0, 4, DigestOf("image-a")};
  const MediaSpanRef b{0, 4, DigestOf("image-b")};
  const auto ha = HashBlocks({tokens, {&a, 1}, ""}, 2, kBlockSize);
  const auto hb = HashBlocks({tokens, {&b, 1}, ""}, 2, kBlockSize);
  EXPECT_NE(ha[1], hb[1]);
  // With the same parent, block 1's key equals the no-media key (the span ends at 4).
  const BlockHash no_media = HashBlock(&ha[0], {tokens, {}, ""}, 1, kBlockSize);
  EXPECT_EQ(ha[1], no_media);
}

TEST(BlockHashTest, TokenChangeInBlockZeroChangesEveryLaterKey) {
  std::vector<int32_t> tokens(16, 7);
  const auto before = HashBlocks({tokens, {}, ""}, 4, kBlockSize);
  tokens[3] = 8;
  const auto after = HashBlocks({tokens, {}, ""}, 4, kBlockSize);
  for (int i = 0; i < 4; ++i) EXPECT_NE(before[i], after[i]) << "block " << i;
  // A change in block 2 leaves blocks 0 and 1 alone.
  tokens[3] = 7;
  tokens[9] = 9;
  const auto later = HashBlocks({tokens, {}, ""}, 4, kBlockSize);
  EXPECT_EQ(before[0], later[0]);
  EXPECT_EQ(before[1], later[1]);
  EXPECT_NE(before[2], later[2]);
  EXPECT_NE(before[3], later[3]);
}

void PutLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Pins the canonical encoding, rebuilt by hand from the description in block_hash.h:
// a change of encoding must be deliberate (bump the domain tag's version).
TEST(BlockHashTest, CanonicalEncodingKnownAnswer) {
  const std::vector<int32_t> tokens = {1, 2, -3, kImagePad, kImagePad, kImagePad, 7, 8};
  const MediaSpanRef span{3, 3, DigestOf("img")};
  const PrefixKeyInput input{tokens, {&span, 1}, "salt"};

  std::vector<uint8_t> root;
  const std::string_view tag = "ocular.kv.block.v1";
  root.insert(root.end(), tag.begin(), tag.end());
  root.push_back(0);  // root marker
  PutLe(root, 4, 8);  // block size
  for (int i = 0; i < 4; ++i) PutLe(root, static_cast<uint32_t>(tokens[i]), 4);
  PutLe(root, 1, 8);  // one span
  root.insert(root.end(), span.media_id.begin(), span.media_id.end());
  PutLe(root, 3, 8);                          // span length
  PutLe(root, static_cast<uint64_t>(-3), 8);  // block start 0 - span start 3
  PutLe(root, 4, 8);                          // salt length
  for (char c : std::string_view("salt")) root.push_back(static_cast<uint8_t>(c));
  const BlockHash expected_root{Sha256::Hash(root.data(), root.size())};

  std::vector<uint8_t> child;
  child.insert(child.end(), tag.begin(), tag.end());
  child.push_back(1);  // child marker
  child.insert(child.end(), expected_root.bytes.begin(), expected_root.bytes.end());
  PutLe(child, 4, 8);
  for (int i = 4; i < 8; ++i) PutLe(child, static_cast<uint32_t>(tokens[i]), 4);
  PutLe(child, 1, 8);
  child.insert(child.end(), span.media_id.begin(), span.media_id.end());
  PutLe(child, 3, 8);
  PutLe(child, 1, 8);  // block start 4 - span start 3; no salt in a child block
  const BlockHash expected_child{Sha256::Hash(child.data(), child.size())};

  const auto keys = HashBlocks(input, 2, kBlockSize);
  EXPECT_EQ(keys[0].ToHex(), expected_root.ToHex());
  EXPECT_EQ(keys[1].ToHex(), expected_child.ToHex());
}

TEST(BlockHashTest, ValidateRejectsMalformedSpans) {
  const std::vector<int32_t> tokens(10, kImagePad);
  const Sha256Digest id = DigestOf("x");
  auto validate = [&](std::vector<MediaSpanRef> spans) {
    return ValidatePrefixKeyInput({tokens, spans, ""}).ok();
  };
  EXPECT_TRUE(validate({}));
  EXPECT_TRUE(validate({{0, 4, id}, {4, 6, id}}));
  EXPECT_FALSE(validate({{0, 0, id}}));                  // empty
  EXPECT_FALSE(validate({{-1, 2, id}}));                 // before the prompt
  EXPECT_FALSE(validate({{8, 3, id}}));                  // past the end
  EXPECT_FALSE(validate({{4, 2, id}, {0, 2, id}}));      // unsorted
  EXPECT_FALSE(validate({{0, 5, id}, {4, 2, id}}));      // overlapping
  EXPECT_FALSE(validate({{INT64_MAX, INT64_MAX, id}}));  // overflow-shaped
}

TEST(BlockHashTest, HasherIsSeeded) {
  const BlockHash key{DigestOf("k")};
  // Equal keys hash equally under one seed; the seed moves every key (checked on a few).
  EXPECT_EQ(BlockHashHasher(1)(key), BlockHashHasher(1)(BlockHash{DigestOf("k")}));
  int moved = 0;
  for (int i = 0; i < 8; ++i) {
    const BlockHash k{DigestOf(std::to_string(i))};
    if (BlockHashHasher(1)(k) != BlockHashHasher(2)(k)) ++moved;
  }
  EXPECT_EQ(moved, 8);
}

TEST(BlockHashDeathTest, PartialBlockHasNoKey) {
  const std::vector<int32_t> tokens(6, 1);
  EXPECT_DEATH(HashBlocks({tokens, {}, ""}, 2, kBlockSize), "only full blocks");
}

}  // namespace
}  // namespace ocular::kv
