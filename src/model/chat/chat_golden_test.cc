// Golden tests: the checkpoint's chat template (and the built-in one) render every golden
// conversation byte-identically to HF/Jinja2; expansion, token ids and M-RoPE positions match
// HF's processor and get_rope_index, for the chat cases and the forward-pass cases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/chat/chat_request.h"
#include "model/chat/chat_template.h"
#include "model/chat/prompt_builder.h"
#include "model/tokenizer/load_tokenizer.h"
#include "tests/support/golden.h"

namespace ocular::chat {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

Json ReadJson(const fs::path& path) {
  return Json::parse(ocular::testing::ReadFileText(path));
}

std::vector<MediaItem> MediaFromCase(const Json& media) {
  std::vector<MediaItem> items;
  for (const auto& m : media) {
    MediaItem item;
    item.kind = m["kind"] == "video" ? MediaKind::kVideo : MediaKind::kImage;
    for (int k = 0; k < 3; ++k) item.grid_thw[k] = m["grid_thw"][k].get<int64_t>();
    if (m.contains("timestamps_seconds")) {
      item.timestamps_seconds = m["timestamps_seconds"].get<std::vector<double>>();
    }
    items.push_back(std::move(item));
  }
  return items;
}

ChatRenderInput InputFromCase(const Json& c) {
  ChatRenderInput input;
  input.messages = c["messages"];
  input.tools = c.contains("tools") ? c["tools"] : Json();
  input.add_generation_prompt = c["add_generation_prompt"].get<bool>();
  input.kwargs = c.contains("template_kwargs") ? c["template_kwargs"] : Json::object();
  return input;
}

std::vector<fs::path> ChatCases(const fs::path& golden) {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(golden / "chat")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name == "summary.json" ||
        name.rfind("llamacpp", 0) == 0) {
      continue;
    }
    cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class ChatGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = ocular::testing::GoldenDir();
    if (!dir) GTEST_SKIP() << "golden data not found";
    model_dir_ = *dir / "models" / "tiny-a";
  }
  EncodeFn Encoder(const tokenizer::Tokenizer& tok) {
    return [&tok](std::string_view text) { return tok.Encode(text); };
  }
  VisionTokenIds Ids(const tokenizer::Tokenizer& tok) {
    VisionTokenIds ids;
    ids.vision_start = *tok.TokenToId("<|vision_start|>");
    ids.vision_end = *tok.TokenToId("<|vision_end|>");
    ids.image_pad = *tok.TokenToId("<|image_pad|>");
    ids.video_pad = *tok.TokenToId("<|video_pad|>");
    return ids;
  }
  fs::path model_dir_;
};

TEST_F(ChatGolden, ModelTemplateRendersEveryCaseExactly) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto tmpl = ChatTemplate::FromModelDir(model_dir_);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  EXPECT_FALSE(tmpl->is_builtin());
  EXPECT_EQ(tmpl->origin(), "chat_template.json");
  auto cases = ChatCases(golden);
  ASSERT_EQ(cases.size(), 11u);
  for (const auto& path : cases) {
    SCOPED_TRACE(path.filename().string());
    Json c = ReadJson(path);
    auto rendered = tmpl->Render(InputFromCase(c));
    ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
    EXPECT_EQ(*rendered, c["rendered"].get<std::string>());
  }
}

TEST_F(ChatGolden, BuiltinTemplateRendersEveryCaseExactly) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto tmpl = ChatTemplate::BuiltinQwen3VL();
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  EXPECT_TRUE(tmpl->is_builtin());
  for (const auto& path : ChatCases(golden)) {
    SCOPED_TRACE(path.filename().string());
    Json c = ReadJson(path);
    auto rendered = tmpl->Render(InputFromCase(c));
    ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
    EXPECT_EQ(*rendered, c["rendered"].get<std::string>());
  }
}

TEST_F(ChatGolden, TokenizerConfigTemplateMatchesChatTemplateJson) {
  OCULAR_REQUIRE_GOLDEN(golden);
  // tiny-a ships the same template in tokenizer_config.json; load it from there alone.
  ocular::testing::TempDir dir;
  fs::copy_file(model_dir_ / "tokenizer_config.json", dir.path() / "tokenizer_config.json");
  auto tmpl = ChatTemplate::FromModelDir(dir.path());
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  EXPECT_EQ(tmpl->origin(), "tokenizer_config.json");
  Json c = ReadJson(golden / "chat" / "tools_call_response.json");
  auto rendered = tmpl->Render(InputFromCase(c));
  ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
  EXPECT_EQ(*rendered, c["rendered"].get<std::string>());
}

TEST_F(ChatGolden, ExpansionIdsAndPositionsMatchEveryCase) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto tok = tokenizer::LoadTokenizer(model_dir_);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  for (const auto& path : ChatCases(golden)) {
    SCOPED_TRACE(path.filename().string());
    Json c = ReadJson(path);
    std::vector<MediaItem> media = MediaFromCase(c["media"]);
    auto prompt = BuildPrompt(c["rendered"].get<std::string>(), media, Encoder(*tok), Ids(*tok));
    ASSERT_TRUE(prompt.ok()) << prompt.status().ToString();
    EXPECT_EQ(prompt->text, c["expanded"].get<std::string>());
    EXPECT_EQ(prompt->ids, c["ids"].get<std::vector<int32_t>>());
    const size_t n = prompt->ids.size();
    ASSERT_EQ(prompt->positions.size(), 3 * n);
    for (int axis = 0; axis < 3; ++axis) {
      std::vector<int32_t> row(prompt->positions.begin() + axis * n,
                               prompt->positions.begin() + (axis + 1) * n);
      EXPECT_EQ(row, c["mrope_position_ids"][axis].get<std::vector<int32_t>>()) << "axis " << axis;
    }
    EXPECT_EQ(prompt->rope_delta, c["rope_delta"].get<int64_t>());
    int64_t image_pads = 0, video_pads = 0;
    for (const MediaSpan& span : prompt->spans) {
      (span.kind == MediaKind::kImage ? image_pads : video_pads) += span.num_tokens;
      for (int64_t k = 0; k < span.num_tokens; ++k) {
        const int32_t id = prompt->ids[static_cast<size_t>(span.first_token + k)];
        EXPECT_EQ(id, span.kind == MediaKind::kImage ? 151655 : 151656);
      }
    }
    EXPECT_EQ(image_pads, c["n_image_pad"].get<int64_t>());
    EXPECT_EQ(video_pads, c["n_video_pad"].get<int64_t>());
  }
}

TEST_F(ChatGolden, ForwardCasesIdsAndPositions) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto tok = tokenizer::LoadTokenizer(model_dir_);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto tmpl = ChatTemplate::FromModelDir(model_dir_);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(golden / "forward" / "tiny-a")) {
    if (!fs::exists(entry.path() / "case.json")) continue;
    SCOPED_TRACE(entry.path().filename().string());
    Json c = ReadJson(entry.path() / "case.json");
    ChatRenderInput input;
    input.messages = c["messages"];
    input.add_generation_prompt = c.value("add_generation_prompt", true);
    input.kwargs = c.contains("template_kwargs") ? c["template_kwargs"] : Json::object();
    auto rendered = tmpl->Render(input);
    ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
    EXPECT_EQ(*rendered, c["rendered"].get<std::string>());
    std::vector<MediaItem> media = MediaFromCase(c["media"]);
    auto prompt = BuildPrompt(*rendered, media, Encoder(*tok), Ids(*tok));
    ASSERT_TRUE(prompt.ok()) << prompt.status().ToString();
    EXPECT_EQ(prompt->text, c["expanded"].get<std::string>());
    std::vector<int32_t> ids = ocular::testing::ReadI32(entry.path() / "input_ids.i32");
    EXPECT_EQ(prompt->ids, ids);
    EXPECT_EQ(prompt->ids, c["input_ids"].get<std::vector<int32_t>>());
    std::vector<int32_t> positions = ocular::testing::ReadI32(entry.path() / "positions.i32");
    EXPECT_EQ(prompt->positions, positions);
    EXPECT_EQ(prompt->rope_delta, c["rope_delta"].get<int64_t>());
    EXPECT_EQ(prompt->num_tokens() + prompt->rope_delta,
              c["first_generated_position"].get<int64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

}  // namespace
}  // namespace ocular::chat

namespace ocular::chat {
namespace {

TEST(ChatGoldenJson, BuildChatPromptJsonMatchesTheGoldenCase) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path model_dir = golden / "models" / "tiny-a";
  auto tok = tokenizer::LoadTokenizer(model_dir);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto tmpl = ChatTemplate::FromModelDir(model_dir);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  Json c = ReadJson(golden / "chat" / "add_vision_id.json");
  auto out = BuildChatPromptJson(
      *tmpl, c, [&](std::string_view s) { return tok->Encode(s); }, VisionTokenIds{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)["rendered"], c["rendered"]);
  EXPECT_EQ((*out)["expanded"], c["expanded"]);
  EXPECT_EQ((*out)["ids"], c["ids"]);
  EXPECT_EQ((*out)["mrope_position_ids"], c["mrope_position_ids"]);
  EXPECT_EQ((*out)["rope_delta"], c["rope_delta"]);
  EXPECT_EQ((*out)["n_image_pad"], c["n_image_pad"]);
  EXPECT_EQ((*out)["n_video_pad"], c["n_video_pad"]);
  // One image span + three video group spans, in token order.
  ASSERT_EQ((*out)["media_spans"].size(), 4u);
  EXPECT_EQ((*out)["media_spans"][3]["group_index"], 2);

  Json bad = c;
  bad["media"] = Json::array();  // placeholders without media
  EXPECT_FALSE(BuildChatPromptJson(*tmpl, bad, [&](std::string_view s) { return tok->Encode(s); },
                                   VisionTokenIds{})
                   .ok());
}

}  // namespace
}  // namespace ocular::chat
