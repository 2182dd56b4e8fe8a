#include "model/chat/chat_template.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace ocular::chat {
namespace {

constexpr uintmax_t kMaxConfigBytes = 64u << 20;

Result<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read " + path.filename().string());
  if (size > kMaxConfigBytes) return OutOfRange(path.filename().string() + " is too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path.filename().string());
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size) {
    return DataLoss("short read of " + path.filename().string());
  }
  return text;
}

Result<nlohmann::ordered_json> ReadJson(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(text, nullptr, false);
  if (json.is_discarded()) return InvalidArgument(path.filename().string() + " is not valid JSON");
  return json;
}

}  // namespace

ChatTemplate::TokenStrings TokenStringsFromConfig(const nlohmann::ordered_json& config) {
  ChatTemplate::TokenStrings out;
  if (!config.is_object()) return out;
  static constexpr const char* kNames[] = {"bos_token", "eos_token",  "unk_token", "sep_token",
                                           "pad_token", "cls_token", "mask_token"};
  auto content = [](const nlohmann::ordered_json& v) -> nlohmann::ordered_json {
    if (v.is_string()) return v;
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"];
    return nullptr;
  };
  for (const char* name : kNames) {
    auto it = config.find(name);
    if (it == config.end()) continue;
    nlohmann::ordered_json value = content(*it);
    if (!value.is_null()) out.emplace_back(name, std::move(value));  // HF omits unset tokens
  }
  auto extra = config.find("additional_special_tokens");
  if (extra != config.end() && extra->is_array()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& v : *extra) {
      nlohmann::ordered_json value = content(v);
      if (!value.is_null()) list.push_back(std::move(value));
    }
    out.emplace_back("additional_special_tokens", std::move(list));
  }
  return out;
}

Result<ChatTemplate> ChatTemplate::FromString(std::string_view source, TokenStrings tokens,
                                              const jinja::Limits& limits) {
  ChatTemplate t;
  Result<jinja::Template> parsed = jinja::Template::Parse(source, limits);
  if (!parsed.ok()) return parsed.status().WithContext("chat template");
  t.templates_.emplace_back("default", std::move(parsed).value());
  t.tokens_ = std::move(tokens);
  t.origin_ = "string";
  return t;
}

Result<ChatTemplate> ChatTemplate::BuiltinQwen3VL(TokenStrings tokens,
                                                  const jinja::Limits& limits) {
  ASSIGN_OR_RETURN(ChatTemplate t, FromString(BuiltinQwen3VLTemplateText(), std::move(tokens), limits));
  t.builtin_ = true;
  t.origin_ = "builtin";
  return t;
}

Result<ChatTemplate> ChatTemplate::FromModelDir(const std::filesystem::path& dir,
                                                const jinja::Limits& limits) {
  TokenStrings tokens;
  nlohmann::ordered_json tokenizer_config;
  const std::filesystem::path config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    ASSIGN_OR_RETURN(tokenizer_config, ReadJson(config_path));
    tokens = TokenStringsFromConfig(tokenizer_config);
  }
  const std::filesystem::path jinja_path = dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja_path)) {
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(jinja_path));
    ASSIGN_OR_RETURN(ChatTemplate t, FromString(text, std::move(tokens), limits));
    t.origin_ = "chat_template.jinja";
    return t;
  }
  const std::filesystem::path json_path = dir / "chat_template.json";
  if (std::filesystem::exists(json_path)) {
    ASSIGN_OR_RETURN(nlohmann::ordered_json json, ReadJson(json_path));
    if (!json.is_object() || !json.contains("chat_template") || !json["chat_template"].is_string()) {
      return InvalidArgument("chat_template.json has no chat_template string");
    }
    ASSIGN_OR_RETURN(ChatTemplate t,
                     FromString(json["chat_template"].get<std::string>(), std::move(tokens), limits));
    t.origin_ = "chat_template.json";
    return t;
  }
  if (tokenizer_config.is_object() && tokenizer_config.contains("chat_template")) {
    const auto& ct = tokenizer_config["chat_template"];
    if (ct.is_string()) {
      ASSIGN_OR_RETURN(ChatTemplate t, FromString(ct.get<std::string>(), std::move(tokens), limits));
      t.origin_ = "tokenizer_config.json";
      return t;
    }
    if (ct.is_array()) {
      // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
      ChatTemplate t;
      for (const auto& entry : ct) {
        if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
            !entry.contains("template") || !entry["template"].is_string()) {
          return InvalidArgument("tokenizer_config.json: malformed named chat template");
        }
        Result<jinja::Template> parsed =
            jinja::Template::Parse(entry["template"].get<std::string>(), limits);
        if (!parsed.ok()) return parsed.status().WithContext("chat template");
        t.templates_.emplace_back(entry["name"].get<std::string>(), std::move(parsed).value());
      }
      bool has_default = false;
      for (const auto& [name, tmpl] : t.templates_) has_default = has_default || name == "default";
      if (!has_default) {
        return InvalidArgument("tokenizer_config.json: no chat template named 'default'");
      }
      t.tokens_ = std::move(tokens);
      t.origin_ = "tokenizer_config.json";
      return t;
    }
    if (!ct.is_null()) return InvalidArgument("tokenizer_config.json: bad chat_template");
  }
  return BuiltinQwen3VL(std::move(tokens), limits);
}

Result<std::string> ChatTemplate::Render(const ChatRenderInput& input) const {
  if (!input.messages.is_array()) return InvalidArgument("messages must be an array");
  if (!input.tools.is_null() && !input.tools.is_array()) {
    return InvalidArgument("tools must be an array");
  }
  if (!input.kwargs.is_null() && !input.kwargs.is_object()) {
    return InvalidArgument("template kwargs must be an object");
  }
  const jinja::Template* chosen = nullptr;
  for (const auto& [name, tmpl] : templates_) {
    if (name == "default" && chosen == nullptr) chosen = &tmpl;
    if (name == "tool_use" && !input.tools.is_null() && !input.tools.empty()) {
      chosen = &tmpl;
      break;
    }
  }
  if (chosen == nullptr) return Internal("chat template has no default");
  // HF: render(messages=, tools=, documents=, add_generation_prompt=, **special_tokens_map,
  // **kwargs); later keys win.
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = input.messages;
  context["tools"] = input.tools;
  context["documents"] = nullptr;
  context["add_generation_prompt"] = input.add_generation_prompt;
  for (const auto& [name, value] : tokens_) context[name] = value;
  if (input.kwargs.is_object()) {
    for (auto it = input.kwargs.begin(); it != input.kwargs.end(); ++it) {
      context[it.key()] = it.value();
    }
  }
  Result<std::string> text = chosen->Render(context);
  if (!text.ok()) return text.status().WithContext("chat template");
  return text;
}

}  // namespace ocular::chat
