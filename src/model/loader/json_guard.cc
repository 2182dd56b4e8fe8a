#include "model/loader/json_guard.h"

#include <set>
#include <string>
#include <vector>

namespace ocular::loader {

bool JsonDepthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      if (--depth < 0) return false;
    }
  }
  return true;
}

Result<nlohmann::json> ParseJsonStrict(std::string_view text, int max_depth,
                                       std::string_view what) {
  if (!JsonDepthWithin(text, max_depth)) {
    return InvalidArgument(std::string(what) + ": JSON nesting deeper than " +
                           std::to_string(max_depth) + " or unbalanced");
  }
  // One key set per open object; a repeated key marks the document invalid.
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event,
                      nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      keys.emplace_back();
    } else if (event == E::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == E::key && !keys.empty() && parsed.is_string()) {
      if (!keys.back().insert(parsed.get_ref<const std::string&>()).second) duplicate = true;
    }
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end(), callback,
                                /*allow_exceptions=*/false);
  } catch (...) {
    // The library may still throw on internal conditions; never let it cross the boundary.
    return InvalidArgument(std::string(what) + ": invalid JSON");
  }
  if (doc.is_discarded()) return InvalidArgument(std::string(what) + ": invalid JSON");
  if (duplicate) return InvalidArgument(std::string(what) + ": duplicate key in a JSON object");
  return doc;
}

}  // namespace ocular::loader
