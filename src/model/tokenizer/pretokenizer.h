// RegexSplitter: HF `Split(pattern, behavior=Isolated)` pre-tokenization with PCRE2 (UTF + UCP,
// JIT-compiled when available). Every match is one piece and every stretch between matches
// is one piece too, so the pieces always concatenate back to the input.
//
// Invalid UTF-8 input is allowed (PCRE2_MATCH_INVALID_UTF): ill-formed bytes never take part
// in a match, so they end up in the between-match pieces and are byte-level encoded like any
// other byte. If a match fails for a resource reason (match limit, JIT stack) the rest of the
// text becomes a single piece, so splitting never fails on input.
//
// Thread-safety: immutable after Create; Split may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ocular::tokenizer {

// The Qwen2 / Qwen3 pattern (GGUF `tokenizer.ggml.pre` = "qwen2"): digits are split one per
// piece, letters keep one leading non-letter.
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// The GPT-2 pattern (HF ByteLevel pre-tokenizer with use_regex = true; GGUF "gpt2"/"default").
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class RegexSplitter {
 public:
  // InvalidArgument when the pattern does not compile (the message gives only the offset).
  static Result<RegexSplitter> Create(std::string_view pattern);

  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;
  ~RegexSplitter();

  // Appends the pieces of `text` (views into it, all non-empty) to `pieces`.
  void Split(std::string_view text, std::vector<std::string_view>* pieces) const;

  const std::string& pattern() const { return pattern_; }
  bool jit() const { return jit_; }

 private:
  struct Impl;
  RegexSplitter(std::unique_ptr<Impl> impl, std::string pattern, bool jit);

  std::unique_ptr<Impl> impl_;
  std::string pattern_;
  bool jit_ = false;
};

}  // namespace ocular::tokenizer
