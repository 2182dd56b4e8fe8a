#include "cache/features/feature_codec.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ocular::features {
namespace {

FeatureEntry MakeEntry() {
  FeatureEntry e;
  e.embeddings = FeatureArray::Zeros(3, 5);
  for (int i = 0; i < 15; ++i) e.embeddings.floats()[i] = 0.5f * i - 2.0f;
  for (int level = 0; level < 3; ++level) {
    e.deepstack.push_back(FeatureArray::Zeros(3, 5));
    for (int i = 0; i < 15; ++i) e.deepstack.back().floats()[i] = 100.0f * level + i;
  }
  e.grid = {1, 6, 10};
  e.num_tokens = 3;
  e.encode_ns = 123456789;
  return e;
}

bool SameArray(const FeatureArray& a, const FeatureArray& b) {
  return a.rows == b.rows && a.cols == b.cols && a.byte_size() == b.byte_size() &&
         std::memcmp(a.data.data(), b.data.data(), a.byte_size()) == 0;
}

TEST(FeatureCodecTest, RoundTripsEveryField) {
  const FeatureEntry e = MakeEntry();
  const std::string bytes = EncodeFeatureEntry(e);
  // Header 56 (magic 4, version 4, five i64, count 4, pad 4) + 4 shapes x 16 + 4 x 15 floats
  // + checksum 8.
  EXPECT_EQ(bytes.size(), 56u + 64u + 240u + 8u);
  Result<std::shared_ptr<const FeatureEntry>> d = DecodeFeatureEntry(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const FeatureEntry& got = **d;
  EXPECT_TRUE(got.grid == e.grid);
  EXPECT_EQ(got.num_tokens, 3);
  EXPECT_EQ(got.encode_ns, 123456789);
  EXPECT_TRUE(SameArray(got.embeddings, e.embeddings));
  ASSERT_EQ(got.deepstack.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SameArray(got.deepstack[i], e.deepstack[i]));
  EXPECT_EQ(got.ByteSize(), e.ByteSize());
}

TEST(FeatureCodecTest, RejectsEveryCorruption) {
  const std::string good = EncodeFeatureEntry(MakeEntry());
  // Any single flipped byte is caught (magic, version, sizes, payload or checksum).
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(DecodeFeatureEntry(bad).ok()) << "byte " << i;
  }
  for (size_t n : {size_t{0}, size_t{3}, size_t{67}, good.size() - 1}) {
    EXPECT_EQ(DecodeFeatureEntry(good.substr(0, n)).status().code(), StatusCode::kDataLoss) << n;
  }
  EXPECT_FALSE(DecodeFeatureEntry(good + "x").ok());
}

}  // namespace
}  // namespace ocular::features
