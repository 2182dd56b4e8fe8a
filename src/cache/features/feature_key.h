// Feature-cache keys: the media id (SHA-256 of decoded pixels plus everything that changes the
// encoder's output; computed in media/) and the tenant's cache salt. Entries of different salts
// never match, exactly or approximately, so tenants cannot probe each other's images.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>

#include "base/sha256.h"

namespace ocular::features {

struct FeatureKey {
  Sha256Digest media_id{};
  Sha256Digest salt_id{};  // SaltId(cache_salt): all zero for the empty salt
  friend bool operator==(const FeatureKey&, const FeatureKey&) = default;
};

// SHA-256 of the salt with a domain prefix; the empty salt maps to all zeros.
Sha256Digest SaltId(std::string_view cache_salt);

inline FeatureKey MakeFeatureKey(const Sha256Digest& media_id, std::string_view cache_salt) {
  return FeatureKey{media_id, SaltId(cache_salt)};
}

struct FeatureKeyHash {
  size_t operator()(const FeatureKey& k) const {
    // Digests are uniformly distributed: a word of each is a good hash.
    uint64_t a, b;
    std::memcpy(&a, k.media_id.data(), sizeof(a));
    std::memcpy(&b, k.salt_id.data(), sizeof(b));
    return static_cast<size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
  }
};

}  // namespace ocular::features
