// The asset table when the web UI is not built (OCULAR_BUILD_WEB=OFF): no files.
#include "webui/web_assets_table.h"

namespace ocular::webui {

// One placeholder element (a zero-length array is not standard C++); the count is 0.
const WebAsset kWebAssets[1] = {};
const size_t kWebAssetCount = 0;

}  // namespace ocular::webui
