#include "model/tokenizer/gguf_tokenizer.h"

#include <limits>
#include <utility>

namespace ocular::tokenizer {

namespace {

Result<std::optional<int32_t>> OptionalId(const loader::GgufFile& gguf, const char* key) {
  if (gguf.Find(key) == nullptr) return std::optional<int32_t>();
  ASSIGN_OR_RETURN(uint32_t id, gguf.GetU32(key));
  if (id > static_cast<uint32_t>(kMaxTokenId)) return InvalidArgument(std::string(key) + " out of range");
  return std::optional<int32_t>(static_cast<int32_t>(id));
}

Result<const std::vector<std::string>*> StringArray(const loader::GgufFile& gguf, const char* key) {
  ASSIGN_OR_RETURN(const loader::GgufValue* value, gguf.GetArray(key));
  const std::vector<std::string>* strings = value->strings();
  if (strings == nullptr) return InvalidArgument(std::string(key) + " is not a string array");
  return strings;
}

}  // namespace

Result<VocabLists> VocabListsFromGguf(const loader::GgufFile& gguf) {
  ASSIGN_OR_RETURN(std::string model, gguf.GetString("tokenizer.ggml.model"));
  if (model != "gpt2") return Unimplemented("GGUF tokenizer model is not byte-level BPE (gpt2)");
  VocabLists lists;
  std::string pre = "default";
  if (gguf.Find("tokenizer.ggml.pre") != nullptr) {
    ASSIGN_OR_RETURN(pre, gguf.GetString("tokenizer.ggml.pre"));
  }
  ASSIGN_OR_RETURN(lists.pre, PreTokenizerKindFromName(pre));
  ASSIGN_OR_RETURN(const std::vector<std::string>* tokens, StringArray(gguf, "tokenizer.ggml.tokens"));
  lists.tokens = *tokens;
  if (gguf.Find("tokenizer.ggml.token_type") != nullptr) {
    ASSIGN_OR_RETURN(std::vector<int64_t> types, gguf.GetI64Array("tokenizer.ggml.token_type"));
    lists.token_types.reserve(types.size());
    for (int64_t t : types) {
      if (t < std::numeric_limits<int32_t>::min() || t > std::numeric_limits<int32_t>::max()) {
        return InvalidArgument("tokenizer.ggml.token_type value out of range");
      }
      lists.token_types.push_back(static_cast<int32_t>(t));
    }
  } else {
    lists.token_types.assign(lists.tokens.size(), static_cast<int32_t>(GgufTokenType::kNormal));
  }
  if (gguf.Find("tokenizer.ggml.merges") != nullptr) {
    ASSIGN_OR_RETURN(const std::vector<std::string>* merges, StringArray(gguf, "tokenizer.ggml.merges"));
    lists.merges = *merges;
  }
  ASSIGN_OR_RETURN(lists.bos_id, OptionalId(gguf, "tokenizer.ggml.bos_token_id"));
  ASSIGN_OR_RETURN(lists.eos_id, OptionalId(gguf, "tokenizer.ggml.eos_token_id"));
  ASSIGN_OR_RETURN(lists.pad_id, OptionalId(gguf, "tokenizer.ggml.padding_token_id"));
  return lists;
}

Result<Tokenizer> LoadTokenizerFromGguf(const loader::GgufFile& gguf, const TokenizerOptions& options) {
  ASSIGN_OR_RETURN(VocabLists lists, VocabListsFromGguf(gguf));
  return TokenizerFromVocabLists(lists, options);
}

}  // namespace ocular::tokenizer
