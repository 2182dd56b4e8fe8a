// Loader checks against the golden checkpoints (tiny-a as HF safetensors and as llama.cpp
// GGUFs). Expected counts, names, shapes and types were read from the files with an
// independent reader; values are compared across the two formats.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "tensor/half.h"
#include "tensor/quant.h"
#include "tests/support/golden.h"

namespace ocular::loader {
namespace {

namespace fs = std::filesystem;

// Dequantizes any supported tensor to f32 (row by row through the scalar reference).
std::vector<float> ToF32(const TensorInfo& t) {
  std::vector<float> out(t.num_elements);
  int64_t cols = t.shape.back();
  uint64_t row_bytes = t.size_bytes / (t.num_elements / static_cast<uint64_t>(cols));
  for (uint64_t r = 0; r * cols < t.num_elements; ++r) {
    ref::DequantizeRow(t.dtype, t.data + r * row_bytes, out.data() + r * cols, cols);
  }
  return out;
}

// HF vision tensor name -> mmproj GGUF name (llama.cpp's converter naming for Qwen3-VL).
// DeepStack merger j maps to the vision layer index deepstack_visual_indexes[j] = j + 1 in
// tiny-a. patch_embed.proj.weight is handled separately (split per temporal frame).
std::map<std::string, std::string> VisionNameMap(int depth) {
  std::map<std::string, std::string> m;
  const std::pair<const char*, const char*> block_parts[] = {
      {"attn.proj", "attn_out"}, {"attn.qkv", "attn_qkv"}, {"mlp.linear_fc1", "ffn_up"},
      {"mlp.linear_fc2", "ffn_down"}, {"norm1", "ln1"}, {"norm2", "ln2"}};
  for (int i = 0; i < depth; ++i) {
    for (auto [hf, gg] : block_parts) {
      for (const char* wb : {"weight", "bias"}) {
        m["model.visual.blocks." + std::to_string(i) + "." + hf + "." + wb] =
            "v.blk." + std::to_string(i) + "." + gg + "." + wb;
      }
    }
  }
  const int deepstack_layers[] = {1, 2, 3};
  for (int j = 0; j < 3; ++j) {
    for (auto [hf, gg] : {std::pair{"linear_fc1", "fc1"}, std::pair{"linear_fc2", "fc2"},
                          std::pair{"norm", "norm"}}) {
      for (const char* wb : {"weight", "bias"}) {
        m["model.visual.deepstack_merger_list." + std::to_string(j) + "." + hf + "." + wb] =
            "v.deepstack." + std::to_string(deepstack_layers[j]) + "." + gg + "." + wb;
      }
    }
  }
  for (const char* wb : {"weight", "bias"}) {
    m[std::string("model.visual.merger.linear_fc1.") + wb] = std::string("mm.0.") + wb;
    m[std::string("model.visual.merger.linear_fc2.") + wb] = std::string("mm.2.") + wb;
    m[std::string("model.visual.merger.norm.") + wb] = std::string("v.post_ln.") + wb;
  }
  m["model.visual.patch_embed.proj.bias"] = "v.patch_embd.bias";
  m["model.visual.pos_embed.weight"] = "v.position_embd.weight";
  return m;
}

TEST(LoaderGolden, SafetensorsTinyA) {
  OCULAR_REQUIRE_GOLDEN(golden);
  for (fs::path p : {golden / "models/tiny-a", golden / "models/tiny-a/model.safetensors"}) {
    auto m = SafetensorsModel::Open(p);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->tensors().size(), 133u);
    EXPECT_EQ(m->metadata().at("format"), "pt");
    for (const TensorInfo& t : m->tensors()) {
      EXPECT_EQ(t.dtype, DType::kBF16) << t.name;
      EXPECT_TRUE(t.supported);
    }
    const TensorInfo* embed = m->Find("model.language_model.embed_tokens.weight");
    ASSERT_NE(embed, nullptr);
    EXPECT_EQ(embed->shape, (std::vector<int64_t>{151936, 64}));
    const TensorInfo* patch = m->Find("model.visual.patch_embed.proj.weight");
    ASSERT_NE(patch, nullptr);
    EXPECT_EQ(patch->shape, (std::vector<int64_t>{64, 3, 2, 16, 16}));
    EXPECT_FALSE(patch->View().has_value()) << "rank 5 needs ViewAs";
    EXPECT_TRUE(patch->ViewAs(Shape{64, 3 * 2 * 16 * 16}).has_value());
    const TensorInfo* qkv = m->Find("model.visual.blocks.0.attn.qkv.weight");
    ASSERT_NE(qkv, nullptr);
    EXPECT_EQ(qkv->shape, (std::vector<int64_t>{192, 64}));
  }
}

TEST(LoaderGolden, GgufTextQ8_0) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto g = OpenGguf(golden / "models/tiny-a-gguf/tiny-a-q8_0.gguf");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->tensors().size(), 46u);
  EXPECT_EQ(g->metadata().size(), 28u);
  EXPECT_EQ(*g->GetString("general.architecture"), "qwen3vl");
  EXPECT_EQ(*g->GetU32("qwen3vl.block_count"), 4u);
  EXPECT_EQ(*g->GetU32("general.file_type"), 7u);
  EXPECT_EQ(*g->GetI64Array("qwen3vl.rope.dimension_sections"),
            (std::vector<int64_t>{6, 5, 5, 0}));
  EXPECT_EQ(*g->GetF32("qwen3vl.rope.freq_base"), 5000000.0f);
  const GgufValue* tokens = *g->GetArray("tokenizer.ggml.tokens");
  ASSERT_NE(tokens->strings(), nullptr);
  EXPECT_EQ(tokens->array_size(), 151936u);
  EXPECT_EQ((*tokens->strings())[0], "!");
  EXPECT_EQ((*g->GetArray("tokenizer.ggml.merges"))->array_size(), 151387u);
  EXPECT_EQ(*g->GetU32("tokenizer.ggml.eos_token_id"), 151645u);
  int q8 = 0, f32 = 0;
  for (const TensorInfo& t : g->tensors()) (t.dtype == DType::kQ8_0 ? q8 : f32) += 1;
  EXPECT_EQ(q8, 29);
  EXPECT_EQ(f32, 17);
  const TensorInfo* embd = g->FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->dtype, DType::kQ8_0);
  EXPECT_EQ(embd->shape, (std::vector<int64_t>{151936, 64}));
  EXPECT_EQ(embd->size_bytes, 151936u * 2 * 34);
  EXPECT_EQ(g->FindTensor("blk.0.attn_q.weight")->shape, (std::vector<int64_t>{128, 64}));
}

TEST(LoaderGolden, GgufMmprojF16) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto g = OpenGguf(golden / "models/tiny-a-gguf/mmproj-tiny-a-f16.gguf");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->tensors().size(), 88u);
  EXPECT_EQ(g->metadata().size(), 21u);
  EXPECT_EQ(*g->GetString("general.architecture"), "clip");
  EXPECT_EQ(*g->GetString("clip.projector_type"), "qwen3vl_merger");
  EXPECT_EQ(*g->Find("clip.vision.is_deepstack_layers")->ToBoolArray(),
            (std::vector<bool>{false, true, true, true, false}));
  EXPECT_EQ(*g->GetF32Array("clip.vision.image_mean"), (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(g->FindTensor("v.patch_embd.weight")->shape, (std::vector<int64_t>{64, 3, 16, 16}));
}

// llama.cpp's f32 mmproj holds the BF16 vision weights widened: they must match exactly.
TEST(LoaderGolden, MmprojF32EqualsSafetensorsBf16) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto st = SafetensorsModel::Open(golden / "models/tiny-a");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto g = OpenGguf(golden / "models/tiny-a-gguf/mmproj-tiny-a-f32.gguf");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->tensors().size(), 88u);

  size_t compared = 0;
  auto widen = [](const TensorInfo& t) {
    std::vector<float> out(t.num_elements);
    for (uint64_t i = 0; i < t.num_elements; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      out[i] = Bf16ToF32(h);
    }
    return out;
  };
  for (const auto& [hf, gg] : VisionNameMap(5)) {
    const TensorInfo* a = st->Find(hf);
    const TensorInfo* b = g->FindTensor(gg);
    ASSERT_NE(a, nullptr) << hf;
    ASSERT_NE(b, nullptr) << gg;
    EXPECT_EQ(b->dtype, DType::kF32) << gg;
    ASSERT_EQ(a->shape, b->shape) << hf;
    EXPECT_EQ(widen(*a), ToF32(*b)) << hf << " vs " << gg;
    ++compared;
  }
  // patch_embed [64, 3, 2, 16, 16] -> frame t: v.patch_embd.weight(.1) [64, 3, 16, 16].
  const TensorInfo* patch = st->Find("model.visual.patch_embed.proj.weight");
  ASSERT_NE(patch, nullptr);
  std::vector<float> hf = widen(*patch);
  for (int frame = 0; frame < 2; ++frame) {
    const TensorInfo* b = g->FindTensor(frame == 0 ? "v.patch_embd.weight" : "v.patch_embd.weight.1");
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(b->shape, (std::vector<int64_t>{64, 3, 16, 16}));
    std::vector<float> gv = ToF32(*b);
    size_t mismatches = 0;
    for (int o = 0; o < 64; ++o)
      for (int c = 0; c < 3; ++c)
        for (int k = 0; k < 256; ++k) {
          float want = hf[((o * 3 + c) * 2 + frame) * 256 + k];
          if (gv[(o * 3 + c) * 256 + k] != want) ++mismatches;
        }
    EXPECT_EQ(mismatches, 0u) << "frame " << frame;
    ++compared;
  }
  EXPECT_EQ(compared, 88u) << "every mmproj tensor compared";
}

// f16 and q8_0 files: within the format's rounding of the BF16 weights.
TEST(LoaderGolden, QuantizedGgufWithinFormatError) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto st = SafetensorsModel::Open(golden / "models/tiny-a");
  ASSERT_TRUE(st.ok());
  struct Pair {
    const char* file;
    const char* gguf;
    const char* hf;
  };
  const Pair pairs[] = {
      {"tiny-a-f16.gguf", "token_embd.weight", "model.language_model.embed_tokens.weight"},
      {"tiny-a-f16.gguf", "blk.0.attn_q.weight", "model.language_model.layers.0.self_attn.q_proj.weight"},
      {"tiny-a-q8_0.gguf", "token_embd.weight", "model.language_model.embed_tokens.weight"},
      {"tiny-a-q8_0.gguf", "blk.3.ffn_down.weight", "model.language_model.layers.3.mlp.down_proj.weight"},
      {"mmproj-tiny-a-f16.gguf", "v.blk.0.attn_qkv.weight", "model.visual.blocks.0.attn.qkv.weight"},
      {"mmproj-tiny-a-q8_0.gguf", "mm.0.weight", "model.visual.merger.linear_fc1.weight"},
  };
  for (const Pair& p : pairs) {
    auto g = OpenGguf(golden / "models/tiny-a-gguf" / p.file);
    ASSERT_TRUE(g.ok()) << p.file;
    const TensorInfo* a = st->Find(p.hf);
    const TensorInfo* b = g->FindTensor(p.gguf);
    ASSERT_NE(a, nullptr) << p.hf;
    ASSERT_NE(b, nullptr) << p.gguf;
    ASSERT_EQ(a->shape, b->shape) << p.gguf;
    std::vector<float> want(a->num_elements);
    for (uint64_t i = 0; i < a->num_elements; ++i) {
      uint16_t h;
      std::memcpy(&h, a->data + 2 * i, 2);
      want[i] = Bf16ToF32(h);
    }
    std::vector<float> got = ToF32(*b);
    double worst = 0;
    for (uint64_t blk = 0; blk < want.size(); blk += 32) {
      // f16 has more mantissa bits than bf16: exact in the normal range, and at most half an
      // f16 subnormal step (2^-25) below it. q8_0: half a quantization step (amax/127/2) plus
      // the f16 rounding of the scale (127 * d * 2^-11).
      float amax = 0;
      for (uint64_t i = blk; i < blk + 32; ++i) amax = std::max(amax, std::fabs(want[i]));
      double d = amax / 127.0;
      double tol = b->dtype == DType::kQ8_0 ? d * (0.5 + 127.0 / 2048.0) + 1e-12 : std::ldexp(1.0, -25);
      for (uint64_t i = blk; i < blk + 32; ++i) {
        double err = std::fabs(static_cast<double>(got[i]) - want[i]);
        worst = std::max(worst, err / tol);
        ASSERT_LE(err, tol) << p.file << " " << p.gguf << " element " << i;
      }
    }
    if (b->dtype == DType::kQ8_0) {
      // Quantization must have changed something, or this file is not what it claims.
      EXPECT_GT(worst, 0.0) << p.file << " " << p.gguf;
    }
  }
}

}  // namespace
}  // namespace ocular::loader
