#include "cache/features/feature_key.h"

namespace ocular::features {

Sha256Digest SaltId(std::string_view cache_salt) {
  if (cache_salt.empty()) return Sha256Digest{};
  Sha256 h;
  h.Update("ocular.feature_cache.salt.v1");
  h.UpdateU64(cache_salt.size());
  h.Update(cache_salt);
  return h.Finish();
}

}  // namespace ocular::features
