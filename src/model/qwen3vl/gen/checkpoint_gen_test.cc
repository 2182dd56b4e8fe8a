// `gen` output against llama.cpp's own files: for the tiny preset, the GGUF pair must carry the
// same metadata (keys, types and values) and the same tensor names, types and shapes, in the
// same order, as the golden tiny-a GGUFs made by llama.cpp's convert_hf_to_gguf.py; the
// safetensors checkpoint must have the golden tiny-a tensor names and shapes.
#include "model/qwen3vl/gen/checkpoint_gen.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "model/qwen3vl/gen/gguf_tokenizer.h"
#include "model/qwen3vl/presets.h"
#include "model/qwen3vl/weight_map.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl::gen {
namespace {

namespace fs = std::filesystem;

TEST(GgufTokenizerTest, MatchesLlamaCppConverter) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto ref = loader::OpenGguf(golden / "models/tiny-a-gguf/tiny-a-f16.gguf");
  ASSERT_TRUE(ref.ok());
  Result<GgufTokenizer> tok = BuildGgufTokenizer(golden / "models/tiny-a", 151936);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_TRUE(loader::GgufValue::StringArray(tok->tokens) == *ref->Find("tokenizer.ggml.tokens"));
  EXPECT_TRUE(loader::GgufValue::I32Array(tok->token_types) ==
              *ref->Find("tokenizer.ggml.token_type"));
  EXPECT_TRUE(loader::GgufValue::StringArray(tok->merges) == *ref->Find("tokenizer.ggml.merges"));
  EXPECT_EQ(tok->eos_token_id, *ref->GetI64("tokenizer.ggml.eos_token_id"));
  EXPECT_EQ(tok->pad_token_id, *ref->GetI64("tokenizer.ggml.padding_token_id"));
  EXPECT_EQ(tok->chat_template, *ref->GetString("tokenizer.chat_template"));
  EXPECT_FALSE(BuildGgufTokenizer(golden / "models/tiny-a", 1000).ok());  // ids beyond vocab
}

GenOptions TinyOptions(const fs::path& golden, const fs::path& out, const char* format,
                       DType dtype) {
  GenOptions o;
  o.preset = "tiny";
  o.format = format;
  o.dtype = dtype;
  o.seed = 1;
  o.out_dir = out;
  o.tokenizer_dir = golden / "models/tiny-a";
  return o;
}

void ExpectSameLayout(const loader::GgufFile& ours, const loader::GgufFile& ref) {
  ASSERT_EQ(ours.metadata().size(), ref.metadata().size());
  for (size_t i = 0; i < ref.metadata().size(); ++i) {
    const auto& [key, value] = ref.metadata()[i];
    SCOPED_TRACE(key);
    EXPECT_EQ(ours.metadata()[i].first, key);
    EXPECT_TRUE(ours.metadata()[i].second == value);
  }
  ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
  for (size_t i = 0; i < ref.tensors().size(); ++i) {
    const auto &a = ours.tensors()[i], &b = ref.tensors()[i];
    SCOPED_TRACE(b.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.dtype, b.dtype);
    EXPECT_EQ(a.shape, b.shape);
    EXPECT_EQ(a.size_bytes, b.size_bytes);
  }
  EXPECT_EQ(ours.alignment(), ref.alignment());
}

TEST(CheckpointGenTest, TinyGgufMatchesLlamaCppLayout) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ThreadPool pool(2);
  const fs::path ref_dir = golden / "models/tiny-a-gguf";
  struct Case {
    DType dtype;
    const char* ref_text;
    const char* ref_mmproj;
  };
  for (const Case& c : {Case{DType::kF16, "tiny-a-f16.gguf", "mmproj-tiny-a-f16.gguf"},
                        Case{DType::kQ8_0, "tiny-a-q8_0.gguf", "mmproj-tiny-a-f16.gguf"},
                        Case{DType::kF32, nullptr, "mmproj-tiny-a-f32.gguf"}}) {
    SCOPED_TRACE(DTypeName(c.dtype));
    testing::TempDir tmp;
    Result<GenResult> r = GenerateCheckpoint(TinyOptions(golden, tmp.path(), "gguf", c.dtype), pool);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->files.size(), 2u);
    EXPECT_NE(r->files[1].filename().string().find("mmproj"), std::string::npos);
    auto text = loader::OpenGguf(r->files[0]);
    auto mmproj = loader::OpenGguf(r->files[1]);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    ASSERT_TRUE(mmproj.ok()) << mmproj.status().ToString();
    if (c.ref_text != nullptr) {
      auto ref = loader::OpenGguf(ref_dir / c.ref_text);
      ASSERT_TRUE(ref.ok());
      ExpectSameLayout(*text, *ref);
    }
    auto ref_mm = loader::OpenGguf(ref_dir / c.ref_mmproj);
    ASSERT_TRUE(ref_mm.ok());
    ExpectSameLayout(*mmproj, *ref_mm);

    // And it loads as a model.
    Result<ModelConfig> config = ConfigFromGguf(*text, &*mmproj);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_TRUE(MapGgufWeights(*config, text->tensors(), mmproj->tensors()).ok());
    EXPECT_EQ(r->num_params, 10'665'792u);  // the sum of tiny-a's safetensors elements
  }
}

TEST(CheckpointGenTest, TinySafetensorsMatchesTinyA) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ThreadPool pool(2);
  auto ref = loader::SafetensorsModel::Open(golden / "models/tiny-a");
  ASSERT_TRUE(ref.ok());
  for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    SCOPED_TRACE(DTypeName(dtype));
    testing::TempDir tmp;
    Result<GenResult> r =
        GenerateCheckpoint(TinyOptions(golden, tmp.path(), "safetensors", dtype), pool);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto ours = loader::SafetensorsModel::Open(tmp.path());
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    ASSERT_EQ(ours->tensors().size(), ref->tensors().size());
    for (const auto& t : ref->tensors()) {
      const loader::TensorInfo* o = ours->Find(t.name);
      ASSERT_NE(o, nullptr) << t.name;
      EXPECT_EQ(o->shape, t.shape) << t.name;
      EXPECT_EQ(o->dtype, dtype);
    }
    Result<ModelConfig> config = LoadHfConfig(tmp.path().string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    Result<ModelConfig> ref_config = LoadHfConfig((golden / "models/tiny-a").string());
    EXPECT_EQ(ConfigToHfJson(*config), ConfigToHfJson(*ref_config));
    EXPECT_TRUE(MapHfWeights(*config, ours->tensors()).ok());
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "chat_template.json",
                          "preprocessor_config.json", "video_preprocessor_config.json",
                          "generation_config.json"}) {
      EXPECT_TRUE(fs::exists(tmp.path() / f)) << f;
    }
  }
}

TEST(CheckpointGenTest, SameSeedSameBytes) {
  OCULAR_REQUIRE_GOLDEN(golden);
  testing::TempDir a, b, c;
  ThreadPool one(1), two(2);
  GenOptions o = TinyOptions(golden, a.path(), "gguf", DType::kQ8_0);
  ASSERT_TRUE(GenerateCheckpoint(o, one).ok());
  o.out_dir = b.path();
  o.chunk_bytes = 4096;
  ASSERT_TRUE(GenerateCheckpoint(o, two).ok());
  o.out_dir = c.path();
  o.seed = 2;
  ASSERT_TRUE(GenerateCheckpoint(o, two).ok());
  const std::string name = "tiny-q8_0.gguf";
  EXPECT_EQ(testing::ReadFileBytes(a.path() / name), testing::ReadFileBytes(b.path() / name));
  EXPECT_NE(testing::ReadFileBytes(a.path() / name), testing::ReadFileBytes(c.path() / name));
}

// The Q4_K_M mix on the 2B shape (28 layers, tied embeddings), against llama.cpp's rule as
// documented: q6_k for the output matrix (the token embedding, tied) and for attn_v /
// ffn_down in layers i < n/8, i >= 7n/8 or (i - n/8) % 3 == 2, i.e. 0-2, 5, 8, ..., 23 and
// 24-27 (worked out by hand); q4_k for every other matrix; norms f32.
TEST(CheckpointGenTest, Q4KMMixFollowsLlamaCppRule) {
  Result<ModelConfig> config = PresetConfig("qwen3-vl-2b");
  ASSERT_TRUE(config.ok());
  ASSERT_EQ(config->text.num_layers, 28);
  const std::vector<int> more_bits = {0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27};
  int q6 = 0, q4 = 0;
  for (const WeightSpec& s : WeightSpecs(*config, WeightFormat::kGguf)) {
    if (s.part != WeightPart::kText) continue;
    ASSERT_NE(s.slot, WeightSlot::kLmHead) << "the 2B model ties its embeddings";
    const DType got = GgufTensorDType(TextTensorDType(DType::kQ4_K, s, 28, /*tied=*/true), false,
                                      s.shape, false);
    DType want = DType::kQ4_K;
    if (s.shape.size() == 1) {
      want = DType::kF32;
    } else if (s.slot == WeightSlot::kTokenEmbd) {
      want = DType::kQ6_K;
    } else if ((s.slot == WeightSlot::kV || s.slot == WeightSlot::kDown) &&
               std::find(more_bits.begin(), more_bits.end(), s.layer) != more_bits.end()) {
      want = DType::kQ6_K;
    }
    EXPECT_EQ(got, want) << s.name;
    q6 += got == DType::kQ6_K;
    q4 += got == DType::kQ4_K;
  }
  EXPECT_EQ(q6, 1 + 2 * 14);
  EXPECT_EQ(q4, 28 * 7 - 2 * 14);
  // Any other file dtype is every tensor's.
  const WeightSpec& any = WeightSpecs(*config, WeightFormat::kGguf)[0];
  EXPECT_EQ(TextTensorDType(DType::kQ8_0, any, 28, true), DType::kQ8_0);
  EXPECT_EQ(FileDTypeName(DType::kQ4_K), "q4_k_m");
}

// A q4_k_m file of the tiny shape: its rows (64, 192 values) do not fill 256-value blocks,
// so its matrices fall back to f16 as llama.cpp's do, and it loads.
TEST(CheckpointGenTest, TinyQ4KMWritesAndLoads) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ThreadPool pool(2);
  testing::TempDir tmp;
  Result<GenResult> r = GenerateCheckpoint(TinyOptions(golden, tmp.path(), "gguf", DType::kQ4_K), pool);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files[0].filename(), "tiny-q4_k_m.gguf");
  auto text = loader::OpenGguf(r->files[0]);
  auto mmproj = loader::OpenGguf(r->files[1]);
  ASSERT_TRUE(text.ok() && mmproj.ok());
  Result<ModelConfig> config = ConfigFromGguf(*text, &*mmproj);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(MapGgufWeights(*config, text->tensors(), mmproj->tensors()).ok());
}

TEST(CheckpointGenTest, BadOptions) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ThreadPool pool(1);
  testing::TempDir tmp;
  GenOptions o = TinyOptions(golden, tmp.path(), "safetensors", DType::kQ8_0);
  Result<GenResult> r = GenerateCheckpoint(o, pool);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("safetensors"), std::string::npos);
  o.dtype = DType::kQ6_K;  // not a file dtype (q4_k stands for the Q4_K_M mix)
  o.format = "gguf";
  EXPECT_FALSE(GenerateCheckpoint(o, pool).ok());
  o.dtype = DType::kBF16;
  o.format = "pt";
  EXPECT_FALSE(GenerateCheckpoint(o, pool).ok());
  o.format = "gguf";
  o.preset = "qwen3-vl-1000b";
  EXPECT_FALSE(GenerateCheckpoint(o, pool).ok());
  o.preset = "tiny";
  o.tokenizer_dir = tmp.path() / "missing";
  Result<GenResult> no_tok = GenerateCheckpoint(o, pool);
  ASSERT_FALSE(no_tok.ok());
  EXPECT_NE(no_tok.status().message().find("tokenizer"), std::string::npos);
}

}  // namespace
}  // namespace ocular::qwen3vl::gen
