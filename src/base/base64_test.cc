#include "base/base64.h"

#include <gtest/gtest.h>

#include <vector>

namespace ocular {
namespace {

TEST(Base64Test, Rfc4648TestVectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(Base64Encode(std::string_view("")), "");
  EXPECT_EQ(Base64Encode(std::string_view("f")), "Zg==");
  EXPECT_EQ(Base64Encode(std::string_view("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(Base64Encode(std::string_view("foob")), "Zm9vYg==");
  EXPECT_EQ(Base64Encode(std::string_view("fooba")), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64Test, HighBytesUseTheLastSymbols) {
  // 0xff 0xff 0xff is six 1-bits four times ('/' = 63); 0xfb 0xef 0xbe = 62 62 62 62 ('+').
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{0xff, 0xff, 0xff}), "////");
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{0xfb, 0xef, 0xbe}), "++++");
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{0x00, 0x10, 0x83}), "ABCD");
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{0xff}), "/w==");
}

}  // namespace
}  // namespace ocular
