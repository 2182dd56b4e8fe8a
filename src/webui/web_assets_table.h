// The table the generated (or empty) source defines: kWebAssetCount entries sorted by path.
#pragma once

#include <cstddef>

#include "webui/web_assets.h"

namespace ocular::webui {

extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

}  // namespace ocular::webui
