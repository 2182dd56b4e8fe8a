// ModelConfig from HF config.json and from the GGUF pair. Expected values: golden README
// section 1 (tiny-a) and spec/qwen3-vl.md section 1.1 (token ids).
#include "model/qwen3vl/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "model/loader/gguf.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

void ExpectTinyA(const ModelConfig& c) {
  EXPECT_EQ(c.architecture, "Qwen3VLForConditionalGeneration");
  EXPECT_EQ(c.model_type, "qwen3_vl");
  const TextConfig& t = c.text;
  EXPECT_EQ(t.vocab_size, 151936);
  EXPECT_EQ(t.hidden_size, 64);
  EXPECT_EQ(t.intermediate_size, 192);
  EXPECT_EQ(t.num_layers, 4);
  EXPECT_EQ(t.num_heads, 4);
  EXPECT_EQ(t.num_kv_heads, 2);
  EXPECT_EQ(t.head_dim, 32);
  EXPECT_EQ(t.rms_norm_eps, 1e-6f);
  EXPECT_EQ(t.rope_theta, 5e6);
  EXPECT_EQ(t.mrope_section, (std::array<int64_t, 3>{6, 5, 5}));
  EXPECT_TRUE(t.mrope_interleaved);
  EXPECT_TRUE(t.tie_word_embeddings);
  EXPECT_EQ(t.bos_token_id, 151643);
  EXPECT_EQ(t.eos_token_ids, std::vector<int64_t>{151645});
  EXPECT_EQ(t.max_position_embeddings, 262144);
  EXPECT_EQ(t.hidden_act, "silu");
  EXPECT_FALSE(t.is_moe);
  ASSERT_TRUE(c.has_vision);
  const VisionConfig& v = c.vision;
  EXPECT_EQ(v.depth, 5);
  EXPECT_EQ(v.hidden_size, 64);
  EXPECT_EQ(v.num_heads, 4);
  EXPECT_EQ(v.head_dim(), 16);
  EXPECT_EQ(v.intermediate_size, 256);
  EXPECT_EQ(v.patch_size, 16);
  EXPECT_EQ(v.temporal_patch_size, 2);
  EXPECT_EQ(v.spatial_merge_size, 2);
  EXPECT_EQ(v.num_position_embeddings, 256);
  EXPECT_EQ(v.deepstack_visual_indexes, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(v.out_hidden_size, 64);
  EXPECT_EQ(v.hidden_act, "gelu_pytorch_tanh");
  EXPECT_EQ(v.layer_norm_eps, 1e-6f);
  EXPECT_EQ(c.tokens.image_token_id, 151655);
  EXPECT_EQ(c.tokens.video_token_id, 151656);
  EXPECT_EQ(c.tokens.vision_start_token_id, 151652);
  EXPECT_EQ(c.tokens.vision_end_token_id, 151653);
}

TEST(ConfigTest, TinyAFromConfigJson) {
  OCULAR_REQUIRE_GOLDEN(golden);
  Result<ModelConfig> c = LoadHfConfig((golden / "models/tiny-a").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExpectTinyA(*c);
}

TEST(ConfigTest, TinyAFromGgufPairs) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const auto dir = golden / "models/tiny-a-gguf";
  for (const char* quant : {"f16", "q8_0"}) {
    SCOPED_TRACE(quant);
    auto text = loader::OpenGguf(dir / (std::string("tiny-a-") + quant + ".gguf"));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    for (const char* mm : {"f32", "f16", "q8_0"}) {
      SCOPED_TRACE(mm);
      auto mmproj = loader::OpenGguf(dir / (std::string("mmproj-tiny-a-") + mm + ".gguf"));
      ASSERT_TRUE(mmproj.ok()) << mmproj.status().ToString();
      Result<ModelConfig> c = ConfigFromGguf(*text, &*mmproj);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      ExpectTinyA(*c);
    }
    Result<ModelConfig> text_only = ConfigFromGguf(*text, nullptr);
    ASSERT_TRUE(text_only.ok()) << text_only.status().ToString();
    EXPECT_FALSE(text_only->has_vision);
    EXPECT_EQ(text_only->text.hidden_size, 64);
  }
}

// A hand-written tiny-a config in the given layout ("4.57" or "v5").
nlohmann::json TinyJson(bool v5) {
  nlohmann::json text = {{"vocab_size", 151936},      {"hidden_size", 64},
                         {"intermediate_size", 192},  {"num_hidden_layers", 4},
                         {"num_attention_heads", 4},  {"num_key_value_heads", 2},
                         {"head_dim", 32},            {"rms_norm_eps", 1e-6},
                         {"hidden_act", "silu"},      {"max_position_embeddings", 262144},
                         {"bos_token_id", 151643},    {"eos_token_id", 151645}};
  nlohmann::json rope = {{"rope_type", "default"},
                         {"mrope_section", {6, 5, 5}},
                         {"mrope_interleaved", true}};
  if (v5) {
    rope["rope_theta"] = 5000000;
    text["rope_parameters"] = rope;
    text["tie_word_embeddings"] = true;
  } else {
    text["rope_scaling"] = rope;
    text["rope_theta"] = 5000000;
  }
  nlohmann::json root = {
      {"architectures", {"Qwen3VLForConditionalGeneration"}},
      {"model_type", "qwen3_vl"},
      {"text_config", text},
      {"vision_config",
       {{"depth", 5},
        {"hidden_size", 64},
        {"intermediate_size", 256},
        {"num_heads", 4},
        {"patch_size", 16},
        {"temporal_patch_size", 2},
        {"spatial_merge_size", 2},
        {"out_hidden_size", 64},
        {"num_position_embeddings", 256},
        {"deepstack_visual_indexes", {1, 2, 3}},
        {"hidden_act", "gelu_pytorch_tanh"}}},
  };
  if (!v5) root["tie_word_embeddings"] = true;
  return root;
}

Result<ModelConfig> ParseAndValidate(const std::string& text) {
  ASSIGN_OR_RETURN(ModelConfig c, ParseHfConfig(text));
  RETURN_IF_ERROR(ValidateConfig(c));
  return c;
}

TEST(ConfigTest, BothRopeLayoutsGiveTheSameConfig) {
  for (bool v5 : {false, true}) {
    SCOPED_TRACE(v5 ? "v5 rope_parameters" : "4.57 rope_scaling");
    Result<ModelConfig> c = ParseAndValidate(TinyJson(v5).dump());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ExpectTinyA(*c);
  }
}

TEST(ConfigTest, HfJsonRoundTrip) {
  Result<ModelConfig> c = ParseAndValidate(TinyJson(false).dump());
  ASSERT_TRUE(c.ok());
  Result<ModelConfig> again = ParseAndValidate(ConfigToHfJson(*c));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectTinyA(*again);
  EXPECT_NE(ConfigToHfJson(*c).find("\"rms_norm_eps\": 1e-06"), std::string::npos);
}

struct BadCase {
  const char* name;
  const char* pointer;  // JSON pointer to modify
  nlohmann::json value; // null = remove the key
  StatusCode code;
  const char* message_part;
};

TEST(ConfigTest, MalformedValuesAreRejectedWithTheFieldName) {
  const nlohmann::json kRemove;  // null
  const std::vector<BadCase> cases = {
      {"zero hidden", "/text_config/hidden_size", 0, StatusCode::kOutOfRange, "hidden_size"},
      {"negative layers", "/text_config/num_hidden_layers", -4, StatusCode::kOutOfRange,
       "num_hidden_layers"},
      {"huge vocab", "/text_config/vocab_size", int64_t{1} << 40, StatusCode::kOutOfRange,
       "vocab_size"},
      {"uint64 overflow", "/text_config/vocab_size", uint64_t{18446744073709551615ull},
       StatusCode::kOutOfRange, "vocab_size"},
      {"string", "/text_config/hidden_size", "64", StatusCode::kInvalidArgument, "hidden_size"},
      {"fraction", "/text_config/hidden_size", 64.5, StatusCode::kInvalidArgument,
       "hidden_size"},
      {"bool", "/text_config/num_attention_heads", true, StatusCode::kInvalidArgument,
       "num_attention_heads"},
      {"missing layers", "/text_config/num_hidden_layers", kRemove, StatusCode::kNotFound,
       "num_hidden_layers"},
      {"missing vision", "/vision_config", kRemove, StatusCode::kNotFound, "vision_config"},
      {"missing rope", "/text_config/rope_scaling", kRemove, StatusCode::kNotFound,
       "mrope_section"},
      {"zero eps", "/text_config/rms_norm_eps", 0.0, StatusCode::kOutOfRange, "rms_norm_eps"},
      {"negative eps", "/text_config/rms_norm_eps", -1e-6, StatusCode::kOutOfRange,
       "rms_norm_eps"},
      {"negative theta", "/text_config/rope_theta", -5, StatusCode::kOutOfRange, "rope_theta"},
      {"kv does not divide", "/text_config/num_key_value_heads", 3, StatusCode::kInvalidArgument,
       "num_key_value_heads"},
      {"odd head_dim", "/text_config/head_dim", 33, StatusCode::kInvalidArgument, "head_dim"},
      {"mrope sum", "/text_config/rope_scaling/mrope_section", {6, 5, 4},
       StatusCode::kInvalidArgument, "mrope_section"},
      {"mrope entries", "/text_config/rope_scaling/mrope_section", {16},
       StatusCode::kInvalidArgument, "mrope_section"},
      {"deepstack >= depth", "/vision_config/deepstack_visual_indexes", {1, 2, 5},
       StatusCode::kOutOfRange, "deepstack_visual_indexes"},
      {"deepstack unsorted", "/vision_config/deepstack_visual_indexes", {2, 1},
       StatusCode::kInvalidArgument, "deepstack_visual_indexes"},
      {"vision heads", "/vision_config/num_heads", 3, StatusCode::kInvalidArgument, "num_heads"},
      {"out hidden", "/vision_config/out_hidden_size", 32, StatusCode::kInvalidArgument,
       "out_hidden_size"},
      {"pos not square", "/vision_config/num_position_embeddings", 250,
       StatusCode::kInvalidArgument, "num_position_embeddings"},
      {"zero patch", "/vision_config/patch_size", 0, StatusCode::kOutOfRange, "patch_size"},
      {"huge depth", "/vision_config/depth", 100000, StatusCode::kOutOfRange, "depth"},
      {"image token out of vocab", "/image_token_id", 200000, StatusCode::kOutOfRange,
       "image_token_id"},
      {"wrong model type", "/model_type", "llava", StatusCode::kUnimplemented, "model_type"},
      {"activation", "/text_config/hidden_act", "relu", StatusCode::kUnimplemented, "hidden_act"},
  };
  for (const BadCase& bc : cases) {
    SCOPED_TRACE(bc.name);
    nlohmann::json j = TinyJson(false);
    nlohmann::json::json_pointer ptr(bc.pointer);
    if (bc.value.is_null()) {
      j[ptr.parent_pointer()].erase(ptr.back());
    } else {
      j[ptr] = bc.value;
    }
    Result<ModelConfig> c = ParseAndValidate(j.dump());
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), bc.code) << c.status().ToString();
    EXPECT_NE(c.status().message().find(bc.message_part), std::string::npos)
        << c.status().ToString();
  }
}

TEST(ConfigTest, NonFiniteNumbersAreRejected) {
  // JSON has no NaN literal; an overflowing literal must not turn into infinity.
  std::string text = TinyJson(false).dump();
  const std::string key = "\"rms_norm_eps\":1e-06";
  size_t pos = text.find(key);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, key.size(), "\"rms_norm_eps\":1e999");
  Result<ModelConfig> c = ParseAndValidate(text);
  ASSERT_FALSE(c.ok());

  // NaN can still reach ValidateConfig from GGUF floats.
  Result<ModelConfig> good = ParseAndValidate(TinyJson(false).dump());
  ASSERT_TRUE(good.ok());
  ModelConfig bad = *good;
  bad.text.rms_norm_eps = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(ValidateConfig(bad).ok());
  bad = *good;
  bad.text.rope_theta = std::nan("");
  EXPECT_FALSE(ValidateConfig(bad).ok());
  bad = *good;
  bad.vision.layer_norm_eps = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(ValidateConfig(bad).ok());
}

TEST(ConfigTest, NotJsonIsRejected) {
  for (const char* text : {"", "{", "[1,2]", "null", "{\"model_type\": \"qwen3_vl\"}"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseAndValidate(text).ok());
  }
}

TEST(ConfigTest, MoeIsRecognisedAndRefused) {
  nlohmann::json j = TinyJson(false);
  j["model_type"] = "qwen3_vl_moe";
  j["architectures"] = {"Qwen3VLMoeForConditionalGeneration"};
  j["text_config"]["num_experts"] = 128;
  j["text_config"]["num_experts_per_tok"] = 8;
  j["text_config"]["moe_intermediate_size"] = 768;
  Result<ModelConfig> parsed = ParseHfConfig(j.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->text.is_moe);
  EXPECT_EQ(parsed->text.num_experts, 128);
  EXPECT_EQ(parsed->text.num_experts_per_tok, 8);
  EXPECT_EQ(parsed->text.moe_intermediate_size, 768);
  Status s = ValidateConfig(*parsed);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("MoE checkpoints are not supported yet"), std::string::npos);
}

// A text GGUF with tiny-a's metadata, one key replaced (or dropped when `value` is null).
Result<ModelConfig> GgufWith(const loader::GgufFile& ref, const std::string& key,
                             std::optional<loader::GgufValue> value) {
  loader::GgufWriter w = loader::GgufWriter::CreateInMemory();
  bool replaced = false;
  for (const auto& [k, v] : ref.metadata()) {
    if (k == key) {
      replaced = true;
      if (value.has_value()) EXPECT_TRUE(w.AddMetadata(k, *value).ok());
      continue;
    }
    EXPECT_TRUE(w.AddMetadata(k, v).ok());
  }
  if (!replaced && value.has_value()) EXPECT_TRUE(w.AddMetadata(key, *value).ok());
  EXPECT_TRUE(w.WriteHeader().ok());
  EXPECT_TRUE(w.Finish().ok());
  std::vector<uint8_t> bytes = w.TakeBytes();
  ASSIGN_OR_RETURN(loader::GgufFile g, loader::ParseGguf(bytes));
  return ConfigFromGguf(g, nullptr);
}

TEST(ConfigTest, MalformedGgufMetadataIsRejected) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto ref = loader::OpenGguf(golden / "models/tiny-a-gguf/tiny-a-f16.gguf");
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(GgufWith(*ref, "general.name", loader::GgufValue::String("x")).ok());
  using V = loader::GgufValue;
  struct Case {
    const char* key;
    std::optional<V> value;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"qwen3vl.block_count", V::U32(0), "num_hidden_layers"},
      {"qwen3vl.block_count", std::nullopt, "qwen3vl.block_count"},
      {"qwen3vl.embedding_length", V::U32(4000000000u), "hidden_size"},
      {"qwen3vl.attention.head_count_kv", V::U32(3), "num_key_value_heads"},
      {"qwen3vl.attention.layer_norm_rms_epsilon", V::F32(std::nanf("")), "rms_norm_eps"},
      {"qwen3vl.rope.freq_base", V::F32(-1.0f), "rope_theta"},
      {"qwen3vl.rope.dimension_sections", V::I32Array({6, 5, 4, 0}), "mrope_section"},
      {"qwen3vl.rope.dimension_sections", V::I32Array({6, 5, 5, 1}), "dimension_sections"},
      {"qwen3vl.attention.key_length", V::String("32"), "key_length"},
      {"general.architecture", V::String("llama"), "qwen3vl"},
      {"general.architecture", V::String("qwen3vlmoe"), "MoE checkpoints are not supported yet"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    Result<ModelConfig> r = GgufWith(*ref, c.key, c.value);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos)
        << r.status().ToString();
  }
}

TEST(ConfigTest, MissingFileIsNotFound) {
  Result<ModelConfig> c = LoadHfConfig("/nonexistent-dir-for-ocular-test");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ocular::qwen3vl
