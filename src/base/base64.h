// Standard base64 (RFC 4648 section 4, with '=' padding) encoding: data: URLs that clients,
// benchmarks and tests send. Decoding lives with the media data sources, which must be strict.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ocular {

std::string Base64Encode(std::span<const uint8_t> bytes);
inline std::string Base64Encode(std::string_view bytes) {
  return Base64Encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace ocular
