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

}  // namespace ocular::tokenizer::testing
