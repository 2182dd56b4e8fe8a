// The tokenizer.ggml.* arrays of a llama.cpp GGUF, built from a HF tokenizer folder the way
// llama.cpp's converter does for Qwen2/Qwen3 BPE vocabularies: tokens ordered by id, added
// tokens typed 3 (control: special, or spelled like "<|...|>") or 4 (user-defined), normal
// tokens 1, and ids up to vocab_size without a token padded as "[PAD<id>]" with type 5
// (unused). Checked against the golden tiny-a GGUF.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace ocular::qwen3vl::gen {

// llama.cpp token types (llama_token_type).
inline constexpr int32_t kTokenNormal = 1;
inline constexpr int32_t kTokenControl = 3;
inline constexpr int32_t kTokenUserDefined = 4;
inline constexpr int32_t kTokenUnused = 5;

struct GgufTokenizer {
  std::vector<std::string> tokens;   // [vocab_size]
  std::vector<int32_t> token_types;  // [vocab_size]
  std::vector<std::string> merges;   // "a b"
  int64_t eos_token_id = -1;
  int64_t pad_token_id = -1;
  bool add_bos_token = false;
  std::string chat_template;  // empty when the folder has none
};

// Reads tokenizer.json, tokenizer_config.json and (if the template is not in the latter)
// chat_template.json from `dir`. Errors name the file.
Result<GgufTokenizer> BuildGgufTokenizer(const std::filesystem::path& dir, int64_t vocab_size);

}  // namespace ocular::qwen3vl::gen
