// SHA-256 (OpenSSL) for media ids and prefix-cache keys: collision resistance matters because
// inputs are adversarial (RELIABILITY.md). Incremental; not thread-safe per instance.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ocular {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Appends a little-endian fixed-width integer (canonical encodings use these).
  void UpdateU64(uint64_t v);
  Sha256Digest Finish();

  static Sha256Digest Hash(const void* data, size_t size);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string ToHex(std::span<const uint8_t> bytes);

}  // namespace ocular
