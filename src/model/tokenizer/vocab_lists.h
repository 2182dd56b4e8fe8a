// Building a Tokenizer from plain vocabulary lists, the form GGUF stores
// (`tokenizer.ggml.tokens`, `token_type`, `merges`, `pre`). The GGUF adapter is a thin
// function over this (gguf_tokenizer.h).
//
// GGUF carries no normalizer: the pre-tokenizer kind `qwen2` implies NFC, as Qwen's
// tokenizer.json declares it. llama.cpp does not apply NFC and so disagrees with HF on
// decomposed input (e.g. "cafe\u0301"); we follow HF.
//
// Special-ness comes from the GGUF token types: CONTROL tokens are special, USER_DEFINED ones
// are not. Qwen GGUFs mark the `<|fim_*|>`, `<|repo_name|>` and `<|file_sep|>` tokens CONTROL
// while tokenizer.json calls them non-special, so skip_special_tokens drops them when the
// tokenizer comes from GGUF, and parse_special = false leaves them unmatched (default encoding
// is identical either way).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::tokenizer {

enum class PreTokenizerKind {
  kQwen2,  // Qwen2 regex + NFC
  kGpt2,   // GPT-2 regex, no normalizer
};

// GGUF `tokenizer.ggml.pre` -> kind; Unimplemented for others.
Result<PreTokenizerKind> PreTokenizerKindFromName(std::string_view name);

// llama.cpp token types (llama_token_type).
enum class GgufTokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // special added token (skipped by skip_special_tokens)
  kUserDefined = 4,  // non-special added token, e.g. <think>
  kUnused = 5,       // padding entries: not tokens
  kByte = 6,
};

struct VocabLists {
  std::vector<std::string> tokens;  // [n]: byte-level spelling (added tokens: raw content)
  std::vector<int32_t> token_types; // [n]: GgufTokenType values
  std::vector<std::string> merges;  // "a b" in rank order
  PreTokenizerKind pre = PreTokenizerKind::kQwen2;
  std::optional<int32_t> bos_id, eos_id, pad_id;
};

// Trailing kUnused entries are not part of the tokenizer (ids beyond size()); unused entries
// in the middle are holes.
Result<Tokenizer> TokenizerFromVocabLists(const VocabLists& lists,
                                          const TokenizerOptions& options = {});

}  // namespace ocular::tokenizer
