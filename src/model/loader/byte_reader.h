// ByteReader: bounds-checked little-endian reads from an untrusted byte span (internal).
// Every read checks the remaining length first; nothing is read past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace ocular::loader {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint64_t offset() const { return offset_; }
  uint64_t remaining() const { return bytes_.size() - offset_; }

  // Reads a little-endian scalar of sizeof(T) bytes; false when too few bytes remain.
  template <typename T>
  [[nodiscard]] bool Read(T* out) {
    if (remaining() < sizeof(T)) return false;
    // The host is little-endian (x86-64 / aarch64 Linux); memcpy avoids alignment issues.
    std::memcpy(out, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return true;
  }
  // A view of the next `n` bytes; false when too few remain.
  [[nodiscard]] bool ReadBytes(uint64_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = bytes_.subspan(offset_, n);
    offset_ += n;
    return true;
  }
  [[nodiscard]] bool ReadView(uint64_t n, std::string_view* out) {
    std::span<const uint8_t> b;
    if (!ReadBytes(n, &b)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t offset_ = 0;
};

}  // namespace ocular::loader
