// IncrementalDetokenizer: UTF-8 holding, stop strings across token boundaries, and the
// invariant "concatenated chunks == full decode", checked against a brute-force reference.
#include "model/tokenizer/detokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "model/tokenizer/test_vocab.h"
#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {
namespace {

const Tokenizer& Small() {
  static const Tokenizer t = Tokenizer::Create(testing::SmallVocabSpec()).value();
  return t;
}

struct Streamed {
  std::vector<std::string> chunks;  // one per Add, then Finish
  std::string text;
  bool stopped = false;
  int stop_index = -1;
};

Streamed Stream(const std::vector<int32_t>& ids, DetokenizerOptions options) {
  IncrementalDetokenizer d(Small(), std::move(options));
  Streamed out;
  for (int32_t id : ids) {
    Result<StreamChunk> c = d.Add(id);
    EXPECT_TRUE(c.ok());
    out.chunks.push_back(c->text);
    out.text += c->text;
    if (c->stopped) {
      EXPECT_FALSE(out.stopped) << "stop reported twice";
      out.stopped = true;
      out.stop_index = c->stop_index;
    }
  }
  StreamChunk last = d.Finish();
  out.chunks.push_back(last.text);
  out.text += last.text;
  if (last.stopped) {
    out.stopped = true;
    out.stop_index = last.stop_index;
  }
  return out;
}

std::vector<int32_t> Bytes(std::string_view s) {
  std::vector<int32_t> ids;
  for (char c : s) ids.push_back(static_cast<uint8_t>(c));  // byte b has id b
  return ids;
}

TEST(DetokenizerTest, HoldsIncompleteCharacters) {
  // 你 = E4 BD A0 fed byte by byte: nothing until the third byte.
  const Streamed s = Stream(Bytes("a\xE4\xBD\xA0" "b"), {});
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"a", "", "", "\xE4\xBD\xA0", "b", ""}));
}

TEST(DetokenizerTest, InvalidBytesFlushAsReplacement) {
  const std::string r(kReplacementChar);
  // E4 then 'o': E4 is known bad only once 'o' arrives.
  EXPECT_EQ(Stream(Bytes("\xE4o"), {}).chunks, (std::vector<std::string>{"", r + "o", ""}));
  // A trailing incomplete sequence is flushed by Finish.
  EXPECT_EQ(Stream(Bytes("x\xF0\x9F"), {}).chunks, (std::vector<std::string>{"x", "", "", r}));
  // FF is bad immediately.
  EXPECT_EQ(Stream(Bytes("\xFF"), {}).chunks, (std::vector<std::string>{r, ""}));
}

TEST(DetokenizerTest, StopStringAcrossTokens) {
  const Streamed s = Stream(Bytes("Hello STOP world"), {.stop_strings = {"STOP"}});
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_index, 0);
  EXPECT_EQ(s.text, "Hello ");
  // "S", "T", "O" are held back while they could start the stop string.
  EXPECT_EQ(s.chunks[6], "");
  EXPECT_EQ(s.chunks[7], "");
}

TEST(DetokenizerTest, FalseStartIsReleased) {
  const Streamed s = Stream(Bytes("ST0P"), {.stop_strings = {"STOP"}});
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"", "", "ST0", "P", ""}));
}

TEST(DetokenizerTest, HeldPrefixReleasedAtFinish) {
  const Streamed s = Stream(Bytes("abST"), {.stop_strings = {"STOP"}});
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.text, "abST");
  EXPECT_EQ(s.chunks.back(), "ST");
}

TEST(DetokenizerTest, StopInsideOneTokenAndMultibyte) {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  const Tokenizer& t = Small();
  const std::vector<int32_t> ids = t.Encode("the hello world");
  // " wor" lies inside the single token " world".
  Streamed s = Stream(ids, {.stop_strings = {"xyz", " wor"}});
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_index, 1);
  EXPECT_EQ(s.text, "the hello");
  // A multi-byte stop string fed byte by byte.
  s = Stream(Bytes("ab\xE4\xBD\xA0\xE5\xA5\xBD!"), {.stop_strings = {"\xE5\xA5\xBD"}});
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.text, "ab\xE4\xBD\xA0");
}

TEST(DetokenizerTest, EarliestStopWinsAndNothingAfterStop) {
  Streamed s = Stream(Bytes("xxabcd"), {.stop_strings = {"cd", "abc"}});
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_index, 1);
  EXPECT_EQ(s.text, "xx");
  s = Stream(Bytes("stop here, then more text"), {.stop_strings = {"stop"}});
  EXPECT_EQ(s.text, "");
  for (size_t i = 4; i < s.chunks.size(); ++i) EXPECT_EQ(s.chunks[i], "");
}

TEST(DetokenizerTest, SpecialTokensSkippedOrKept) {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  const int32_t end = spec.added_tokens[0].id, think = spec.added_tokens[2].id;
  const std::vector<int32_t> ids = {think, 'h', end, 'i'};
  EXPECT_EQ(Stream(ids, {.skip_special_tokens = true}).text, "<think>hi");
  EXPECT_EQ(Stream(ids, {}).text, "<think>h<|end|>i");
  // A stop string can match the text of a kept special token.
  const Streamed s = Stream(ids, {.stop_strings = {"<|end|>"}});
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.text, "<think>h");
}

TEST(DetokenizerTest, UnknownIdIsAnError) {
  IncrementalDetokenizer d(Small(), {});
  EXPECT_FALSE(d.Add(Small().size()).ok());
  EXPECT_FALSE(d.Add(-1).ok());
  EXPECT_TRUE(d.Add('a').ok());
  EXPECT_EQ(d.Finish().text, "");  // 'a' was emitted by Add already
}

// Reference for stop handling: after each token k, the final text so far is the lossy decode
// of the bytes with an incomplete tail held; the stream stops at the first k where a stop
// string occurs in it, emitting everything before its earliest occurrence.
Streamed Reference(const std::vector<int32_t>& ids, const std::vector<std::string>& stops) {
  Streamed out;
  std::string bytes;
  auto check = [&](const std::string& text) {
    size_t best = std::string::npos;
    for (size_t i = 0; i < stops.size(); ++i) {
      const size_t p = text.find(stops[i]);
      if (p < best) {
        best = p;
        out.stop_index = static_cast<int>(i);
      }
    }
    if (best == std::string::npos) return false;
    out.stopped = true;
    out.text = text.substr(0, best);
    return true;
  };
  for (int32_t id : ids) {
    bytes += Small().TokenBytes(id);
    std::string text;
    AppendLossyUtf8Prefix(bytes, &text);
    if (check(text)) return out;
  }
  const std::string full = LossyUtf8(bytes);
  if (!check(full)) out.text = full;
  return out;
}

TEST(DetokenizerTest, RandomStreamsMatchReference) {
  std::mt19937 rng(1234);
  const Tokenizer& t = Small();
  // Ids biased toward bytes that build and break UTF-8 sequences, plus merged tokens.
  const std::vector<int32_t> interesting = {'a', 'b', 'c', ' ', 0xE4, 0xBD, 0xA0, 0xF0, 0x9F,
                                            0x98, 0x80, 0xC3, 0xA9, 0xFF, 0xED, 0xA0};
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<int32_t> ids(rng() % 12);
    for (int32_t& id : ids) {
      id = rng() % 3 == 0 ? static_cast<int32_t>(rng() % t.size()) : interesting[rng() % interesting.size()];
    }
    std::vector<std::string> stops;
    const int num_stops = static_cast<int>(rng() % 3);
    for (int s = 0; s < num_stops; ++s) {
      // Stops drawn from the decoded text itself so they often match.
      const std::string text = *t.Decode(ids);
      if (text.empty()) break;
      const size_t a = rng() % text.size();
      const size_t n = 1 + rng() % 4;
      std::string stop = text.substr(a, n);
      if (!IsValidUtf8(stop)) stop = "bc";
      stops.push_back(stop);
    }
    const Streamed got = Stream(ids, {.stop_strings = stops});
    const Streamed want = Reference(ids, stops);
    ASSERT_EQ(got.stopped, want.stopped) << iter;
    ASSERT_EQ(got.text, want.text) << iter;
    if (want.stopped) {
      ASSERT_EQ(got.stop_index, want.stop_index) << iter;
    } else {
      ASSERT_EQ(got.text, *t.Decode(ids)) << iter;
    }
    for (const std::string& chunk : got.chunks) ASSERT_TRUE(IsValidUtf8(chunk)) << iter;
  }
}

}  // namespace
}  // namespace ocular::tokenizer
