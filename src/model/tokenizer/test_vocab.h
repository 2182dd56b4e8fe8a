// A small hand-built byte-level BPE vocabulary for unit tests, property tests and fuzzers
// (independent of any model file): the 256 byte tokens (ids 0..255), merges that spell a few
// English, code and CJK words left to right, the special tokens `<|end|>` and `<|im_start|>`
// and the non-special `<think>`. Not part of the library.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"

namespace ocular::tokenizer::testing {

// Words whose byte sequences the merges build (each becomes one token).
const std::vector<std::string>& SmallVocabWords();

// Qwen2 pre-tokenizer regex and NFC, like the real tokenizer.
TokenizerSpec SmallVocabSpec();

// The same vocabulary as a Hugging Face tokenizer.json document (Qwen2 layout: NFC normalizer,
// Sequence[Split(regex, Isolated), ByteLevel(use_regex=false)], ByteLevel decoder; merges as
// "a b" strings).
nlohmann::json SpecToTokenizerJson(const TokenizerSpec& spec);

}  // namespace ocular::tokenizer::testing
