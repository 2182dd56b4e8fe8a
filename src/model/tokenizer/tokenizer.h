// Tokenizer: byte-level BPE as used by Qwen2/Qwen3(-VL), equivalent to HF tokenizers with
// NFC normalizer, Split(regex, Isolated) + ByteLevel(use_regex=false) pre-tokenizer, BPE model
// and ByteLevel decoder.
//
// Encode pipeline (HF order): 1. added tokens are matched in the raw text (only those listed
// as added tokens; `<think>` etc. are non-special added tokens and are matched too); 2. the
// text between them is NFC-normalized (when the tokenizer says so); 3. split into pieces by
// the pre-tokenizer regex; 4. each piece's bytes are BPE-merged (through a word cache).
// Anything that is not an added token round-trips byte-exactly, including invalid UTF-8.
//
// Decode: ids -> token bytes -> text, with U+FFFD per maximal ill-formed subpart.
//
// Thread-safety: a Tokenizer is immutable after Create except for its internal word cache,
// which is internally synchronised (sharded mutexes). One instance may be shared by any
// number of threads calling Encode/Decode concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/tokenizer/added_tokens.h"
#include "model/tokenizer/bpe.h"
#include "model/tokenizer/pretokenizer.h"
#include "model/tokenizer/token_index.h"
#include "model/tokenizer/word_cache.h"

namespace ocular::tokenizer {

// Limits on tokenizer definitions (untrusted files).
inline constexpr int32_t kMaxTokenId = (1 << 24) - 1;
inline constexpr size_t kMaxTokenBytes = 1 << 16;
inline constexpr size_t kMaxAddedTokens = 1 << 16;

// Everything needed to build a Tokenizer, independent of the file format it came from.
struct TokenizerSpec {
  // (byte-level spelling, id) of every vocab entry; ids unique, in [0, kMaxTokenId].
  std::vector<std::pair<std::string, int32_t>> vocab;
  // (left, right) byte-level spellings in rank order; each side and their concatenation must
  // be vocab entries.
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<AddedToken> added_tokens;
  bool nfc = false;           // normalizer: NFC (else none)
  std::string split_pattern;  // pre-tokenizer regex; empty = the whole text is one piece
  bool ignore_merges = false; // HF BPE option: a piece that is a vocab entry is used as is
  // Optional well-known ids (from GGUF metadata); the tokenizer only reports them.
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  std::optional<int32_t> pad_id;
};

struct TokenizerOptions {
  size_t word_cache_entries = 1 << 16;  // 0 disables the cache
};

struct EncodeOptions {
  // Match special added tokens (`<|im_start|>` ...) in the text. When false they are encoded
  // as plain text (HF `split_special_tokens`); non-special added tokens are always matched.
  bool parse_special = true;
};

struct DecodeOptions {
  // Drop special added tokens (HF `skip_special_tokens`); non-special ones like `<think>` stay.
  bool skip_special_tokens = false;
};

class Tokenizer {
 public:
  static Result<Tokenizer> Create(TokenizerSpec spec, const TokenizerOptions& options = {});

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<int32_t> Encode(std::string_view text, const EncodeOptions& options = {}) const;
  // InvalidArgument when an id is not a token of this tokenizer.
  Result<std::string> Decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;
  // Appends the raw bytes of `ids` (no UTF-8 repair).
  Status AppendBytes(std::span<const int32_t> ids, bool skip_special_tokens,
                     std::string* bytes) const;

  // Ids are in [0, size()); some may be holes (not tokens), see IsToken.
  int32_t size() const { return static_cast<int32_t>(kinds_.size()); }
  bool IsToken(int32_t id) const { return id >= 0 && id < size() && kinds_[id] != Kind::kNone; }
  bool IsAdded(int32_t id) const {
    return IsToken(id) && (kinds_[id] == Kind::kAdded || kinds_[id] == Kind::kAddedSpecial);
  }
  bool IsSpecial(int32_t id) const { return IsToken(id) && kinds_[id] == Kind::kAddedSpecial; }
  // Raw bytes of a token; empty for ids that are not tokens.
  std::string_view TokenBytes(int32_t id) const;
  // The token's string as written in tokenizer.json (byte-level spelling for vocab entries,
  // content for added tokens). NotFound for ids that are not tokens.
  Result<std::string> IdToToken(int32_t id) const;
  // Inverse of IdToToken (added tokens first).
  std::optional<int32_t> TokenToId(std::string_view token) const;

  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  std::optional<int32_t> pad_id() const { return pad_id_; }
  bool nfc() const { return nfc_; }
  size_t num_merges() const { return bpe_->merges().size(); }
  const std::vector<AddedToken>& added_tokens() const { return added_tokens_; }

 private:
  enum class Kind : uint8_t { kNone, kVocab, kAdded, kAddedSpecial };

  Tokenizer() = default;
  // Normalizes, pre-tokenizes and BPE-encodes plain text (no raw-text added tokens).
  void EncodePlain(std::string_view text, const EncodeOptions& options,
                   std::vector<int32_t>* ids) const;
  void EncodePiece(std::string_view piece, std::vector<int32_t>* ids) const;

  std::vector<Kind> kinds_;            // [size()]
  std::vector<uint32_t> byte_offsets_; // [size() + 1], into token_bytes_
  std::string token_bytes_;            // raw bytes of every token, concatenated
  TokenIndex vocab_index_;             // byte-level spelling -> id
  std::vector<AddedToken> added_tokens_;
  AddedTokenMatcher raw_matcher_;         // added tokens with normalized = false
  AddedTokenMatcher normalized_matcher_;  // normalized = true
  std::unique_ptr<BpeModel> bpe_;
  std::unique_ptr<RegexSplitter> splitter_;  // null: no regex split
  std::unique_ptr<WordCache> cache_;
  bool nfc_ = false;
  bool ignore_merges_ = false;
  std::optional<int32_t> bos_id_, eos_id_, pad_id_;
};

}  // namespace ocular::tokenizer
