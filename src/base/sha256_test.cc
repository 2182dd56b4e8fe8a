#include "base/sha256.h"

#include <gtest/gtest.h>

namespace ocular {
namespace {

// Test vectors from FIPS 180-2 (independent reference values).
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256::Hash("", 0)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256::Hash("abc", 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("ab");
  h.Update("c");
  EXPECT_EQ(ToHex(h.Finish()), ToHex(Sha256::Hash("abc", 3)));
}

}  // namespace
}  // namespace ocular
