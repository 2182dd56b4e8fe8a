// Property tests: decode(encode(s)) == s for random byte strings (byte-exact, including
// invalid UTF-8, with the normalizer off) and random NFC Unicode text (normalizer on), and
// "streamed chunks concatenate to the full decode" for random id streams. Uses rapidcheck
// when available, else a seeded random loop with the same properties.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <random>
#include <string>

#include "model/tokenizer/detokenizer.h"
#include "model/tokenizer/test_vocab.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"

#ifdef OCULAR_HAVE_RAPIDCHECK
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#endif

namespace ocular::tokenizer {
namespace {

const Tokenizer& WithNfc() {
  static const Tokenizer t = Tokenizer::Create(testing::SmallVocabSpec()).value();
  return t;
}
const Tokenizer& WithoutNfc() {
  static const Tokenizer t = [] {
    TokenizerSpec spec = testing::SmallVocabSpec();
    spec.nfc = false;
    return Tokenizer::Create(std::move(spec)).value();
  }();
  return t;
}

std::string RoundTripBytes(const Tokenizer& t, const std::string& s) {
  std::string bytes;
  EXPECT_TRUE(t.AppendBytes(t.Encode(s), false, &bytes).ok());
  return bytes;
}

// NFC straight from utf8proc (the tokenizer's own normalizer path is not the oracle).
std::string Nfc(const std::string& s) {
  utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
  if (out == nullptr) return s;
  std::string r(reinterpret_cast<char*>(out));
  std::free(out);
  return r;
}

// Random scalar values from ranges that exercise the pre-tokenizer classes: ASCII, Latin with
// combining marks, CJK, Hangul, emoji, whitespace of all kinds, private use, noncharacters.
std::string TextFromCodePoints(const std::vector<uint32_t>& raw) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {
      {0x20, 0x7E}, {0x00, 0x1F}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x4E00, 0x4E40},
      {0xAC00, 0xAC20}, {0x1F600, 0x1F64F}, {0x2000, 0x200D}, {0xE000, 0xE010},
      {0xFFF0, 0xFFFF}, {0x10FFF0, 0x10FFFF}, {0x0600, 0x06FF}, {0x0E00, 0x0E7F}};
  std::string s;
  for (uint32_t r : raw) {
    const auto& [lo, hi] = kRanges[r % std::size(kRanges)];
    const char32_t cp = lo + (r / std::size(kRanges)) % (hi - lo + 1);
    AppendUtf8(cp, &s);
  }
  return s;
}

void CheckBytes(const std::string& s) { EXPECT_EQ(RoundTripBytes(WithoutNfc(), s), s); }

void CheckUnicode(const std::string& raw_text) {
  const std::string s = Nfc(raw_text);
  const Result<std::string> decoded = WithNfc().Decode(WithNfc().Encode(s));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, s);
}

void CheckStream(const std::vector<uint32_t>& raw_ids) {
  const Tokenizer& t = WithNfc();
  std::vector<int32_t> ids;
  for (uint32_t r : raw_ids) ids.push_back(static_cast<int32_t>(r % static_cast<uint32_t>(t.size())));
  for (bool skip : {false, true}) {
    IncrementalDetokenizer d(t, {.skip_special_tokens = skip});
    std::string text;
    for (int32_t id : ids) text += d.Add(id).value().text;
    text += d.Finish().text;
    EXPECT_EQ(text, *t.Decode(ids, {.skip_special_tokens = skip}));
  }
}

#ifdef OCULAR_HAVE_RAPIDCHECK

RC_GTEST_PROP(TokenizerProperty, RandomBytesRoundTrip, (const std::string& s)) { CheckBytes(s); }

RC_GTEST_PROP(TokenizerProperty, RandomBytesWithAddedTokensRoundTrip,
              (const std::string& a, const std::string& b)) {
  CheckBytes(a + "<|end|>" + b + "<think>");
}

RC_GTEST_PROP(TokenizerProperty, RandomUnicodeRoundTrips, (const std::vector<uint32_t>& cps)) {
  CheckUnicode(TextFromCodePoints(cps));
}

RC_GTEST_PROP(TokenizerProperty, StreamConcatenationEqualsDecode, (const std::vector<uint32_t>& ids)) {
  CheckStream(ids);
}

#else

TEST(TokenizerProperty, SeededRandomLoop) {
  std::mt19937 rng(42);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    CheckBytes(bytes);
    CheckBytes(bytes + "<|end|>" + bytes + "<think>");
    std::vector<uint32_t> raw(rng() % 48);
    for (uint32_t& r : raw) r = rng();
    CheckUnicode(TextFromCodePoints(raw));
    CheckStream(raw);
  }
}

#endif

}  // namespace
}  // namespace ocular::tokenizer
