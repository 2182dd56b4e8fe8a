#include "model/tokenizer/bpe.h"

#include <gtest/gtest.h>

#include <numeric>

#include "model/tokenizer/token_index.h"
#include "model/tokenizer/word_cache.h"

namespace ocular::tokenizer {
namespace {

// Byte b has id b; merges are given as (left, right, merged id) in rank order.
BpeModel MakeModel(const std::vector<std::array<int32_t, 3>>& merges) {
  std::array<int32_t, 256> byte_ids;
  std::iota(byte_ids.begin(), byte_ids.end(), 0);
  MergeTable table;
  for (size_t r = 0; r < merges.size(); ++r) {
    EXPECT_TRUE(table.Insert(merges[r][0], merges[r][1], static_cast<int32_t>(r), merges[r][2]));
  }
  return BpeModel(byte_ids, std::move(table));
}

std::vector<int32_t> Encode(const BpeModel& m, std::string_view w) {
  std::vector<int32_t> out;
  m.EncodeWord(w, &out);
  return out;
}

TEST(BpeTest, LowestRankFirst) {
  // Ranks: "bc"=300 (rank 0), "ab"=301 (rank 1). "abc": bc merges first -> a, bc.
  const BpeModel m = MakeModel({{'b', 'c', 300}, {'a', 'b', 301}});
  EXPECT_EQ(Encode(m, "abc"), (std::vector<int32_t>{'a', 300}));
  EXPECT_EQ(Encode(m, "ab"), (std::vector<int32_t>{301}));
  EXPECT_EQ(Encode(m, "x"), (std::vector<int32_t>{'x'}));
  EXPECT_EQ(Encode(m, ""), (std::vector<int32_t>{}));
}

TEST(BpeTest, EqualRanksMergeLeftmostFirst) {
  // Only "aa" exists: in "aaa" both pairs have the same rank; the leftmost merges.
  const BpeModel m = MakeModel({{'a', 'a', 300}});
  EXPECT_EQ(Encode(m, "aaa"), (std::vector<int32_t>{300, 'a'}));
  EXPECT_EQ(Encode(m, "aaaaa"), (std::vector<int32_t>{300, 300, 'a'}));
}

TEST(BpeTest, ChainsAfterMerges) {
  const BpeModel m = MakeModel({{'a', 'a', 300}, {300, 'a', 301}});
  // "aaa": aa + a (rank 0), then (aa, a) rank 1 -> aaa.
  std::vector<int32_t> ids = Encode(m, "aaa");
  EXPECT_EQ(ids, (std::vector<int32_t>{301}));
  // "aaaaa": rank-0 merges at 0 and 2 -> aa aa a; (aa,a) at position 2 -> aa aaa.
  EXPECT_EQ(Encode(m, "aaaaa"), (std::vector<int32_t>{300, 301}));
  // "aaaa": aa aa; (aa, aa) is not a merge.
  EXPECT_EQ(Encode(m, "aaaa"), (std::vector<int32_t>{300, 300}));
}

TEST(BpeTest, LongWordIsFast) {
  const BpeModel m = MakeModel({{'a', 'b', 300}, {300, 300, 301}, {301, 301, 302}});
  std::string w;
  for (int i = 0; i < 100000; ++i) w += "ab";
  const std::vector<int32_t> ids = Encode(m, w);
  // 200000 bytes -> 100000 "ab" -> 50000 "abab" -> 25000 "abababab".
  ASSERT_EQ(ids.size(), 25000u);
  for (int32_t id : ids) ASSERT_EQ(id, 302);
}

TEST(MergeTableTest, FindAndDuplicates) {
  MergeTable t;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(t.Insert(i, i + 1, i, 5000 + i));
  EXPECT_FALSE(t.Insert(3, 4, 99, 1));
  ASSERT_NE(t.Find(3, 4), nullptr);
  EXPECT_EQ(t.Find(3, 4)->rank, 3);
  EXPECT_EQ(t.Find(3, 4)->merged_id, 5003);
  EXPECT_EQ(t.Find(4, 3), nullptr);
  EXPECT_EQ(t.size(), 1000u);
}

TEST(TokenIndexTest, InsertFind) {
  TokenIndex index;
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(index.Insert("tok" + std::to_string(i), i));
  EXPECT_FALSE(index.Insert("tok7", 1));
  EXPECT_EQ(index.Find("tok7"), 7);
  EXPECT_EQ(index.Find("tok4999"), 4999);
  EXPECT_EQ(index.Find("tok5000"), -1);
  EXPECT_EQ(index.Find(""), -1);
}

TEST(WordCacheTest, LruEviction) {
  WordCache cache(16);  // 1 entry per shard
  const int32_t ids[] = {1, 2, 3};
  cache.Insert("hello", ids, 3);
  std::vector<int32_t> out;
  ASSERT_TRUE(cache.Lookup("hello", &out));
  EXPECT_EQ(out, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_FALSE(cache.Lookup("absent", &out));
  // Inserting many words keeps every shard within capacity and stays consistent.
  for (int i = 0; i < 1000; ++i) {
    const int32_t v = i;
    cache.Insert("w" + std::to_string(i), &v, 1);
  }
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    out.clear();
    if (cache.Lookup("w" + std::to_string(i), &out)) {
      ++hits;
      EXPECT_EQ(out, std::vector<int32_t>{i});
    }
  }
  EXPECT_LE(hits, 16);
  EXPECT_GE(hits, 1);
}

}  // namespace
}  // namespace ocular::tokenizer
