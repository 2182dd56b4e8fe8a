// A small hand-built byte-level BPE vocabulary for unit tests, property tests and fuzzers
// (independent of any model file): the 256 byte tokens (ids 0..255), merges that spell a few
// English, code and CJK words left to right, the special tokens `<|end|>` and `<|im_start|>`
// and the non-special `<think>`. Not part of the library.
#pragma once

#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"

namespace ocular::tokenizer::testing {

// Words whose byte sequences the merges build (each becomes one token).
const std::vector<std::string>& SmallVocabWords();

// Qwen2 pre-tokenizer regex and NFC, like the real tokenizer.
TokenizerSpec SmallVocabSpec();

}  // namespace ocular::tokenizer::testing
