// Weight map on the golden tiny-a checkpoint (safetensors) and its llama.cpp GGUF pairs.
// Independent reference: the f32 mmproj was written by llama.cpp's converter from the same
// BF16 weights, so every vision slot must hold exactly the same values in both formats; that
// pins the name mapping (including DeepStack numbering and the patch-embedding frames).
#include "model/qwen3vl/weight_map.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "tensor/quant.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

std::vector<float> ToF32(const loader::TensorInfo& t) {
  std::vector<float> out(t.num_elements);
  ref::DequantizeRow(t.dtype, t.data, out.data(), static_cast<int64_t>(t.num_elements));
  return out;
}

struct TinyA {
  loader::SafetensorsModel hf;
  loader::GgufFile text;
  loader::GgufFile mmproj;
  ModelConfig config;
};

// Opens tiny-a and the GGUF pair with the given text / mmproj dtype.
bool OpenTinyA(const std::filesystem::path& golden, const std::string& text_dtype,
               const std::string& mmproj_dtype, TinyA* out) {
  auto hf = loader::SafetensorsModel::Open(golden / "models/tiny-a");
  auto text = loader::OpenGguf(golden / "models/tiny-a-gguf" / ("tiny-a-" + text_dtype + ".gguf"));
  auto mm = loader::OpenGguf(golden / "models/tiny-a-gguf" /
                             ("mmproj-tiny-a-" + mmproj_dtype + ".gguf"));
  auto config = LoadHfConfig((golden / "models/tiny-a").string());
  if (!hf.ok() || !text.ok() || !mm.ok() || !config.ok()) {
    ADD_FAILURE() << "cannot open tiny-a";
    return false;
  }
  out->hf = std::move(*hf);
  out->text = std::move(*text);
  out->mmproj = std::move(*mm);
  out->config = *config;
  return true;
}

TEST(WeightMapTest, HfTinyA) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TinyA m;
  ASSERT_TRUE(OpenTinyA(golden, "f16", "f32", &m));
  EXPECT_EQ(m.hf.tensors().size(), 133u);  // golden README section 1
  Result<ModelWeights> w = MapHfWeights(m.config, m.hf.tensors());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->text.layers.size(), 4u);
  EXPECT_EQ(w->text.layers[3].q->name, "model.language_model.layers.3.self_attn.q_proj.weight");
  EXPECT_EQ(w->text.layers[3].q->shape, (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(w->text.layers[0].down->shape, (std::vector<int64_t>{64, 192}));
  EXPECT_EQ(w->text.token_embd->shape, (std::vector<int64_t>{151936, 64}));
  EXPECT_EQ(w->text.lm_head, nullptr);  // tied
  EXPECT_EQ(w->vision.patch_embed_w->shape, (std::vector<int64_t>{64, 3, 2, 16, 16}));
  EXPECT_EQ(w->vision.patch_embed_w1, nullptr);
  ASSERT_EQ(w->vision.deepstack.size(), 3u);
  EXPECT_EQ(w->vision.deepstack[0].norm_w->name,
            "model.visual.deepstack_merger_list.0.norm.weight");
  EXPECT_EQ(w->vision.deepstack[0].norm_w->shape, (std::vector<int64_t>{256}));
  EXPECT_EQ(w->vision.merger.norm_w->shape, (std::vector<int64_t>{64}));

  uint64_t params = 0;
  for (const auto& t : m.hf.tensors()) params += t.num_elements;
  EXPECT_EQ(std::llround(params / 1e4), 1067);  // 10.67 M (golden README)
}

TEST(WeightMapTest, GgufPairsResolveToTheSameSlots) {
  OCULAR_REQUIRE_GOLDEN(golden);
  for (const char* text_dtype : {"f16", "q8_0"}) {
    for (const char* mm_dtype : {"f32", "f16", "q8_0"}) {
      SCOPED_TRACE(std::string(text_dtype) + "/" + mm_dtype);
      TinyA m;
      ASSERT_TRUE(OpenTinyA(golden, text_dtype, mm_dtype, &m));
      Result<ModelWeights> w =
          MapGgufWeights(m.config, m.text.tensors(), m.mmproj.tensors());
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      // GGUF ne[] reversed by the loader gives PyTorch [out, in].
      EXPECT_EQ(w->text.layers[2].q->name, "blk.2.attn_q.weight");
      EXPECT_EQ(w->text.layers[2].q->shape, (std::vector<int64_t>{128, 64}));
      EXPECT_EQ(w->text.layers[2].o->shape, (std::vector<int64_t>{64, 128}));
      EXPECT_EQ(w->text.layers[2].gate->shape, (std::vector<int64_t>{192, 64}));
      EXPECT_EQ(w->vision.deepstack[0].fc1_w->name, "v.deepstack.1.fc1.weight");
      EXPECT_EQ(w->vision.deepstack[2].fc2_w->name, "v.deepstack.3.fc2.weight");
      EXPECT_EQ(w->vision.merger.norm_w->name, "v.post_ln.weight");
      EXPECT_EQ(w->vision.merger.fc1_w->name, "mm.0.weight");
      EXPECT_EQ(w->vision.merger.fc2_w->shape, (std::vector<int64_t>{64, 256}));
      EXPECT_EQ(w->vision.patch_embed_w1->name, "v.patch_embd.weight.1");
      EXPECT_EQ(w->vision.patch_embed_w->shape, (std::vector<int64_t>{64, 3, 16, 16}));
      EXPECT_EQ(w->vision.pos_embed->shape, (std::vector<int64_t>{256, 64}));
    }
  }
}

// Every vision slot of the f32 mmproj equals the BF16 safetensors tensor widened to f32.
TEST(WeightMapTest, F32MmprojMatchesSafetensorsExactly) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TinyA m;
  ASSERT_TRUE(OpenTinyA(golden, "f16", "f32", &m));
  Result<ModelWeights> hf = MapHfWeights(m.config, m.hf.tensors());
  Result<ModelWeights> gg = MapGgufWeights(m.config, m.text.tensors(), m.mmproj.tensors());
  ASSERT_TRUE(hf.ok() && gg.ok());
  auto same = [](TensorRef a, TensorRef b) {
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    SCOPED_TRACE(a->name + " vs " + b->name);
    ASSERT_EQ(a->shape, b->shape);
    EXPECT_EQ(ToF32(*a), ToF32(*b));
  };
  const VisionWeights& a = hf->vision;
  const VisionWeights& b = gg->vision;
  same(a.patch_embed_b, b.patch_embed_b);
  same(a.pos_embed, b.pos_embed);
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    const auto &x = a.blocks[i], &y = b.blocks[i];
    for (auto [p, q] : {std::pair{x.norm1_w, y.norm1_w}, {x.norm1_b, y.norm1_b},
                        {x.norm2_w, y.norm2_w}, {x.norm2_b, y.norm2_b}, {x.qkv_w, y.qkv_w},
                        {x.qkv_b, y.qkv_b}, {x.proj_w, y.proj_w}, {x.proj_b, y.proj_b},
                        {x.fc1_w, y.fc1_w}, {x.fc1_b, y.fc1_b}, {x.fc2_w, y.fc2_w},
                        {x.fc2_b, y.fc2_b}}) {
      same(p, q);
    }
  }
  std::vector<std::pair<const MergerWeights*, const MergerWeights*>> mergers = {
      {&a.merger, &b.merger}};
  for (size_t k = 0; k < a.deepstack.size(); ++k) mergers.push_back({&a.deepstack[k], &b.deepstack[k]});
  for (auto [x, y] : mergers) {
    same(x->norm_w, y->norm_w);
    same(x->norm_b, y->norm_b);
    same(x->fc1_w, y->fc1_w);
    same(x->fc1_b, y->fc1_b);
    same(x->fc2_w, y->fc2_w);
    same(x->fc2_b, y->fc2_b);
  }
  // Conv3d kernel [D, 3, 2, P, P]: GGUF frame t is [:, :, t, :, :].
  std::vector<float> full = ToF32(*a.patch_embed_w);
  std::vector<float> f0 = ToF32(*b.patch_embed_w), f1 = ToF32(*b.patch_embed_w1);
  const size_t pp = 16 * 16, rows = 64 * 3;
  ASSERT_EQ(full.size(), 2 * rows * pp);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < pp; ++i) {
      ASSERT_EQ(full[(r * 2 + 0) * pp + i], f0[r * pp + i]);
      ASSERT_EQ(full[(r * 2 + 1) * pp + i], f1[r * pp + i]);
    }
  }
  // Text weights in f16: within f16 rounding of the BF16 values (relative 2^-11, plus the f16
  // subnormal step for tiny values).
  TensorRef x = hf->text.layers[1].q, y = gg->text.layers[1].q;
  std::vector<float> xv = ToF32(*x), yv = ToF32(*y);
  for (size_t i = 0; i < xv.size(); ++i) {
    ASSERT_NEAR(xv[i], yv[i], std::abs(xv[i]) * 0x1p-11f + 0x1p-24f) << i;
  }
}

TEST(WeightMapTest, MissingExtraAndMisshapedTensorsAreNamed) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TinyA m;
  ASSERT_TRUE(OpenTinyA(golden, "f16", "f16", &m));
  std::vector<loader::TensorInfo> tensors = m.hf.tensors();
  {
    auto missing = tensors;
    auto it = std::find_if(missing.begin(), missing.end(), [](const auto& t) {
      return t.name == "model.visual.blocks.4.mlp.linear_fc2.bias";
    });
    ASSERT_NE(it, missing.end());
    missing.erase(it);
    Result<ModelWeights> w = MapHfWeights(m.config, missing);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
    EXPECT_NE(w.status().message().find("model.visual.blocks.4.mlp.linear_fc2.bias"),
              std::string::npos);
  }
  {
    auto extra = tensors;
    extra.push_back(tensors[0]);
    extra.back().name = "model.visual.blocks.5.norm1.weight";
    Result<ModelWeights> w = MapHfWeights(m.config, extra);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.status().message().find("unexpected tensor model.visual.blocks.5.norm1.weight"),
              std::string::npos) << w.status().ToString();
  }
  {
    auto dup = tensors;
    dup.push_back(tensors[3]);
    EXPECT_FALSE(MapHfWeights(m.config, dup).ok());
  }
  {
    auto shaped = tensors;
    for (auto& t : shaped) {
      if (t.name == "model.language_model.layers.2.self_attn.k_proj.weight") t.shape = {64, 128};
    }
    Result<ModelWeights> w = MapHfWeights(m.config, shaped);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.status().message().find("layers.2.self_attn.k_proj.weight has shape [64, 128]"),
              std::string::npos) << w.status().ToString();
  }
  {
    // A config that disagrees with the file: 3 DeepStack mergers in the file, 2 in the config.
    ModelConfig c = m.config;
    c.vision.deepstack_visual_indexes = {1, 2};
    Result<ModelWeights> w = MapGgufWeights(c, m.text.tensors(), m.mmproj.tensors());
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.status().message().find("v.deepstack.3"), std::string::npos)
        << w.status().ToString();
  }
  {
    // An untied config needs output.weight.
    ModelConfig c = m.config;
    c.text.tie_word_embeddings = false;
    Result<ModelWeights> w = MapGgufWeights(c, m.text.tensors(), m.mmproj.tensors());
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.status().message().find("missing tensor output.weight"), std::string::npos);
  }
  // Text and vision files swapped.
  EXPECT_FALSE(MapGgufWeights(m.config, m.mmproj.tensors(), m.text.tensors()).ok());
}

}  // namespace
}  // namespace ocular::qwen3vl
