// Prefix-cache keys for full KV blocks (ARCHITECTURE.md "Media identity is content",
// RELIABILITY.md "Cache keys are complete and collision-resistant").
//
// A full block's key is SHA-256 over a canonical encoding of
//   (parent block key or "root", the block's token ids,
//    for every media span overlapping the block: (media id, span length,
//                                                 block start - span start),
//    the request's cache_salt [root block only; the chain carries it to every later block]).
// Placeholder tokens are identical for every image, so the media pairs are what keep two
// different images from sharing KV; the same image after the same prefix always yields the
// same chain. Inputs are adversarial (prompt tokens, uploaded images), hence SHA-256 rather
// than a fast non-cryptographic hash.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"

namespace ocular::kv {

// A 32-byte block key (a SHA-256 digest). Compact and trivially copyable.
struct BlockHash {
  Sha256Digest bytes{};

  friend bool operator==(const BlockHash& a, const BlockHash& b) = default;
  std::string ToHex() const { return ocular::ToHex(bytes); }
};

// Hash functor for unordered containers keyed by BlockHash. The key is already a
// uniformly distributed digest, but its bits are public and an attacker can grind prompts
// offline until many keys land in one bucket (hash flooding). A per-container secret seed
// mixed through a 64-bit finaliser makes bucket placement unpredictable at the cost of a
// few multiplications.
class BlockHashHasher {
 public:
  explicit BlockHashHasher(uint64_t seed = 0) : seed_(seed) {}
  size_t operator()(const BlockHash& h) const {
    uint64_t w0, w1;
    std::memcpy(&w0, h.bytes.data(), 8);
    std::memcpy(&w1, h.bytes.data() + 8, 8);
    return static_cast<size_t>(Mix(w0 ^ seed_) ^ Mix(w1 + seed_));
  }

 private:
  // splitmix64 finaliser: a bijection with full avalanche.
  static uint64_t Mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
  }
  uint64_t seed_;
};

// One media item's placeholder tokens inside a prompt: tokens
// [token_offset, token_offset + num_tokens) are replaced by that media's embeddings.
// `media_id` is the media's content digest (media::MediaId::digest: pixels + everything
// that changes the result).
struct MediaSpanRef {
  int64_t token_offset = 0;
  int64_t num_tokens = 0;
  Sha256Digest media_id{};
};

// The request-side view the scheduler hands to the KV cache manager. Non-owning: the spans
// must outlive the call they are passed to.
// Preconditions (ValidatePrefixKeyInput): media spans non-empty, sorted by token_offset,
// non-overlapping, and inside `tokens`.
struct PrefixKeyInput {
  std::span<const int32_t> tokens;
  std::span<const MediaSpanRef> media;
  std::string_view cache_salt;
};

// Checks the preconditions above. Media spans are built by the preprocessor, but a request's
// media list is still input-derived, so the boundary checks it with a Status; the hashing
// functions below CHECK the same conditions as invariants.
Status ValidatePrefixKeyInput(const PrefixKeyInput& input);

// Key of full block `block_index` (tokens [block_index * block_size, +block_size)).
// `parent` is the key of block `block_index - 1`, or nullptr for block 0.
// Preconditions: the block is full (lies inside input.tokens); parent is null iff
// block_index == 0; input satisfies ValidatePrefixKeyInput.
BlockHash HashBlock(const BlockHash* parent, const PrefixKeyInput& input, int64_t block_index,
                    int32_t block_size);

// Keys of the first `num_blocks` full blocks (each chained to the previous).
// Precondition: num_blocks * block_size <= input.tokens.size().
std::vector<BlockHash> HashBlocks(const PrefixKeyInput& input, int64_t num_blocks,
                                  int32_t block_size);

}  // namespace ocular::kv
