// Added tokens (HF `added_tokens`): strings matched verbatim in the text before the model's
// own pipeline runs, e.g. `<|im_start|>` (special) or `<think>` (not special).
//
// Matching follows HF's AddedVocabulary: leftmost match first, the longest token at that
// position; `single_word` tokens only match between non-word characters; `lstrip` / `rstrip`
// tokens absorb the whitespace on their left / right.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ocular::tokenizer {

struct AddedToken {
  int32_t id = -1;
  std::string content;  // raw UTF-8 text, also the bytes it decodes to
  bool special = false;  // removed by skip_special_tokens; matched only with parse_special
  bool normalized = false;  // matched in the NFC-normalized text instead of the raw text
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// One piece of text after splitting on added tokens: either a token or plain text.
struct AddedSplit {
  std::string_view text;  // the matched span (incl. stripped whitespace) or the plain text
  int32_t token_id;       // -1 for plain text
};

// Immutable; safe to share across threads.
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `tokens` are the ones this matcher looks for (contents must be non-empty).
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }

  // Appends the splits of `text`. `allow_special` = false skips special tokens.
  void Split(std::string_view text, bool allow_special, std::vector<AddedSplit>* out) const;

 private:
  // Index of the longest acceptable token matching at `pos`, or -1.
  int MatchAt(std::string_view text, size_t pos, bool allow_special) const;

  std::vector<AddedToken> tokens_;  // sorted by content length, longest first
  std::array<bool, 256> first_byte_{};
};

}  // namespace ocular::tokenizer
