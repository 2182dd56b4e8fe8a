#include "model/tokenizer/tokenizer.h"

#include <algorithm>
#include <string>
#include <utility>

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/normalizer.h"
#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {

namespace {

// Words longer than this are not cached (rare, and they would crowd out common words).
constexpr size_t kMaxCachedWordBytes = 128;

std::string HexByte(uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[b >> 4], kHex[b & 15]};
}

}  // namespace

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::Create(TokenizerSpec spec, const TokenizerOptions& options) {
  Tokenizer t;
  const ByteLevelAlphabet alphabet;

  // Size: one past the largest id of a vocab entry or added token.
  int64_t max_id = -1;
  for (const auto& [token, id] : spec.vocab) {
    if (id < 0 || id > kMaxTokenId) {
      return InvalidArgument("vocab id " + std::to_string(id) + " out of range");
    }
    if (token.empty() || token.size() > kMaxTokenBytes) {
      return InvalidArgument("vocab entry " + std::to_string(id) + " has an empty or oversized string");
    }
    max_id = std::max<int64_t>(max_id, id);
  }
  if (spec.added_tokens.size() > kMaxAddedTokens) return InvalidArgument("too many added tokens");
  for (const AddedToken& a : spec.added_tokens) {
    if (a.id < 0 || a.id > kMaxTokenId) {
      return InvalidArgument("added token id " + std::to_string(a.id) + " out of range");
    }
    if (a.content.empty() || a.content.size() > kMaxTokenBytes) {
      return InvalidArgument("added token " + std::to_string(a.id) + " has empty or oversized content");
    }
    max_id = std::max<int64_t>(max_id, a.id);
  }
  if (spec.vocab.empty()) return InvalidArgument("tokenizer has an empty vocabulary");
  const auto size = static_cast<size_t>(max_id + 1);
  t.kinds_.assign(size, Kind::kNone);

  // Raw bytes per id. Vocab spellings outside the byte-level alphabet cannot be produced from
  // bytes; like HF's ByteLevel decoder they decode to their own UTF-8 bytes.
  std::vector<std::string> bytes(size);
  size_t vocab_bytes = 0;
  for (const auto& entry : spec.vocab) vocab_bytes += entry.first.size();
  if (vocab_bytes > UINT32_MAX / 2) return InvalidArgument("tokenizer vocabulary too large");
  t.vocab_index_.Reserve(spec.vocab.size(), vocab_bytes);
  for (auto& [token, id] : spec.vocab) {
    if (t.kinds_[id] != Kind::kNone) {
      return InvalidArgument("vocab id " + std::to_string(id) + " appears twice");
    }
    t.kinds_[id] = Kind::kVocab;
    std::optional<std::string> raw = alphabet.Decode(token);
    bytes[id] = raw ? std::move(*raw) : token;
    if (!t.vocab_index_.Insert(token, id)) {
      return InvalidArgument("vocab entry " + std::to_string(id) + " duplicates another's string");
    }
  }
  spec.vocab = {};

  std::array<int32_t, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    const int32_t id = t.vocab_index_.Find(alphabet.Encode(std::string(1, static_cast<char>(b))));
    if (id < 0) {
      return InvalidArgument("vocab lacks the byte-level token for byte 0x" +
                             HexByte(static_cast<uint8_t>(b)));
    }
    byte_ids[b] = id;
  }

  MergeTable merges(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const int32_t l = t.vocab_index_.Find(left);
    const int32_t r = t.vocab_index_.Find(right);
    joined.assign(left).append(right);
    const int32_t m = t.vocab_index_.Find(joined);
    if (l < 0 || r < 0 || m < 0) {
      return InvalidArgument("merge " + std::to_string(rank) + " refers to a token not in the vocab");
    }
    // A repeated pair keeps its first (best) rank.
    merges.Insert(l, r, static_cast<int32_t>(rank), m);
  }
  spec.merges = {};
  t.bpe_ = std::make_unique<BpeModel>(byte_ids, std::move(merges));

  std::vector<AddedToken> raw_tokens, normalized_tokens;
  std::vector<bool> added_seen(size, false);
  for (AddedToken& a : spec.added_tokens) {
    if (added_seen[a.id]) {
      return InvalidArgument("added token id " + std::to_string(a.id) + " appears twice");
    }
    added_seen[a.id] = true;
    // An added token may reuse a vocab id; it then takes over that id's bytes and matching.
    t.kinds_[a.id] = a.special ? Kind::kAddedSpecial : Kind::kAdded;
    bytes[a.id] = a.content;
    (a.normalized ? normalized_tokens : raw_tokens).push_back(a);
  }
  t.added_tokens_ = std::move(spec.added_tokens);
  t.raw_matcher_ = AddedTokenMatcher(std::move(raw_tokens));
  t.normalized_matcher_ = AddedTokenMatcher(std::move(normalized_tokens));

  size_t total_bytes = 0;
  for (const std::string& b : bytes) total_bytes += b.size();
  if (total_bytes > UINT32_MAX) return InvalidArgument("tokenizer strings too large");
  t.token_bytes_.reserve(total_bytes);
  t.byte_offsets_.reserve(size + 1);
  for (const std::string& b : bytes) {
    t.byte_offsets_.push_back(static_cast<uint32_t>(t.token_bytes_.size()));
    t.token_bytes_.append(b);
  }
  t.byte_offsets_.push_back(static_cast<uint32_t>(t.token_bytes_.size()));

  if (!spec.split_pattern.empty()) {
    ASSIGN_OR_RETURN(RegexSplitter splitter, RegexSplitter::Create(spec.split_pattern));
    t.splitter_ = std::make_unique<RegexSplitter>(std::move(splitter));
  }
  t.cache_ = std::make_unique<WordCache>(options.word_cache_entries);
  t.nfc_ = spec.nfc;
  t.ignore_merges_ = spec.ignore_merges;
  for (auto [dst, src] : {std::pair{&t.bos_id_, spec.bos_id}, std::pair{&t.eos_id_, spec.eos_id},
                          std::pair{&t.pad_id_, spec.pad_id}}) {
    // An id that names no token (e.g. a padding slot) is dropped rather than refused.
    if (src && t.IsToken(*src)) *dst = src;
  }
  return t;
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (raw_matcher_.empty()) {
    EncodePlain(text, options, &ids);
    return ids;
  }
  std::vector<AddedSplit> splits;
  raw_matcher_.Split(text, options.parse_special, &splits);
  for (const AddedSplit& s : splits) {
    if (s.token_id >= 0) {
      ids.push_back(s.token_id);
    } else {
      EncodePlain(s.text, options, &ids);
    }
  }
  return ids;
}

void Tokenizer::EncodePlain(std::string_view text, const EncodeOptions& options,
                            std::vector<int32_t>* ids) const {
  std::string normalized;
  if (nfc_ && !IsTriviallyNfc(text)) {
    AppendNfc(text, &normalized);
    text = normalized;
  }
  std::vector<AddedSplit> splits;
  if (normalized_matcher_.empty()) {
    splits.push_back({text, -1});
  } else {
    normalized_matcher_.Split(text, options.parse_special, &splits);
  }
  for (const AddedSplit& s : splits) {
    if (s.token_id >= 0) {
      ids->push_back(s.token_id);
    } else if (splitter_ == nullptr) {
      EncodePiece(s.text, ids);
    } else {
      splitter_->ForEachPiece(s.text, [&](std::string_view piece) { EncodePiece(piece, ids); });
    }
  }
}

void Tokenizer::EncodePiece(std::string_view piece, std::vector<int32_t>* ids) const {
  if (ignore_merges_) {
    const int32_t id = vocab_index_.Find(ByteLevelAlphabet().Encode(piece));
    if (id >= 0 && kinds_[id] == Kind::kVocab) {
      ids->push_back(id);
      return;
    }
  }
  if (piece.size() <= 1 || piece.size() > kMaxCachedWordBytes) {
    bpe_->EncodeWord(piece, ids);
    return;
  }
  if (cache_->Lookup(piece, ids)) return;
  const size_t first = ids->size();
  bpe_->EncodeWord(piece, ids);
  cache_->Insert(piece, ids->data() + first, ids->size() - first);
}

std::string_view Tokenizer::TokenBytes(int32_t id) const {
  if (!IsToken(id)) return {};
  return std::string_view(token_bytes_).substr(byte_offsets_[id], byte_offsets_[id + 1] - byte_offsets_[id]);
}

Status Tokenizer::AppendBytes(std::span<const int32_t> ids, bool skip_special_tokens,
                              std::string* bytes) const {
  for (int32_t id : ids) {
    if (!IsToken(id)) {
      return InvalidArgument("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                             std::to_string(size()) + ")");
    }
    if (skip_special_tokens && kinds_[id] == Kind::kAddedSpecial) continue;
    bytes->append(TokenBytes(id));
  }
  return OkStatus();
}

Result<std::string> Tokenizer::Decode(std::span<const int32_t> ids,
                                      const DecodeOptions& options) const {
  std::string bytes;
  RETURN_IF_ERROR(AppendBytes(ids, options.skip_special_tokens, &bytes));
  if (IsValidUtf8(bytes)) return bytes;
  return LossyUtf8(bytes);
}

Result<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (!IsToken(id)) {
    return NotFound("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                    std::to_string(size()) + ")");
  }
  if (kinds_[id] != Kind::kVocab) return std::string(TokenBytes(id));
  return ByteLevelAlphabet().Encode(TokenBytes(id));
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  for (const AddedToken& a : added_tokens_) {
    if (a.content == token) return a.id;
  }
  const int32_t id = vocab_index_.Find(token);
  if (id < 0 || kinds_[id] != Kind::kVocab) return std::nullopt;
  return id;
}

}  // namespace ocular::tokenizer
