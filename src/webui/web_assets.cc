#include "webui/web_assets.h"

#include <algorithm>

#include "webui/web_assets_table.h"

namespace ocular::webui {

const WebAsset* FindWebAsset(std::string_view path) {
  if (const size_t q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty() || path == "/") path = "/index.html";
  const WebAsset* begin = kWebAssets;
  const WebAsset* end = kWebAssets + kWebAssetCount;
  // The generator writes the table sorted by path.
  const WebAsset* it =
      std::lower_bound(begin, end, path, [](const WebAsset& a, std::string_view p) { return a.path < p; });
  return it != end && it->path == path ? it : nullptr;
}

size_t WebAssetCount() { return kWebAssetCount; }

}  // namespace ocular::webui
