#include "model/tokenizer/load_tokenizer.h"

#include <cstring>
#include <fstream>
#include <system_error>

#include "model/loader/gguf.h"
#include "model/tokenizer/gguf_tokenizer.h"
#include "model/tokenizer/tokenizer_json.h"

namespace ocular::tokenizer {

namespace {

bool HasGgufMagic(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace

Result<Tokenizer> LoadTokenizer(const std::filesystem::path& path, const TokenizerOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    const std::filesystem::path json = path / "tokenizer.json";
    if (!std::filesystem::exists(json, ec)) {
      return NotFound("model folder has no tokenizer.json");
    }
    return LoadTokenizerJsonFile(json, options);
  }
  if (!std::filesystem::exists(path, ec)) return NotFound("tokenizer path does not exist");
  if (HasGgufMagic(path)) {
    ASSIGN_OR_RETURN(loader::GgufFile gguf, loader::OpenGguf(path));
    return LoadTokenizerFromGguf(gguf, options);
  }
  return LoadTokenizerJsonFile(path, options);
}

}  // namespace ocular::tokenizer
