// Golden tests: the real Qwen3-VL tokenizer (tiny-a checkpoint's tokenizer.json and GGUF)
// against ids and texts produced by HF tokenizers (golden/tokenizer/, README section 4).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "model/tokenizer/detokenizer.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_json.h"
#include "model/tokenizer/utf8.h"
#include "tests/support/golden.h"
#ifdef OCULAR_TOKENIZER_HAS_GGUF
#include "model/tokenizer/load_tokenizer.h"
#endif

namespace ocular::tokenizer {
namespace {

using Json = nlohmann::json;

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<int32_t> Ids(const Json& j) { return j.get<std::vector<int32_t>>(); }

enum class Source { kJson, kGguf };

std::string SourceName(const ::testing::TestParamInfo<Source>& info) {
  return info.param == Source::kJson ? "TokenizerJson" : "Gguf";
}

class GoldenTokenizerTest : public ::testing::TestWithParam<Source> {
 protected:
  // Loads the tokenizer once per source for the whole suite.
  static const Tokenizer* Get(const std::filesystem::path& golden, Source source) {
    static std::unique_ptr<Tokenizer> cached[2];
    std::unique_ptr<Tokenizer>& slot = cached[static_cast<int>(source)];
    if (slot == nullptr) {
      Result<Tokenizer> t = Status(StatusCode::kUnimplemented, "not built");
      Stopwatch watch;
      if (source == Source::kJson) {
        t = LoadTokenizerJsonFile(golden / "models/tiny-a/tokenizer.json");
      } else {
#ifdef OCULAR_TOKENIZER_HAS_GGUF
        t = LoadTokenizer(golden / "models/tiny-a-gguf/tiny-a-f16.gguf");
#endif
      }
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      if (!t.ok()) return nullptr;
      std::printf("tokenizer loaded in %.1f ms\n", watch.ElapsedMs());
      slot = std::make_unique<Tokenizer>(std::move(t).value());
    }
    return slot.get();
  }

  void SetUp() override {
#ifndef OCULAR_TOKENIZER_HAS_GGUF
    if (GetParam() == Source::kGguf) GTEST_SKIP() << "built without the GGUF loader";
#endif
  }
};

TEST_P(GoldenTokenizerTest, EncodesEveryCaseExactly) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Tokenizer* tok = Get(golden, GetParam());
  ASSERT_NE(tok, nullptr);
  const Json doc = Json::parse(testing::ReadFileText(golden / "tokenizer/encode_golden.json"));
  ASSERT_EQ(doc["cases"].size(), 48u);
  for (const Json& c : doc["cases"]) {
    const std::string name = c["name"];
    const std::string input = FromHex(c["utf8_hex"]);
    const std::vector<int32_t> expected = Ids(c["ids"]);
    EXPECT_EQ(tok->Encode(input), expected) << name;
    // Token bytes and vocab spellings of each golden id.
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(tok->TokenBytes(expected[i]), FromHex(c["token_bytes_hex"][i])) << name << " #" << i;
      Result<std::string> spelled = tok->IdToToken(expected[i]);
      ASSERT_TRUE(spelled.ok()) << name;
      EXPECT_EQ(*spelled, c["tokens"][i].get<std::string>()) << name << " #" << i;
    }
    Result<std::string> decoded = tok->Decode(expected);
    ASSERT_TRUE(decoded.ok()) << name;
    EXPECT_EQ(*decoded, c["decoded"].get<std::string>()) << name;
    if (c["roundtrip_exact"].get<bool>()) {
      EXPECT_EQ(*decoded, input) << name;
    }
  }
}

TEST_P(GoldenTokenizerTest, EncodingIsStableUnderTheWordCache) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Tokenizer* tok = Get(golden, GetParam());
  ASSERT_NE(tok, nullptr);
  const Json doc = Json::parse(testing::ReadFileText(golden / "tokenizer/encode_golden.json"));
  // All cases joined by `<|endoftext|>` (added tokens cut the text, so each case is encoded
  // independently), encoded twice (the second time from the word cache).
  std::string all;
  std::vector<int32_t> expected;
  for (const Json& c : doc["cases"]) {
    all += FromHex(c["utf8_hex"]) + "<|endoftext|>";
    for (int32_t id : Ids(c["ids"])) expected.push_back(id);
    expected.push_back(151643);
  }
  EXPECT_EQ(tok->Encode(all), expected);
  EXPECT_EQ(tok->Encode(all), expected);
}

TEST_P(GoldenTokenizerTest, DecodesEveryCaseExactly) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Tokenizer* tok = Get(golden, GetParam());
  ASSERT_NE(tok, nullptr);
  const Json doc = Json::parse(testing::ReadFileText(golden / "tokenizer/decode_golden.json"));
  ASSERT_EQ(doc["cases"].size(), 14u);
  for (const Json& c : doc["cases"]) {
    const std::string name = c["name"];
    const std::vector<int32_t> ids = Ids(c["ids"]);
    std::string bytes;
    ASSERT_TRUE(tok->AppendBytes(ids, false, &bytes).ok());
    EXPECT_EQ(bytes, FromHex(c["bytes_hex"])) << name;
    Result<std::string> text = tok->Decode(ids);
    ASSERT_TRUE(text.ok()) << name;
    EXPECT_EQ(*text, c["text"].get<std::string>()) << name;
    Result<std::string> skipped = tok->Decode(ids, {.skip_special_tokens = true});
    ASSERT_TRUE(skipped.ok()) << name;
    EXPECT_EQ(*skipped, c["text_skip_special"].get<std::string>()) << name;
    for (size_t k = 1; k <= ids.size(); ++k) {
      Result<std::string> prefix = tok->Decode(std::span<const int32_t>(ids.data(), k));
      ASSERT_TRUE(prefix.ok());
      EXPECT_EQ(*prefix, c["prefix_texts"][k - 1].get<std::string>()) << name << " k=" << k;
    }
  }
}

TEST_P(GoldenTokenizerTest, StreamingMatchesPrefixTexts) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Tokenizer* tok = Get(golden, GetParam());
  ASSERT_NE(tok, nullptr);
  const Json doc = Json::parse(testing::ReadFileText(golden / "tokenizer/decode_golden.json"));
  for (const Json& c : doc["cases"]) {
    const std::string name = c["name"];
    for (bool skip : {false, true}) {
      IncrementalDetokenizer detok(*tok, {.skip_special_tokens = skip});
      std::string emitted;
      const std::vector<int32_t> ids = Ids(c["ids"]);
      for (size_t k = 0; k < ids.size(); ++k) {
        Result<StreamChunk> chunk = detok.Add(ids[k]);
        ASSERT_TRUE(chunk.ok()) << name;
        EXPECT_FALSE(chunk->stopped);
        // A chunk never ends inside a character and never contains a partial one.
        EXPECT_TRUE(IsValidUtf8(chunk->text)) << name;
        emitted += chunk->text;
        if (!skip) {
          // Ending the stream here must give exactly the golden decode of ids[:k+1].
          IncrementalDetokenizer copy = detok;
          EXPECT_EQ(emitted + copy.Finish().text, c["prefix_texts"][k].get<std::string>())
              << name << " k=" << k + 1;
        }
      }
      emitted += detok.Finish().text;
      EXPECT_EQ(emitted, c[skip ? "text_skip_special" : "text"].get<std::string>()) << name;
    }
  }
}

TEST_P(GoldenTokenizerTest, VocabularyShape) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Tokenizer* tok = Get(golden, GetParam());
  ASSERT_NE(tok, nullptr);
  // 151,643 byte-level BPE tokens + 26 added tokens; the model pads to 151,936 but those
  // padding ids are not tokens.
  EXPECT_EQ(tok->size(), 151669);
  EXPECT_EQ(tok->num_merges(), 151387u);
  EXPECT_FALSE(tok->IdToToken(151669).ok());
  EXPECT_FALSE(tok->IdToToken(151935).ok());
  EXPECT_FALSE(tok->IdToToken(-1).ok());
  EXPECT_FALSE(tok->Decode(std::vector<int32_t>{9707, 151700}).ok());
  EXPECT_EQ(tok->TokenToId("<|im_end|>"), 151645);
  EXPECT_EQ(tok->TokenToId("<think>"), 151667);
  EXPECT_EQ(tok->TokenToId("\xC4\xA0world"), 1879);  // "Ġworld"
  EXPECT_TRUE(tok->IsSpecial(151645));
  EXPECT_FALSE(tok->IsSpecial(151667));
  EXPECT_TRUE(tok->IsAdded(151667));
  EXPECT_TRUE(tok->nfc());
  if (GetParam() == Source::kGguf) {
    EXPECT_EQ(tok->eos_id(), 151645);
    EXPECT_EQ(tok->bos_id(), 151643);
  }
}

TEST_P(GoldenTokenizerTest, SpecialTokensAsTextWhenNotParsed) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const Tokenizer* tok = Get(golden, GetParam());
  ASSERT_NE(tok, nullptr);
  // With parse_special off `<|im_start|>` is ordinary text, encoded exactly like the golden
  // "fake special" spellings that are not tokens: `<|im_start| >` starts with 27, 91, 318, 4906.
  const std::vector<int32_t> ids = tok->Encode("<|im_start|>", {.parse_special = false});
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + 4), (std::vector<int32_t>{27, 91, 318, 4906}));
  Result<std::string> back = tok->Decode(ids);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "<|im_start|>");
  // Non-special added tokens are still matched.
  EXPECT_EQ(tok->Encode("<think>", {.parse_special = false}), std::vector<int32_t>{151667});
}

INSTANTIATE_TEST_SUITE_P(Sources, GoldenTokenizerTest, ::testing::Values(Source::kJson, Source::kGguf),
                         SourceName);

}  // namespace
}  // namespace ocular::tokenizer
