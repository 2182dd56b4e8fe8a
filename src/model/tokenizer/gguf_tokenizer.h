// Loading a Tokenizer from GGUF metadata (`tokenizer.ggml.*`, model "gpt2" = byte-level BPE).
// See vocab_lists.h for how the lists are interpreted (qwen2 implies NFC, as HF does).
#pragma once

#include "base/status.h"
#include "model/loader/gguf.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/vocab_lists.h"

namespace ocular::tokenizer {

// Reads the tokenizer lists out of the metadata (no Tokenizer built).
Result<VocabLists> VocabListsFromGguf(const loader::GgufFile& gguf);

Result<Tokenizer> LoadTokenizerFromGguf(const loader::GgufFile& gguf,
                                        const TokenizerOptions& options = {});

}  // namespace ocular::tokenizer
