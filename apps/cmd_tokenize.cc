// `ocular tokenize --model PATH [--decode] [--special] TEXT`: runs the model's tokenizer.
//
// Encode prints {"ids": [...]}; with --decode, TEXT is a JSON array or a space/comma separated
// list of ids and it prints {"text": "..."}. PATH is a model folder (tokenizer.json), a
// tokenizer.json file or a GGUF file. All option parsing lives here so further options (e.g.
// chat templates) are added in one place: extend TokenizeArgs, register the option in
// RegisterTokenize and handle it in RunTokenize.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "model/chat/chat_request.h"
#include "model/chat/chat_template.h"
#include "model/tokenizer/load_tokenizer.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  bool decode = false;
  bool special = false;
  std::string chat;  // --chat FILE.json: render + expand + tokenize a conversation
};

// "[1, 2, 3]" (JSON) or "1 2 3" / "1,2,3".
Result<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_array()) return InvalidArgument("ids: not a JSON array");
    for (const nlohmann::json& v : j) {
      if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX) {
        return InvalidArgument("ids: every element must be an integer token id");
      }
      ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    return ids;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == ',' || text[pos] == '\t' || text[pos] == '\n') {
      ++pos;
      continue;
    }
    int32_t id = 0;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), id);
    if (ec != std::errc() || (end != text.data() + text.size() && *end != ' ' && *end != ',' &&
                              *end != '\t' && *end != '\n')) {
      return InvalidArgument("ids: expected integers separated by spaces or commas");
    }
    ids.push_back(id);
    pos = static_cast<size_t>(end - text.data());
  }
  return ids;
}

// --chat: the model's chat template (the folder of --model), media expansion, ids and M-RoPE
// positions, printed as JSON (model/chat/chat_request.h describes both layouts).
int RunChat(const TokenizeArgs& args, const tokenizer::Tokenizer& tok) {
  namespace fs = std::filesystem;
  const fs::path model(args.model);
  std::error_code ec;
  const fs::path dir = fs::is_directory(model, ec) ? model : model.parent_path();
  Result<chat::ChatTemplate> tmpl = chat::ChatTemplate::FromModelDir(dir.empty() ? "." : dir);
  if (!tmpl.ok()) return Fail("tokenize", tmpl.status());
  std::FILE* f = std::fopen(args.chat.c_str(), "rb");
  if (f == nullptr) return Fail("tokenize", NotFound("cannot open the --chat file"));
  std::string text;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);
  nlohmann::ordered_json request = nlohmann::ordered_json::parse(text, nullptr, false);
  if (request.is_discarded()) return Fail("tokenize", InvalidArgument("--chat file is not JSON"));
  chat::VisionTokenIds ids;
  for (auto [name, id] : {std::pair{"<|vision_start|>", &ids.vision_start},
                          std::pair{"<|vision_end|>", &ids.vision_end},
                          std::pair{"<|image_pad|>", &ids.image_pad},
                          std::pair{"<|video_pad|>", &ids.video_pad}}) {
    std::optional<int32_t> found = tok.TokenToId(name);
    if (!found) return Fail("tokenize", NotFound("tokenizer lacks the vision special tokens"));
    *id = *found;
  }
  auto encode = [&tok](std::string_view s) { return tok.Encode(s, {.parse_special = true}); };
  Result<nlohmann::ordered_json> out = chat::BuildChatPromptJson(*tmpl, request, encode, ids);
  if (!out.ok()) return Fail("tokenize", out.status());
  std::printf("%s\n", out->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return kExitOk;
}

int RunTokenize(const TokenizeArgs& args) {
  Result<tokenizer::Tokenizer> tok = tokenizer::LoadTokenizer(args.model);
  if (!tok.ok()) return Fail("tokenize", tok.status());
  if (!args.chat.empty()) return RunChat(args, *tok);
  nlohmann::json out;
  if (args.decode) {
    Result<std::vector<int32_t>> ids = ParseIds(args.text);
    if (!ids.ok()) return Fail("tokenize", ids.status());
    Result<std::string> text = tok->Decode(*ids, {.skip_special_tokens = !args.special});
    if (!text.ok()) return Fail("tokenize", text.status());
    out["text"] = *text;
  } else {
    out["ids"] = tok->Encode(args.text, {.parse_special = args.special});
  }
  std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return kExitOk;
}

}  // namespace

void RegisterTokenize(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = root.add_subcommand("tokenize", "Encode text to token ids, or decode ids to text");
  cmd->add_option("--model", args->model,
                  "Model folder (with tokenizer.json), a tokenizer.json file or a GGUF file")
      ->required();
  cmd->add_flag("--decode", args->decode,
                "TEXT is a list of ids (JSON array, or separated by spaces/commas); print the text");
  cmd->add_flag("--special", args->special,
                "Treat special tokens (<|im_start|> ...) as special: recognise them in TEXT when "
                "encoding, keep them in the output when decoding. Without it they are plain text "
                "when encoding and dropped when decoding. Non-special added tokens such as <think> "
                "are always recognised and kept.");
  CLI::Option* text = cmd->add_option("TEXT", args->text, "Text to encode (or ids with --decode)");
  cmd->add_option("--chat", args->chat,
                  "JSON file with messages (+ tools, add_generation_prompt, template_kwargs, media "
                  "grids): print the rendered prompt, expanded ids and M-RoPE positions")
      ->excludes(text);
  cmd->callback([args, text, &exit_code] {
    if (args->chat.empty() && text->count() == 0) {
      exit_code = Fail("tokenize", "TEXT is required (or --chat FILE.json)");
      return;
    }
    exit_code = RunTokenize(*args);
  });
}

}  // namespace ocular::cli
