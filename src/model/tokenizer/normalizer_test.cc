#include "model/tokenizer/normalizer.h"

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <random>

#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {
namespace {

// Oracle: utf8proc's whole-string NFC (AppendNfc normalizes piecewise with a fast path).
std::string Reference(const std::string& s) {
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                          static_cast<utf8proc_ssize_t>(s.size()), &out,
                                          static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  EXPECT_GE(n, 0);
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);
  return r;
}

std::string Nfc(const std::string& s) {
  std::string out;
  AppendNfc(s, &out);
  return out;
}

TEST(NormalizerTest, KnownCompositions) {
  EXPECT_EQ(Nfc("cafe\xCC\x81"), "caf\xC3\xA9");               // e + U+0301 -> é
  EXPECT_EQ(Nfc("\xE2\x84\xA6"), "\xCE\xA9");                  // U+2126 OHM -> U+03A9
  EXPECT_EQ(Nfc("\xE3\x81\x8B\xE3\x82\x99"), "\xE3\x81\x8C");  // か + U+3099 -> が
  EXPECT_EQ(Nfc("\xEA\xB0\x80\xE1\x86\xA8"), "\xEA\xB0\x81");  // 가 + U+11A8 -> 각
  EXPECT_EQ(Nfc("\xEF\xA4\x80"), "\xE8\xB1\x88");              // U+F900 -> U+8C48
  EXPECT_EQ(Nfc("a\xFF" "e\xCC\x81"), "a\xFF\xC3\xA9");         // invalid byte kept
  EXPECT_EQ(Nfc("\xFF\xCC\x81"), "\xFF\xCC\x81");               // nothing to compose with
}

TEST(NormalizerTest, MatchesWholeStringNfcOnRandomText) {
  // Mixes safe ranges with the characters that break them (marks, singletons, jamo).
  const std::vector<char32_t> pool = {
      'a', 'e', 'o', ' ', 0xE9, 0x300, 0x301, 0x308, 0x323, 0x338, 0x483, 0x401, 0x415, 0x2000,
      0x2001, 0x2126, 0x212B, 0x2203, 0x3099, 0x309A, 0x304B, 0x30AB, 0x3042, 0x1100, 0x1161,
      0x11A8, 0xAC00, 0xAC01, 0xF900, 0x4E00, 0x1F600, 0x2ADC, 0x0374, 0x0F73, 0x0344, 0x1E0A,
      0x0DDA, 0x0DCA, 0x0DD9, 0x302A, 0x05B0, 0x0627, 0x0653};
  std::mt19937 rng(99);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    for (int i = 0, n = static_cast<int>(rng() % 12); i < n; ++i) AppendUtf8(pool[rng() % pool.size()], &s);
    ASSERT_EQ(Nfc(s), Reference(s)) << iter;
  }
}

}  // namespace
}  // namespace ocular::tokenizer
