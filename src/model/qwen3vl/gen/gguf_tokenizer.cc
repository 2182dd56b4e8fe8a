#include "model/qwen3vl/gen/gguf_tokenizer.h"

#include <nlohmann/json.hpp>

#include "model/qwen3vl/config_json_util.h"

namespace ocular::qwen3vl::gen {
namespace {

constexpr uint64_t kMaxTokenizerBytes = 64ull << 20;

bool LooksSpecial(const std::string& s) {
  return s.size() >= 4 && s.rfind("<|", 0) == 0 && s.compare(s.size() - 2, 2, "|>") == 0;
}

// tokenizer_config's eos_token / pad_token: a string or {"content": ...}.
std::string TokenText(const nlohmann::json& cfg, const char* key) {
  const nlohmann::json* v = json_util::Find(cfg, key);
  if (v == nullptr) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object() && v->contains("content") && (*v)["content"].is_string()) {
    return (*v)["content"].get<std::string>();
  }
  return "";
}

}  // namespace

Result<GgufTokenizer> BuildGgufTokenizer(const std::filesystem::path& dir, int64_t vocab_size) {
  const std::string tok_path = (dir / "tokenizer.json").string();
  ASSIGN_OR_RETURN(std::string tok_text, json_util::ReadSmallFile(tok_path, kMaxTokenizerBytes));
  ASSIGN_OR_RETURN(nlohmann::json tok, json_util::ParseObject(tok_text, tok_path));
  const nlohmann::json* model = json_util::Find(tok, "model");
  if (model == nullptr || !model->is_object() || !model->contains("vocab") ||
      !(*model)["vocab"].is_object()) {
    return InvalidArgument(tok_path + ": missing model.vocab");
  }
  GgufTokenizer out;
  out.tokens.assign(static_cast<size_t>(vocab_size), std::string());
  out.token_types.assign(static_cast<size_t>(vocab_size), kTokenUnused);
  std::vector<bool> seen(static_cast<size_t>(vocab_size), false);
  auto place = [&](const std::string& text, const nlohmann::json& id_json,
                   int32_t type) -> Status {
    if (!id_json.is_number_integer()) return InvalidArgument(tok_path + ": token id not an integer");
    int64_t id = id_json.get<int64_t>();
    if (id < 0 || id >= vocab_size) {
      return OutOfRange(tok_path + ": token id " + std::to_string(id) +
                        " is outside the model vocabulary of " + std::to_string(vocab_size));
    }
    out.tokens[id] = text;
    out.token_types[id] = type;
    seen[id] = true;
    return OkStatus();
  };
  for (const auto& [text, id] : (*model)["vocab"].items()) {
    RETURN_IF_ERROR(place(text, id, kTokenNormal));
  }
  if (const nlohmann::json* added = json_util::Find(tok, "added_tokens"); added != nullptr) {
    if (!added->is_array()) return InvalidArgument(tok_path + ": added_tokens must be a list");
    for (const nlohmann::json& a : *added) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string() ||
          !a.contains("id")) {
        return InvalidArgument(tok_path + ": malformed added_tokens entry");
      }
      std::string text = a["content"].get<std::string>();
      bool special = a.value("special", false);
      RETURN_IF_ERROR(place(text, a["id"],
                            special || LooksSpecial(text) ? kTokenControl : kTokenUserDefined));
    }
  }
  for (int64_t id = 0; id < vocab_size; ++id) {
    if (!seen[id]) out.tokens[id] = "[PAD" + std::to_string(id) + "]";
  }
  if (const nlohmann::json* merges = json_util::Find(*model, "merges"); merges != nullptr) {
    if (!merges->is_array()) return InvalidArgument(tok_path + ": model.merges must be a list");
    out.merges.reserve(merges->size());
    for (const nlohmann::json& m : *merges) {
      if (m.is_string()) {
        out.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        out.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        return InvalidArgument(tok_path + ": malformed merge entry");
      }
    }
  }

  const std::string cfg_path = (dir / "tokenizer_config.json").string();
  ASSIGN_OR_RETURN(std::string cfg_text, json_util::ReadSmallFile(cfg_path, 4 << 20));
  ASSIGN_OR_RETURN(nlohmann::json cfg, json_util::ParseObject(cfg_text, cfg_path));
  auto id_of = [&](const std::string& text) -> int64_t {
    for (int64_t id = vocab_size - 1; id >= 0; --id) {
      if (out.tokens[id] == text) return id;
    }
    return -1;
  };
  out.eos_token_id = id_of(TokenText(cfg, "eos_token"));
  out.pad_token_id = id_of(TokenText(cfg, "pad_token"));
  if (out.eos_token_id < 0) return NotFound(cfg_path + ": eos_token is not in the vocabulary");
  ASSIGN_OR_RETURN(out.add_bos_token, json_util::GetBool(cfg, "add_bos_token", "", false));
  ASSIGN_OR_RETURN(out.chat_template, json_util::GetString(cfg, "chat_template", "", ""));
  if (out.chat_template.empty()) {
    Result<std::string> ct = json_util::ReadSmallFile((dir / "chat_template.json").string(), 4 << 20);
    if (ct.ok()) {
      ASSIGN_OR_RETURN(nlohmann::json ctj, json_util::ParseObject(*ct, "chat_template.json"));
      ASSIGN_OR_RETURN(out.chat_template, json_util::GetString(ctj, "chat_template", "", ""));
    }
  }
  return out;
}

}  // namespace ocular::qwen3vl::gen
