// Guards around nlohmann::json for untrusted text (internal): a nesting-depth pre-scan (so no
// parser or destructor recursion depends on input) and a non-throwing parse that also rejects
// duplicate object keys (nlohmann would silently keep the last one).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ocular::loader {

// Maximum nesting of [ and { outside strings; returns false when it exceeds `max_depth`
// or brackets are unbalanced.
[[nodiscard]] bool JsonDepthWithin(std::string_view text, int max_depth);

// Parses `text` as JSON. `what` names the document in errors ("safetensors header").
// Errors never echo the text or the library's message.
Result<nlohmann::json> ParseJsonStrict(std::string_view text, int max_depth,
                                       std::string_view what);

}  // namespace ocular::loader
