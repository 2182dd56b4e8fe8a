#include "model/tokenizer/test_vocab.h"

#include <map>

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/pretokenizer.h"

namespace ocular::tokenizer::testing {

const std::vector<std::string>& SmallVocabWords() {
  static const std::vector<std::string> kWords = {
      "the", " the", "and", " and", "ing", "hello", " world", "er", "in", " t", "  ", "    ",
      "\n\n", "def", " return", "\xE4\xBD\xA0\xE5\xA5\xBD" /* 你好 */, "aaaa", "==", "'s",
  };
  return kWords;
}

TokenizerSpec SmallVocabSpec() {
  const ByteLevelAlphabet alphabet;
  TokenizerSpec spec;
  std::map<std::string, int32_t> ids;  // raw bytes -> id
  auto add = [&](const std::string& bytes) {
    auto [it, inserted] = ids.emplace(bytes, static_cast<int32_t>(ids.size()));
    if (inserted) spec.vocab.emplace_back(alphabet.Encode(bytes), it->second);
  };
  for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)));
  for (const std::string& word : SmallVocabWords()) {
    // Left-to-right merges: w[0] + w[1], then (w[0..2)) + w[2], ...
    for (size_t n = 2; n <= word.size(); ++n) {
      const std::string left = word.substr(0, n - 1);
      const std::string right = word.substr(n - 1, 1);
      if (ids.count(word.substr(0, n)) != 0) continue;
      add(word.substr(0, n));
      spec.merges.emplace_back(alphabet.Encode(left), alphabet.Encode(right));
    }
  }
  const auto next = static_cast<int32_t>(ids.size());
  spec.added_tokens.push_back(AddedToken{next, "<|end|>", /*special=*/true});
  spec.added_tokens.push_back(AddedToken{next + 1, "<|im_start|>", /*special=*/true});
  spec.added_tokens.push_back(AddedToken{next + 2, "<think>", /*special=*/false});
  spec.nfc = true;
  spec.split_pattern = std::string(kQwen2Pattern);
  return spec;
}

nlohmann::json SpecToTokenizerJson(const TokenizerSpec& spec) {
  nlohmann::json vocab = nlohmann::json::object();
  for (const auto& [token, id] : spec.vocab) vocab[token] = id;
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [l, r] : spec.merges) merges.push_back(l + " " + r);
  nlohmann::json added = nlohmann::json::array();
  for (const AddedToken& a : spec.added_tokens) {
    added.push_back({{"id", a.id}, {"content", a.content}, {"single_word", a.single_word},
                     {"lstrip", a.lstrip}, {"rstrip", a.rstrip}, {"normalized", a.normalized},
                     {"special", a.special}});
  }
  nlohmann::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                               {"trim_offsets", false}, {"use_regex", false}};
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", spec.nfc ? nlohmann::json{{"type", "NFC"}} : nlohmann::json()},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", spec.split_pattern}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          byte_level}}}},
      {"post_processor", byte_level},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merges}}},
  };
}

}  // namespace ocular::tokenizer::testing
