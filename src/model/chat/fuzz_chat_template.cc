// libFuzzer target: arbitrary template text is parsed and rendered against a fixed small
// conversation. Any input must either render or fail with a Status: no crash, no sanitizer
// report, no hang (the interpreter's limits bound time and memory).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/chat/jinja_template.h"

namespace {

const nlohmann::ordered_json& Context() {
  static const nlohmann::ordered_json kContext = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": [{"type": "image"}, {"type": "video"},
                                   {"type": "text", "text": "Describe.\n<think>x</think>"}]},
      {"role": "assistant", "content": "ok", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null, true]}}}]},
      {"role": "tool", "content": "42"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "add_vision_id": true, "enable_thinking": false,
    "bos_token": "<|endoftext|>", "eos_token": "<|im_end|>"
  })");
  return kContext;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ocular::chat::jinja::Limits limits;
  // Smaller budgets keep each execution fast; the limits are the same code paths.
  limits.max_steps = 200'000;
  limits.max_loop_iterations = 50'000;
  limits.max_range = 100'000;
  limits.max_output_bytes = 1u << 20;
  limits.max_string_bytes = 1u << 20;
  limits.max_alloc_bytes = 16ll << 20;
  std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tmpl = ocular::chat::jinja::Template::Parse(source, limits);
  if (!tmpl.ok()) return 0;
  auto rendered = tmpl->Render(Context());
  (void)rendered;
  return 0;
}
