// Loading a Tokenizer from a Hugging Face `tokenizer.json`.
//
// Supported (everything Qwen2/Qwen3(-VL) and GPT-2 style byte-level BPE files use): model
// BPE with `vocab` and `merges` (as "a b" strings or ["a", "b"] pairs); `added_tokens` with
// special / normalized / lstrip / rstrip / single_word; normalizer null, NFC or a Sequence of
// NFC; pre-tokenizer Split(Regex, Isolated) followed by ByteLevel(use_regex = false), or
// ByteLevel(use_regex = true) alone (GPT-2 pattern); decoder ByteLevel. Anything else is
// Unimplemented, malformed content InvalidArgument. Messages never echo file content.
#pragma once

#include <filesystem>
#include <string_view>

#include "base/status.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::tokenizer {

// Parses tokenizer.json text into a format-independent spec.
Result<TokenizerSpec> ParseTokenizerJson(std::string_view json_text);

Result<Tokenizer> LoadTokenizerJson(std::string_view json_text,
                                    const TokenizerOptions& options = {});
Result<Tokenizer> LoadTokenizerJsonFile(const std::filesystem::path& path,
                                        const TokenizerOptions& options = {});

}  // namespace ocular::tokenizer
