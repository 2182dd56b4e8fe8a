// Chat templates: the model's own Jinja template rendered with HF `apply_chat_template`
// conventions (variables `messages`, `tools`, `add_generation_prompt`, the special-token strings
// of tokenizer_config.json, plus caller kwargs such as `add_vision_id` / `enable_thinking`).
//
// Sources, in HF's order of precedence inside a model folder: chat_template.jinja,
// chat_template.json ({"chat_template": "..."}), tokenizer_config.json (`chat_template` as a
// string or a list of {name, template}). A GGUF's `tokenizer.chat_template` is passed as a
// string. A built-in Qwen3-VL template is used only when a checkpoint ships none.
//
// Thread-safety: immutable after creation; Render may be called concurrently.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/chat/jinja_template.h"

namespace ocular::chat {

struct ChatRenderInput {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // OpenAI-style messages
  nlohmann::ordered_json tools;  // null (no tools) or an array of tool schemas
  bool add_generation_prompt = false;
  // Extra template variables (add_vision_id, enable_thinking, ...); a JSON object or null.
  nlohmann::ordered_json kwargs;
};

class ChatTemplate {
 public:
  // Special-token strings exposed to templates (bos_token, eos_token, pad_token, ...).
  using TokenStrings = std::vector<std::pair<std::string, nlohmann::ordered_json>>;

  // Loads the template of a model folder (see above); falls back to the built-in template when
  // the folder has none. tokenizer_config.json, when present, supplies the token strings.
  static Result<ChatTemplate> FromModelDir(const std::filesystem::path& dir,
                                           const jinja::Limits& limits = {});
  // A template given as text (e.g. GGUF `tokenizer.chat_template`).
  static Result<ChatTemplate> FromString(std::string_view source, TokenStrings tokens = {},
                                         const jinja::Limits& limits = {});
  // The built-in Qwen3-VL Instruct format (spec: no default system prompt, vision
  // placeholders, tool preamble, tool responses folded into user turns).
  static Result<ChatTemplate> BuiltinQwen3VL(TokenStrings tokens = {},
                                             const jinja::Limits& limits = {});

  Result<std::string> Render(const ChatRenderInput& input) const;

  bool is_builtin() const { return builtin_; }
  // Where the template came from ("chat_template.json", "builtin", ...), for logs.
  const std::string& origin() const { return origin_; }

 private:
  ChatTemplate() = default;
  // Named templates; "default" always exists; "tool_use" is preferred when tools are given.
  std::vector<std::pair<std::string, jinja::Template>> templates_;
  TokenStrings tokens_;
  bool builtin_ = false;
  std::string origin_;
};

// Token strings (bos_token, eos_token, unk_token, pad_token, additional_special_tokens ...)
// from a parsed tokenizer_config.json; AddedToken objects are reduced to their content.
ChatTemplate::TokenStrings TokenStringsFromConfig(const nlohmann::ordered_json& config);

// The text of the built-in template.
std::string_view BuiltinQwen3VLTemplateText();

}  // namespace ocular::chat
