#include "model/tokenizer/utf8.h"

#include <gtest/gtest.h>

#include "model/tokenizer/byte_level.h"

namespace ocular::tokenizer {
namespace {

const std::string kR(kReplacementChar);

// Expected values follow Unicode §3.9 / WHATWG "maximal subpart" substitution (the examples
// in golden/README.md section 4 and Unicode Table 3-8).
TEST(LossyUtf8Test, MaximalSubparts) {
  EXPECT_EQ(LossyUtf8(""), "");
  EXPECT_EQ(LossyUtf8("abc"), "abc");
  EXPECT_EQ(LossyUtf8("\xE4"), kR);
  EXPECT_EQ(LossyUtf8("\xE4\xBD"), kR);
  EXPECT_EQ(LossyUtf8("\xE4\xBD\xA0"), "\xE4\xBD\xA0");
  EXPECT_EQ(LossyUtf8("\xE4ok"), kR + "ok");
  EXPECT_EQ(LossyUtf8("\xC0\x80"), kR + kR);
  EXPECT_EQ(LossyUtf8("\xED\xA0\x80"), kR + kR + kR);
  EXPECT_EQ(LossyUtf8("\xFF\xFE"), kR + kR);
  EXPECT_EQ(LossyUtf8("\x80"), kR);
  EXPECT_EQ(LossyUtf8("\xF4\x90\x80\x80"), kR + kR + kR + kR);  // > U+10FFFF
  EXPECT_EQ(LossyUtf8("\xF0\x9F\x98"), kR);                      // truncated emoji
  EXPECT_EQ(LossyUtf8("\xF0\x9F\x98" "A"), kR + "A");
  EXPECT_EQ(LossyUtf8("\xE0\x80\x80"), kR + kR + kR);  // overlong 3-byte
  // Unicode Table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a R R R b R c R R d.
  EXPECT_EQ(LossyUtf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + kR + kR + kR + "b" + kR + "c" + kR + kR + "d");
}

TEST(LossyUtf8Test, PrefixHoldsOnlyIncompleteTail) {
  std::string out;
  EXPECT_EQ(AppendLossyUtf8Prefix("ab\xE4\xBD", &out), 2u);
  EXPECT_EQ(out, "ab");
  out.clear();
  EXPECT_EQ(AppendLossyUtf8Prefix("\xE4" "A\xF0\x9F", &out), 2u);
  EXPECT_EQ(out, kR + "A");
  out.clear();
  EXPECT_EQ(AppendLossyUtf8Prefix("\xC3\xA9", &out), 2u);
  EXPECT_EQ(out, "\xC3\xA9");
}

TEST(Utf8Test, Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii text longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xC3"));
  EXPECT_EQ(ValidUtf8PrefixLength("abcdefghij\xFFzz"), 10u);
}

TEST(Utf8Test, AppendUtf8EncodesScalars) {
  std::string s;
  AppendUtf8(0x24, &s);
  AppendUtf8(0xA2, &s);
  AppendUtf8(0x20AC, &s);
  AppendUtf8(0x10348, &s);
  EXPECT_EQ(s, "\x24\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88");  // RFC 3629 / Wikipedia examples
}

// GPT-2's bytes_to_unicode table: space -> U+0120 'Ġ', newline -> U+010A 'Ċ', '!' -> '!',
// 0xAD (soft hyphen, not printable) -> U+0143 'Ń' (the last of the 68 remapped bytes).
TEST(ByteLevelTest, KnownSpellings) {
  const ByteLevelAlphabet a;
  EXPECT_EQ(a.CharForByte(' '), 0x120u);
  EXPECT_EQ(a.CharForByte('\n'), 0x10Au);
  EXPECT_EQ(a.CharForByte('!'), static_cast<char32_t>('!'));
  EXPECT_EQ(a.CharForByte(0x00), 0x100u);
  EXPECT_EQ(a.CharForByte(0xAD), 0x143u);
  EXPECT_EQ(a.Encode(" world"), "\xC4\xA0world");
  EXPECT_EQ(a.Decode("\xC4\xA0world"), " world");
  EXPECT_EQ(a.Decode(" world"), std::nullopt);  // a raw space is not in the alphabet
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_EQ(a.Decode(a.Encode(one)), one) << b;
  }
}

}  // namespace
}  // namespace ocular::tokenizer
