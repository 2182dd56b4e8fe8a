// Byte-pair merging of one pre-tokenized word.
//
// The word starts as one symbol per byte; repeatedly the adjacent pair with the lowest merge
// rank is merged (ties: leftmost first), exactly as HF tokenizers' BPE model does. A binary
// heap of candidate pairs with lazy invalidation makes this O(n log n) in the word length
// instead of the naive O(n^2) rescan. Immutable after construction; safe to share across
// threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ocular::tokenizer {

// Open-addressing hash table (token id, token id) -> (rank, merged token id).
class MergeTable {
 public:
  struct Entry {
    uint64_t key;  // (left << 32) | right; kEmpty marks a free slot
    int32_t rank;
    int32_t merged_id;
  };

  explicit MergeTable(size_t expected_entries = 0);

  // Returns false (and keeps the first) when the pair is already present.
  bool Insert(int32_t left, int32_t right, int32_t rank, int32_t merged_id);
  const Entry* Find(int32_t left, int32_t right) const;
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t Key(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  static size_t Hash(uint64_t key) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 17); }
  void Grow();

  std::vector<Entry> slots_;  // capacity a power of two, load factor <= 1/2
  size_t size_ = 0;
};

class BpeModel {
 public:
  // `byte_ids[b]` is the token of the single byte b (all 256 must exist).
  BpeModel(std::array<int32_t, 256> byte_ids, MergeTable merges);

  // Appends the tokens of `word` (non-empty raw bytes) to `out`.
  void EncodeWord(std::string_view word, std::vector<int32_t>* out) const;

  const MergeTable& merges() const { return merges_; }

 private:
  std::array<int32_t, 256> byte_ids_;
  MergeTable merges_;
};

}  // namespace ocular::tokenizer
