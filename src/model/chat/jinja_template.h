// A parsed Jinja-subset template and its bounded renderer.
//
// Chat templates come with model files and are executed on every request, so rendering is
// bounded in every dimension that a hostile template could inflate: evaluation steps, loop
// iterations, recursion (macro calls and expression nesting), string and output sizes and the
// total bytes built. Exceeding a limit fails with RESOURCE_EXHAUSTED / OUT_OF_RANGE naming the
// template line; nothing aborts. The defaults render real chat templates with a wide margin and
// stop hostile ones well under a second.
//
// Thread-safety: a Template is immutable after Parse; Render may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/chat/jinja_value.h"

namespace ocular::chat::jinja {

struct Limits {
  int64_t max_steps = 1'000'000;            // evaluated nodes
  int64_t max_loop_iterations = 200'000;    // all loops together
  int64_t max_range = 1'000'000;            // elements of one range() / list built at once
  size_t max_output_bytes = 32u << 20;      // rendered text (and each macro's output)
  size_t max_string_bytes = 16u << 20;      // any one string value
  int64_t max_alloc_bytes = 256ll << 20;    // bytes of strings and lists built, cumulative
  int max_call_depth = 32;                  // nested macro calls
  int max_eval_depth = 400;                 // nested evaluation frames (bounds the C++ stack)
  int max_nesting = 128;                    // parser: nested blocks and expressions
  size_t max_template_bytes = 1u << 20;     // template source size
};

class Template {
 public:
  // Parses `source`. Errors name the line.
  static Result<Template> Parse(std::string_view source, const Limits& limits = {});

  // Renders with `context` (a JSON object: variable name -> value).
  Result<std::string> Render(const nlohmann::ordered_json& context) const;
  // Renders with a dict Value as the global variables.
  Result<std::string> Render(const Value& context) const;

  const Limits& limits() const { return limits_; }

 private:
  struct Parsed;
  Template(std::shared_ptr<const Parsed> parsed, const Limits& limits)
      : parsed_(std::move(parsed)), limits_(limits) {}
  std::shared_ptr<const Parsed> parsed_;
  Limits limits_;
};

}  // namespace ocular::chat::jinja
