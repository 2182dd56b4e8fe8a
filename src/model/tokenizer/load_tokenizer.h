// LoadTokenizer: one entry point for the formats a model may ship its tokenizer in.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::tokenizer {

// `path` is a model folder (reads its tokenizer.json), a tokenizer.json file, or a GGUF file
// (recognised by its magic; reads the tokenizer.ggml.* metadata).
Result<Tokenizer> LoadTokenizer(const std::filesystem::path& path,
                                const TokenizerOptions& options = {});

}  // namespace ocular::tokenizer
