// ChatTemplate: sources and their precedence, token strings, kwargs and named templates.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "model/chat/chat_template.h"
#include "tests/support/golden.h"

namespace ocular::chat {
namespace {

using Json = nlohmann::ordered_json;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

ChatRenderInput OneUserMessage() {
  ChatRenderInput input;
  input.messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  return input;
}

TEST(ChatTemplate, ExposesTokenStringsAndKwargs) {
  Json config = {{"bos_token", nullptr},
                 {"eos_token", {{"content", "<|im_end|>"}, {"lstrip", false}}},
                 {"pad_token", "<|endoftext|>"},
                 {"additional_special_tokens", Json::array({"<a>", "<b>"})}};
  auto t = ChatTemplate::FromString(
      "{{ bos_token is defined }}|{{ eos_token }}|{{ pad_token }}|"
      "{{ additional_special_tokens | join(',') }}|{{ enable_thinking }}|{{ add_generation_prompt }}"
      "|{{ tools }}|{{ messages[0].content }}",
      TokenStringsFromConfig(config));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ChatRenderInput input = OneUserMessage();
  input.add_generation_prompt = true;
  input.kwargs = {{"enable_thinking", false}};
  auto r = t->Render(input);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "False|<|im_end|>|<|endoftext|>|<a>,<b>|False|True|None|hi");
}

TEST(ChatTemplate, ModelDirPrecedenceJinjaThenJsonThenTokenizerConfig) {
  ocular::testing::TempDir dir;
  WriteFile(dir.path() / "tokenizer_config.json",
            R"({"chat_template": "from tokenizer_config", "eos_token": "E"})");
  auto t = ChatTemplate::FromModelDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t->Render(OneUserMessage()), "from tokenizer_config");

  WriteFile(dir.path() / "chat_template.json", R"({"chat_template": "from json {{ eos_token }}"})");
  t = ChatTemplate::FromModelDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t->Render(OneUserMessage()), "from json E");

  WriteFile(dir.path() / "chat_template.jinja", "from jinja\n");
  t = ChatTemplate::FromModelDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t->Render(OneUserMessage()), "from jinja");
  EXPECT_EQ(t->origin(), "chat_template.jinja");
}

TEST(ChatTemplate, NamedTemplatesPickDefaultOrToolUse) {
  ocular::testing::TempDir dir;
  WriteFile(dir.path() / "tokenizer_config.json",
            R"({"chat_template": [{"name": "tool_use", "template": "tools"},
                                  {"name": "default", "template": "plain"}]})");
  auto t = ChatTemplate::FromModelDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ChatRenderInput input = OneUserMessage();
  EXPECT_EQ(*t->Render(input), "plain");
  input.tools = Json::array({{{"name", "f"}}});
  EXPECT_EQ(*t->Render(input), "tools");
}

TEST(ChatTemplate, FallsBackToBuiltinOnlyWithoutATemplate) {
  ocular::testing::TempDir dir;
  WriteFile(dir.path() / "tokenizer_config.json", R"({"eos_token": "<|im_end|>"})");
  auto t = ChatTemplate::FromModelDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->is_builtin());
  ChatRenderInput input;
  input.messages = Json::parse(R"([{"role": "system", "content": "S"},
      {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What?"}]}])");
  input.add_generation_prompt = true;
  EXPECT_EQ(*t->Render(input),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n"
            "<|vision_start|><|image_pad|><|vision_end|>What?<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, BadSourcesFailCleanly) {
  ocular::testing::TempDir dir;
  WriteFile(dir.path() / "chat_template.json", "{not json");
  EXPECT_EQ(ChatTemplate::FromModelDir(dir.path()).status().code(), StatusCode::kInvalidArgument);
  WriteFile(dir.path() / "chat_template.json", R"({"chat_template": "{% if %}"})");
  auto t = ChatTemplate::FromModelDir(dir.path());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 1"), std::string::npos) << t.status().ToString();
  auto s = ChatTemplate::FromString("{{ messages[0].content.upper() }}");
  ASSERT_TRUE(s.ok());
  ChatRenderInput input;
  input.messages = Json::object();  // not an array
  EXPECT_FALSE(s->Render(input).ok());
}

}  // namespace
}  // namespace ocular::chat
