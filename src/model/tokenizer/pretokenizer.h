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

  // Calls fn(piece) for each piece of `text` in order (views into it, all non-empty).
  template <typename Fn>
  void ForEachPiece(std::string_view text, Fn&& fn) const {
    if (text.empty()) return;
    Scratch scratch(*this);
    size_t pos = 0;  // end of the last piece emitted
    size_t start = 0, end = 0;
    while (pos < text.size() && NextMatch(text, pos, &scratch, &start, &end)) {
      if (start > pos) fn(text.substr(pos, start - pos));
      fn(text.substr(start, end - start));
      pos = end;
    }
    if (pos < text.size()) fn(text.substr(pos));  // no further match (or a limit was hit)
  }

  // Appends the pieces of `text` to `pieces`.
  void Split(std::string_view text, std::vector<std::string_view>* pieces) const {
    ForEachPiece(text, [pieces](std::string_view piece) { pieces->push_back(piece); });
  }

  const std::string& pattern() const { return pattern_; }
  bool jit() const { return jit_; }

 private:
  struct Impl;
  // Per-call PCRE2 match data (RAII).
  class Scratch {
   public:
    explicit Scratch(const RegexSplitter& splitter);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    void* match_data;  // pcre2_match_data*, null when allocation failed
  };
  // The next match at or after `pos`: false when there is none (or a resource limit was hit).
  bool NextMatch(std::string_view text, size_t pos, Scratch* scratch, size_t* start,
                 size_t* end) const;
  RegexSplitter(std::unique_ptr<Impl> impl, std::string pattern, bool jit);

  std::unique_ptr<Impl> impl_;
  std::string pattern_;
  bool jit_ = false;
};

}  // namespace ocular::tokenizer
