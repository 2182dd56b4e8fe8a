// Configs of the released Qwen3-VL dense models (spec/qwen3-vl.md section 1.3) and of the
// golden tiny-a model, for `ocular gen`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/qwen3vl/config.h"

namespace ocular::qwen3vl {

// "tiny" (= golden tiny-a), "qwen3-vl-2b", "qwen3-vl-4b", "qwen3-vl-8b". The result is
// validated. InvalidArgument naming the choices for anything else.
Result<ModelConfig> PresetConfig(std::string_view name);
std::vector<std::string> PresetNames();
// Human-readable model name for metadata ("Qwen3 VL 2B").
std::string PresetDisplayName(std::string_view name);

}  // namespace ocular::qwen3vl
