// TokenIndex: string -> token id, an open-addressing hash table over one byte arena. Loading a
// 151k-entry vocabulary into a node-based std::unordered_map costs most of the load time in
// cache misses; this keeps keys contiguous. Immutable after loading; safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ocular::tokenizer {

class TokenIndex {
 public:
  void Reserve(size_t num_entries, size_t num_bytes);
  // False (nothing inserted) when `key` is already present.
  bool Insert(std::string_view key, int32_t id);
  // -1 when absent.
  int32_t Find(std::string_view key) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint32_t offset;  // into arena_
    uint32_t length;
    int32_t id;
    uint32_t hash;  // low 32 bits of the key's hash, checked before comparing bytes
  };
  static uint64_t Hash(std::string_view key);
  void Rehash(size_t capacity);

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // entry index + 1; 0 = empty. Power-of-two size, load <= 1/2
};

}  // namespace ocular::tokenizer
