// Unit tests on a small hand-built vocabulary (test_vocab.h): pipeline stages, added tokens,
// NFC, invalid UTF-8, decode options and thread-safety. Expected ids come from the spec (which
// id each spelling was given), never from the tokenizer's own output.
#include "model/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/pretokenizer.h"
#include "model/tokenizer/test_vocab.h"

namespace ocular::tokenizer {
namespace {

// Id the spec gave to the token spelling `raw` (raw bytes), or -1.
int32_t SpecId(const TokenizerSpec& spec, std::string_view raw) {
  const std::string spelled = ByteLevelAlphabet().Encode(raw);
  for (const auto& [token, id] : spec.vocab) {
    if (token == spelled) return id;
  }
  return -1;
}

Tokenizer Make(TokenizerSpec spec, TokenizerOptions options = {}) {
  Result<Tokenizer> t = Tokenizer::Create(std::move(spec), options);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

std::vector<std::string> SplitPieces(std::string_view pattern, std::string_view text) {
  Result<RegexSplitter> s = RegexSplitter::Create(pattern);
  EXPECT_TRUE(s.ok());
  std::vector<std::string_view> pieces;
  s->Split(text, &pieces);
  return {pieces.begin(), pieces.end()};
}

TEST(PreTokenizerTest, Qwen2PatternPieces) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "Hello world 123"), (V{"Hello", " world", " ", "1", "2", "3"}));
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "I'm OK!!\n\n"), (V{"I", "'m", " OK", "!!\n\n"}));
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "x\n  \ny"), (V{"x", "\n  \n", "y"}));
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "DON'T"), (V{"DON", "'T"}));  // (?i:) contractions
  EXPECT_EQ(SplitPieces(kQwen2Pattern, ""), V{});
}

TEST(PreTokenizerTest, InvalidUtf8BytesBecomeTheirOwnPieces) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "ab\xFF" "cd"), (V{"ab", "\xFF", "cd"}));
  EXPECT_EQ(SplitPieces(kQwen2Pattern, "\xE4\xBD" " x"), (V{"\xE4\xBD", " x"}));
  EXPECT_EQ(SplitPieces(kQwen2Pattern, std::string("a\0b", 3)), (V{"a", std::string("\0b", 2)}));  // NUL is the optional non-letter before letters
}

TEST(PreTokenizerTest, RejectsBadPatterns) {
  EXPECT_FALSE(RegexSplitter::Create("(unclosed").ok());
  EXPECT_FALSE(RegexSplitter::Create("a*").ok());  // can match empty
  Result<RegexSplitter> s = RegexSplitter::Create(kQwen2Pattern);
  ASSERT_TRUE(s.ok());
}

TEST(PreTokenizerTest, HugeRunsDoNotFail) {
  const std::string letters(1 << 20, 'a');
  EXPECT_EQ(SplitPieces(kQwen2Pattern, letters).size(), 1u);
  const std::string spaces(1 << 20, ' ');
  EXPECT_EQ(SplitPieces(kQwen2Pattern, spaces + "x").size(), 2u);  // spaces, " x"
}

TEST(TokenizerTest, EncodesWordsToTheirMergedTokens) {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  const Tokenizer t = Make(spec);
  EXPECT_EQ(t.Encode("hello world"), (std::vector<int32_t>{SpecId(spec, "hello"), SpecId(spec, " world")}));
  // " and": the merge "an" (from "and") outranks " a" (from " and"), so the word becomes
  // ' ' + "and", and (' ', "and") is not a merge.
  EXPECT_EQ(t.Encode("the and"), (std::vector<int32_t>{SpecId(spec, "the"), ' ', SpecId(spec, "and")}));
  // Digits split one per token; "7" has no merges.
  EXPECT_EQ(t.Encode("77"), (std::vector<int32_t>{'7', '7'}));
  EXPECT_EQ(t.Encode("\xE4\xBD\xA0\xE5\xA5\xBD"), std::vector<int32_t>{SpecId(spec, "\xE4\xBD\xA0\xE5\xA5\xBD")});
  EXPECT_EQ(t.Encode(""), std::vector<int32_t>{});
}

TEST(TokenizerTest, AddedTokens) {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  const Tokenizer t = Make(spec);
  const int32_t end = spec.added_tokens[0].id, im_start = spec.added_tokens[1].id,
                think = spec.added_tokens[2].id;
  EXPECT_EQ(t.Encode("<|end|>"), std::vector<int32_t>{end});
  EXPECT_EQ(t.Encode("hello<|end|><think>the"),
            (std::vector<int32_t>{SpecId(spec, "hello"), end, think, SpecId(spec, "the")}));
  // Near misses are text.
  // Pieces "<|", "end", "|"; none of these byte pairs is a merge.
  EXPECT_EQ(t.Encode("<|end|"), (std::vector<int32_t>{'<', '|', 'e', 'n', 'd', '|'}));
  // parse_special = false: special tokens are text, non-special ones still match.
  const std::vector<int32_t> as_text = t.Encode("<|im_start|><think>", {.parse_special = false});
  ASSERT_FALSE(as_text.empty());
  EXPECT_EQ(as_text.back(), think);
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), im_start), 0);
  std::string bytes;
  ASSERT_TRUE(t.AppendBytes(as_text, false, &bytes).ok());
  EXPECT_EQ(bytes, "<|im_start|><think>");
}

TEST(TokenizerTest, AddedTokenStripAndSingleWord) {
  TokenizerSpec spec = testing::SmallVocabSpec();
  const int32_t base = spec.added_tokens.back().id + 1;
  spec.added_tokens.push_back(AddedToken{base, "[L]", false, false, /*lstrip=*/true, false, false});
  spec.added_tokens.push_back(AddedToken{base + 1, "[R]", false, false, false, /*rstrip=*/true, false});
  spec.added_tokens.push_back(AddedToken{base + 2, "cat", false, false, false, false, /*single_word=*/true});
  const Tokenizer t = Make(spec);
  // lstrip absorbs the spaces before the token, rstrip those after.
  EXPECT_EQ(t.Encode("x  [L]"), (std::vector<int32_t>{'x', base}));
  EXPECT_EQ(t.Encode("[R]  x"), (std::vector<int32_t>{base + 1, 'x'}));
  // single_word: only between non-word characters.
  EXPECT_EQ(t.Encode("cat"), std::vector<int32_t>{base + 2});
  EXPECT_EQ(t.Encode("(cat)"), (std::vector<int32_t>{'(', base + 2, ')'}));
  const std::vector<int32_t> inside = t.Encode("cats");
  EXPECT_EQ(std::count(inside.begin(), inside.end(), base + 2), 0);
}

TEST(TokenizerTest, LongestAddedTokenWins) {
  TokenizerSpec spec = testing::SmallVocabSpec();
  const int32_t base = spec.added_tokens.back().id + 1;
  spec.added_tokens.push_back(AddedToken{base, "<a>", true});
  spec.added_tokens.push_back(AddedToken{base + 1, "<a><b>", true});
  const Tokenizer t = Make(spec);
  EXPECT_EQ(t.Encode("<a><b><a>"), (std::vector<int32_t>{base + 1, base}));
}

TEST(TokenizerTest, NfcNormalizesBeforeMerging) {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  const Tokenizer t = Make(spec);
  // "e" + U+0301 composes to U+00E9 (C3 A9).
  EXPECT_EQ(t.Encode("e\xCC\x81"), (std::vector<int32_t>{0xC3, 0xA9}));
  TokenizerSpec raw = testing::SmallVocabSpec();
  raw.nfc = false;
  EXPECT_EQ(Make(std::move(raw)).Encode("e\xCC\x81"), (std::vector<int32_t>{'e', 0xCC, 0x81}));
}

TEST(TokenizerTest, InvalidUtf8RoundTripsBytes) {
  const Tokenizer t = Make(testing::SmallVocabSpec());
  for (const std::string& s : {std::string("\xFF\xFE"), std::string("ab\xE4\xBD"), std::string("\xC0\x80 the"),
                              std::string("\xED\xA0\x80"), std::string("x\0y", 3)}) {
    std::string bytes;
    ASSERT_TRUE(t.AppendBytes(t.Encode(s), false, &bytes).ok());
    EXPECT_EQ(bytes, s);
  }
  EXPECT_EQ(t.Encode("\xFF\xFE"), (std::vector<int32_t>{0xFF, 0xFE}));
}

TEST(TokenizerTest, DecodeOptionsAndErrors) {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  const Tokenizer t = Make(spec);
  const int32_t end = spec.added_tokens[0].id, think = spec.added_tokens[2].id;
  const std::vector<int32_t> ids = {think, 'h', 'i', end};
  EXPECT_EQ(*t.Decode(ids), "<think>hi<|end|>");
  EXPECT_EQ(*t.Decode(ids, {.skip_special_tokens = true}), "<think>hi");
  EXPECT_EQ(*t.Decode(std::vector<int32_t>{0xE4, 'o', 'k'}), "\xEF\xBF\xBDok");
  EXPECT_FALSE(t.Decode(std::vector<int32_t>{t.size()}).ok());
  EXPECT_FALSE(t.Decode(std::vector<int32_t>{-5}).ok());
  EXPECT_FALSE(t.IdToToken(t.size()).ok());
  EXPECT_EQ(*t.IdToToken(' '), "\xC4\xA0");  // "Ġ"
  EXPECT_EQ(*t.IdToToken(end), "<|end|>");
  EXPECT_EQ(t.TokenToId("<think>"), think);
  EXPECT_EQ(t.TokenToId("nonexistent-token"), std::nullopt);
}

TEST(TokenizerTest, CacheDoesNotChangeResults) {
  const Tokenizer cached = Make(testing::SmallVocabSpec());
  const Tokenizer uncached = Make(testing::SmallVocabSpec(), {.word_cache_entries = 0});
  const std::string text = "the hello world and the hello world def return aaaa == 's";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cached.Encode(text), uncached.Encode(text));
}

TEST(TokenizerTest, ConcurrentEncodeIsSafe) {
  const Tokenizer t = Make(testing::SmallVocabSpec(), {.word_cache_entries = 64});
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("the " + std::to_string(i) + " hello world w" + std::to_string(i % 97));
  std::vector<std::vector<int32_t>> expected;
  const Tokenizer reference = Make(testing::SmallVocabSpec(), {.word_cache_entries = 0});
  for (const std::string& s : texts) expected.push_back(reference.Encode(s));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (int rep = 0; rep < 20; ++rep) {
        for (size_t i = th; i < texts.size(); i += 3) {
          if (t.Encode(texts[i]) != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TokenizerTest, CreateRejectsBadSpecs) {
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.vocab.erase(s.vocab.begin() + 'q');  // a byte token missing
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.vocab.push_back({"duplicate-id", 3});
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.vocab.push_back({"huge-id", kMaxTokenId + 1});
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.merges.push_back({"zz-unknown", "a"});
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.merges.push_back({"q", "q"});  // "qq" is not a vocab entry
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.added_tokens.push_back(AddedToken{s.added_tokens[0].id, "<dup>"});
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
  {
    TokenizerSpec s = testing::SmallVocabSpec();
    s.added_tokens.push_back(AddedToken{999, ""});
    EXPECT_FALSE(Tokenizer::Create(std::move(s)).ok());
  }
}

}  // namespace
}  // namespace ocular::tokenizer
