// Raw byte builders for loader tests: they write GGUF and safetensors fields directly, with no
// validation, so tests can build both valid files (independently of Ocular's writers) and
// every kind of malformed one.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ocular::loader::test_bytes {

class RawBytes {
 public:
  template <typename T>
  RawBytes& Put(T v) {
    size_t n = bytes_.size();
    bytes_.resize(n + sizeof(T));
    std::memcpy(bytes_.data() + n, &v, sizeof(T));
    return *this;
  }
  RawBytes& U8(uint8_t v) { return Put(v); }
  RawBytes& U32(uint32_t v) { return Put(v); }
  RawBytes& U64(uint64_t v) { return Put(v); }
  RawBytes& Str(std::string_view s) {
    U64(s.size());
    return Raw(s);
  }
  RawBytes& Raw(std::string_view s) {
    size_t n = bytes_.size();
    bytes_.resize(n + s.size());
    if (!s.empty()) std::memcpy(bytes_.data() + n, s.data(), s.size());
    return *this;
  }
  RawBytes& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  // Zero padding up to a multiple of `alignment`.
  RawBytes& PadTo(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// GGUF header start: magic, version, counts.
inline RawBytes GgufHeader(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  RawBytes b;
  b.Raw("GGUF").U32(version).U64(n_tensors).U64(n_kv);
  return b;
}

// A tensor info: name, dims as ne[] (innermost first), ggml type, offset.
inline void GgufTensorInfo(RawBytes& b, std::string_view name, std::vector<uint64_t> ne,
                           uint32_t type, uint64_t offset) {
  b.Str(name).U32(static_cast<uint32_t>(ne.size()));
  for (uint64_t d : ne) b.U64(d);
  b.U32(type).U64(offset);
}

// A safetensors file: 8-byte header length, the header text, then `data_bytes` zero bytes.
inline std::vector<uint8_t> SafetensorsRaw(std::string_view header, size_t data_bytes) {
  RawBytes b;
  b.U64(header.size()).Raw(header).Zeros(data_bytes);
  return b.bytes();
}

}  // namespace ocular::loader::test_bytes
