#include "model/tokenizer/vocab_lists.h"

#include <utility>

#include "model/tokenizer/pretokenizer.h"

namespace ocular::tokenizer {

Result<PreTokenizerKind> PreTokenizerKindFromName(std::string_view name) {
  if (name == "qwen2") return PreTokenizerKind::kQwen2;
  if (name == "gpt2" || name == "default") return PreTokenizerKind::kGpt2;
  return Unimplemented("unsupported tokenizer pre-tokenizer kind");
}

Result<Tokenizer> TokenizerFromVocabLists(const VocabLists& lists, const TokenizerOptions& options) {
  if (lists.tokens.size() != lists.token_types.size()) {
    return InvalidArgument("tokenizer token and token type lists differ in length");
  }
  if (lists.tokens.size() > static_cast<size_t>(kMaxTokenId) + 1) {
    return InvalidArgument("tokenizer vocabulary too large");
  }
  TokenizerSpec spec;
  spec.vocab.reserve(lists.tokens.size());
  for (size_t i = 0; i < lists.tokens.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    switch (static_cast<GgufTokenType>(lists.token_types[i])) {
      case GgufTokenType::kNormal:
      case GgufTokenType::kUnknown:
      case GgufTokenType::kByte:
        spec.vocab.emplace_back(lists.tokens[i], id);
        break;
      case GgufTokenType::kControl:
      case GgufTokenType::kUserDefined: {
        AddedToken a;
        a.id = id;
        a.content = lists.tokens[i];
        a.special = static_cast<GgufTokenType>(lists.token_types[i]) == GgufTokenType::kControl;
        spec.added_tokens.push_back(std::move(a));
        break;
      }
      case GgufTokenType::kUnused:
        break;
      default:
        return InvalidArgument("tokenizer token " + std::to_string(i) + " has an unknown type");
    }
  }
  spec.merges.reserve(lists.merges.size());
  for (size_t i = 0; i < lists.merges.size(); ++i) {
    const std::string& m = lists.merges[i];
    const size_t space = m.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == m.size() ||
        m.find(' ', space + 1) != std::string::npos) {
      return InvalidArgument("tokenizer merge " + std::to_string(i) + " is not of the form \"a b\"");
    }
    spec.merges.emplace_back(m.substr(0, space), m.substr(space + 1));
  }
  switch (lists.pre) {
    case PreTokenizerKind::kQwen2:
      spec.split_pattern = std::string(kQwen2Pattern);
      spec.nfc = true;
      break;
    case PreTokenizerKind::kGpt2:
      spec.split_pattern = std::string(kGpt2Pattern);
      break;
  }
  spec.bos_id = lists.bos_id;
  spec.eos_id = lists.eos_id;
  spec.pad_id = lists.pad_id;
  return Tokenizer::Create(std::move(spec), options);
}

}  // namespace ocular::tokenizer
