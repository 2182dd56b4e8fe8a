#include "model/tokenizer/token_index.h"

#include <cstring>

namespace ocular::tokenizer {

uint64_t TokenIndex::Hash(std::string_view key) {
  // FNV-1a, then a final avalanche (keys are short: 1-20 bytes typically).
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

void TokenIndex::Reserve(size_t num_entries, size_t num_bytes) {
  entries_.reserve(num_entries);
  arena_.reserve(num_bytes);
  size_t capacity = 16;
  while (capacity < num_entries * 2) capacity *= 2;
  if (capacity > slots_.size()) Rehash(capacity);
}

void TokenIndex::Rehash(size_t capacity) {
  slots_.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t i = (static_cast<size_t>(entries_[e].hash) * 0x9E3779B1u >> 7) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(e + 1);
  }
}

bool TokenIndex::Insert(std::string_view key, int32_t id) {
  if (slots_.empty() || (entries_.size() + 1) * 2 > slots_.size()) {
    Rehash(slots_.empty() ? 16 : slots_.size() * 2);
  }
  const auto h = static_cast<uint32_t>(Hash(key));
  const size_t mask = slots_.size() - 1;
  size_t i = (static_cast<size_t>(h) * 0x9E3779B1u >> 7) & mask;
  while (slots_[i] != 0) {
    const Entry& e = entries_[slots_[i] - 1];
    if (e.hash == h && e.length == key.size() &&
        std::memcmp(arena_.data() + e.offset, key.data(), key.size()) == 0) {
      return false;
    }
    i = (i + 1) & mask;
  }
  entries_.push_back(Entry{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), id, h});
  arena_.append(key);
  slots_[i] = static_cast<uint32_t>(entries_.size());
  return true;
}

int32_t TokenIndex::Find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const auto h = static_cast<uint32_t>(Hash(key));
  const size_t mask = slots_.size() - 1;
  size_t i = (static_cast<size_t>(h) * 0x9E3779B1u >> 7) & mask;
  while (slots_[i] != 0) {
    const Entry& e = entries_[slots_[i] - 1];
    if (e.hash == h && e.length == key.size() &&
        std::memcmp(arena_.data() + e.offset, key.data(), key.size()) == 0) {
      return e.id;
    }
    i = (i + 1) & mask;
  }
  return -1;
}

}  // namespace ocular::tokenizer
