// tokenizer.json loading: equivalence with the in-memory spec, both merge formats, and clean
// errors for malformed or unsupported files.
#include "model/tokenizer/tokenizer_json.h"

#include <gtest/gtest.h>

#include <functional>

#include "model/tokenizer/test_vocab.h"

namespace ocular::tokenizer {
namespace {

using Json = nlohmann::json;

Json Base() { return testing::SpecToTokenizerJson(testing::SmallVocabSpec()); }

const char* kSample = "the hello world, 你好 <think>and<|end|> 123 \xFF!";

TEST(TokenizerJsonTest, LoadsLikeTheSpec) {
  Result<Tokenizer> from_json = LoadTokenizerJson(Base().dump());
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  Result<Tokenizer> from_spec = Tokenizer::Create(testing::SmallVocabSpec());
  ASSERT_TRUE(from_spec.ok());
  EXPECT_EQ(from_json->Encode(kSample), from_spec->Encode(kSample));
  EXPECT_EQ(from_json->size(), from_spec->size());
  EXPECT_TRUE(from_json->nfc());
  EXPECT_FALSE(from_json->IsSpecial(from_json->size() - 1));  // <think>
}

TEST(TokenizerJsonTest, MergesAsPairs) {
  Json j = Base();
  Json pairs = Json::array();
  for (const Json& m : j["model"]["merges"]) {
    const std::string s = m;
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  j["model"]["merges"] = pairs;
  Result<Tokenizer> t = LoadTokenizerJson(j.dump());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->Encode(kSample), Tokenizer::Create(testing::SmallVocabSpec())->Encode(kSample));
}

TEST(TokenizerJsonTest, Gpt2StyleByteLevelPreTokenizer) {
  Json j = Base();
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  j["normalizer"] = nullptr;
  Result<Tokenizer> t = LoadTokenizerJson(j.dump());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  // GPT-2 keeps digit runs together: "123" is one piece (no merges: 3 byte tokens) and the
  // leading space joins it: " 123" -> ' ', '1', '2', '3'.
  EXPECT_EQ(t->Encode(" 123"), (std::vector<int32_t>{' ', '1', '2', '3'}));
  EXPECT_FALSE(t->nfc());
}

struct BadCase {
  const char* name;
  std::function<void(Json&)> mutate;
  StatusCode code;
};

TEST(TokenizerJsonTest, MalformedFilesGiveCleanErrors) {
  const StatusCode kBad = StatusCode::kInvalidArgument;
  const StatusCode kUnsupported = StatusCode::kUnimplemented;
  const std::vector<BadCase> cases = {
      {"model missing", [](Json& j) { j.erase("model"); }, kBad},
      {"model not object", [](Json& j) { j["model"] = 5; }, kBad},
      {"vocab missing", [](Json& j) { j["model"].erase("vocab"); }, kBad},
      {"vocab array", [](Json& j) { j["model"]["vocab"] = Json::array({1, 2}); }, kBad},
      {"vocab string id", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = "7"; }, kBad},
      {"vocab float id", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = 1.5; }, kBad},
      {"vocab negative id", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = -1; }, kBad},
      {"vocab huge id", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = 1ll << 40; }, kBad},
      {"vocab huge unsigned id", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = ~0ull; }, kBad},
      {"vocab duplicate id", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = 5; }, kBad},
      {"vocab nested object", [](Json& j) { j["model"]["vocab"]["SECRET_PAYLOAD"] = Json::object(); }, kBad},
      {"vocab empty", [](Json& j) { j["model"]["vocab"] = Json::object(); }, kBad},
      {"merges not array", [](Json& j) { j["model"]["merges"] = "a b"; }, kBad},
      {"merge without space", [](Json& j) { j["model"]["merges"].push_back("SECRET_PAYLOAD"); }, kBad},
      {"merge with two spaces", [](Json& j) { j["model"]["merges"].push_back("a b c"); }, kBad},
      {"merge pair of ints", [](Json& j) { j["model"]["merges"].push_back({1, 2}); }, kBad},
      {"merge pair of one", [](Json& j) { j["model"]["merges"].push_back({"a"}); }, kBad},
      {"merge pair of three", [](Json& j) { j["model"]["merges"].push_back({"a", "b", "c"}); }, kBad},
      {"merge object", [](Json& j) { j["model"]["merges"].push_back(Json::object()); }, kBad},
      {"merge unknown token", [](Json& j) { j["model"]["merges"].push_back("SECRET_PAYLOAD a"); }, kBad},
      {"merge result unknown", [](Json& j) { j["model"]["merges"].push_back("q q"); }, kBad},
      {"added not array", [](Json& j) { j["added_tokens"] = Json::object(); }, kBad},
      {"added without id", [](Json& j) { j["added_tokens"][0].erase("id"); }, kBad},
      {"added negative id", [](Json& j) { j["added_tokens"][0]["id"] = -3; }, kBad},
      {"added content int", [](Json& j) { j["added_tokens"][0]["content"] = 3; }, kBad},
      {"added content empty", [](Json& j) { j["added_tokens"][0]["content"] = ""; }, kBad},
      {"added special string", [](Json& j) { j["added_tokens"][0]["special"] = "yes"; }, kBad},
      {"added duplicate id", [](Json& j) { j["added_tokens"][1]["id"] = j["added_tokens"][0]["id"]; }, kBad},
      {"added not object", [](Json& j) { j["added_tokens"].push_back(7); }, kBad},
      {"bad regex", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(SECRET_PAYLOAD"; }, kBad},
      {"regex matches empty", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "x*"; }, kBad},
      {"normalizer NFKC", [](Json& j) { j["normalizer"] = {{"type", "NFKC"}}; }, kUnsupported},
      {"normalizer not object", [](Json& j) { j["normalizer"] = 3; }, kBad},
      {"model WordPiece", [](Json& j) { j["model"]["type"] = "WordPiece"; }, kUnsupported},
      {"byte fallback", [](Json& j) { j["model"]["byte_fallback"] = true; }, kUnsupported},
      {"dropout", [](Json& j) { j["model"]["dropout"] = 0.1; }, kUnsupported},
      {"suffix", [](Json& j) { j["model"]["end_of_word_suffix"] = "</w>"; }, kUnsupported},
      {"decoder WordPiece", [](Json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, kUnsupported},
      {"pre-tokenizer Whitespace", [](Json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }, kUnsupported},
      {"split inverted", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["invert"] = true; }, kUnsupported},
      {"split string pattern", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"String", " "}}; }, kUnsupported},
      {"add prefix space", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true; }, kUnsupported},
  };
  for (const BadCase& c : cases) {
    Json j = Base();
    c.mutate(j);
    Result<Tokenizer> t = LoadTokenizerJson(j.dump());
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_EQ(t.status().code(), c.code) << c.name << ": " << t.status().ToString();
    EXPECT_EQ(t.status().message().find("SECRET_PAYLOAD"), std::string::npos) << c.name;
  }
}

TEST(TokenizerJsonTest, NotJson) {
  for (const char* text : {"", "{", "[]", "null", "\"x\"", "{\"model\": {\"vocab\": {\"a\": 1,}}}",
                           "{\"model\": {\"vocab\": {\"a\": 1}, \"merges\": [\"a b\"}}"}) {
    Result<Tokenizer> t = LoadTokenizerJson(text);
    EXPECT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(TokenizerJsonTest, DeeplyNestedInputIsRejectedWithoutCrashing) {
  const std::string deep = "{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(LoadTokenizerJson(deep).ok());
}

TEST(TokenizerJsonTest, MissingFileIsNotFound) {
  Result<Tokenizer> t = LoadTokenizerJsonFile("/nonexistent-dir/tokenizer.json");
  ASSERT_FALSE(t.ok());
}

}  // namespace
}  // namespace ocular::tokenizer
