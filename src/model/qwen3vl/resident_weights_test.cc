// CopyTextMatrices: every text matrix ends up outside the file mappings, in one 2 MiB-aligned
// block, byte for byte what the mapping holds; a tied LM head stays one copy shared with the
// token embedding; everything else (vision views) is left in place. Checked on the golden
// tiny checkpoints in both formats (safetensors folder and GGUF pair).
#include "model/qwen3vl/resident_weights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/thread_pool.h"
#include "model/qwen3vl/checkpoint.h"
#include "model/qwen3vl/gen/q4km_test_util.h"
#include "model/qwen3vl/model.h"
#include "model/qwen3vl/prompt_steps_test_util.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

namespace fs = std::filesystem;

bool InAnyMapping(const std::vector<const MappedFile*>& maps, const kernels::WeightMatrix& w) {
  for (const MappedFile* m : maps) {
    if (m->Contains(w.data, static_cast<size_t>(w.rows * w.Stride()))) return true;
  }
  return false;
}

void CheckCopy(const fs::path& model, const fs::path& mmproj, bool pack) {
  auto ckpt = OpenCheckpoint(model, mmproj);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  ASSERT_TRUE((*ckpt)->weights_status.ok());
  auto mapped = BuildRuntimeWeights((*ckpt)->config, (*ckpt)->weights);
  auto copied = BuildRuntimeWeights((*ckpt)->config, (*ckpt)->weights);
  ASSERT_TRUE(mapped.ok() && copied.ok());
  const std::vector<const MappedFile*> maps = Mappings(**ckpt);
  ASSERT_FALSE(maps.empty());

  ThreadPool pool(2);
  kernels::ComputeContext ctx(pool);
  AlignedBuffer block = CopyTextMatrices(ctx, maps, &copied->text, pack);
  ASSERT_FALSE(block.empty());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block.data()) % (uintptr_t{2} << 20), 0u);
  const auto* lo = block.as<uint8_t>();
  const auto* hi = lo + block.size();

  auto expect_copy = [&](const kernels::WeightMatrix& a, const kernels::WeightMatrix& b,
                         const std::string& what) {
    SCOPED_TRACE(what);
    ASSERT_EQ(a.rows, b.rows);
    ASSERT_EQ(a.cols, b.cols);
    ASSERT_EQ(a.dtype, b.dtype);
    EXPECT_TRUE(InAnyMapping(maps, a));
    const auto* p = static_cast<const uint8_t*>(b.data);
    ASSERT_EQ(b.packed(), pack && kernels::GemvPackable(a.dtype))
        << "packed exactly the q8_0 / q4_0 / q4_k / q6_k matrices when asked";
    const size_t n = static_cast<size_t>(
        b.packed() ? kernels::GemvPackedBytes(b.dtype, b.rows, b.cols) : a.rows * a.Stride());
    EXPECT_TRUE(p >= lo && p + n <= hi) << "outside the returned block";
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    if (!b.packed()) {
      EXPECT_FALSE(InAnyMapping(maps, b));
      EXPECT_EQ(std::memcmp(a.data, b.data, n), 0);
      return;
    }
    // The same blocks, row for row, once unpacked.
    std::vector<uint8_t> rows(static_cast<size_t>(a.rows * a.RowBytes()));
    kernels::UnpackGemvRows(b, 0, b.rows, rows.data());
    for (int64_t r = 0; r < a.rows; ++r) {
      ASSERT_EQ(std::memcmp(rows.data() + r * a.RowBytes(), a.Row(r), a.RowBytes()), 0)
          << "row " << r;
    }
  };
  const TextRt& m = mapped->text;
  const TextRt& c = copied->text;
  ASSERT_EQ(m.layers.size(), c.layers.size());
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const TextLayerRt& a = m.layers[l];
    const TextLayerRt& b = c.layers[l];
    const std::string n = "layer " + std::to_string(l);
    expect_copy(a.q, b.q, n + " q");
    expect_copy(a.k, b.k, n + " k");
    expect_copy(a.v, b.v, n + " v");
    expect_copy(a.o, b.o, n + " o");
    expect_copy(a.gate, b.gate, n + " gate");
    expect_copy(a.up, b.up, n + " up");
    expect_copy(a.down, b.down, n + " down");
  }
  expect_copy(m.token_embd, c.token_embd, "token_embd");
  expect_copy(m.lm_head, c.lm_head, "lm_head");
  EXPECT_EQ(m.lm_head.data == m.token_embd.data, c.lm_head.data == c.token_embd.data)
      << "a tied LM head must stay one copy";
  // Vision views untouched.
  ASSERT_EQ(mapped->has_vision, copied->has_vision);
  if (mapped->has_vision) {
    ASSERT_FALSE(m.layers.empty());
    EXPECT_EQ(mapped->vision.blocks[0].qkv.w.data, copied->vision.blocks[0].qkv.w.data);
  }
}

TEST(ResidentWeights, CopiesTextMatricesOfASafetensorsCheckpoint) {
  OCULAR_REQUIRE_GOLDEN(golden);
  CheckCopy(golden / "models/tiny-a", {}, /*pack=*/false);
  CheckCopy(golden / "models/tiny-a", {}, /*pack=*/true);  // nothing q8_0 / q4_0 to pack
}

TEST(ResidentWeights, CopiesTextMatricesOfAGgufPair) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path dir = golden / "models/tiny-a-gguf";
  CheckCopy(dir / "tiny-a-q8_0.gguf", dir / "mmproj-tiny-a-f16.gguf", /*pack=*/false);
}

TEST(ResidentWeights, PacksTheQ8TextMatricesOfAGgufPair) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path dir = golden / "models/tiny-a-gguf";
  CheckCopy(dir / "tiny-a-q8_0.gguf", dir / "mmproj-tiny-a-f16.gguf", /*pack=*/true);
}

// A Q4_K_M file (gen on the tiny-k shape): its q4_k and q6_k matrices packed, the tied q6_k
// embedding once.
TEST(ResidentWeights, PacksTheKQuantTextMatricesOfAQ4KMFile) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ocular::testing::TempDir tmp;
  ThreadPool pool(2);
  auto files = testing::GenerateTinyKQ4KM(golden, tmp.path(), pool);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  CheckCopy(files->text, files->mmproj, /*pack=*/true);
}

// Logits for a prompt and two decode steps of the tiny GGUF q8_0 model, loaded with
// `precision` and `placement`.
std::vector<float> PromptAndTwoSteps(const fs::path& golden, kernels::ComputeContext& ctx,
                                     kernels::Precision precision, WeightPlacement placement) {
  const fs::path dir = golden / "models/tiny-a-gguf";
  auto model = Qwen3VLModel::Load(dir / "tiny-a-q8_0.gguf", dir / "mmproj-tiny-a-f16.gguf", ctx,
                                  precision, placement);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  return testing::PromptAndTwoSteps(**model);
}

// Under kF32 nothing is packed: the copied and the mapped model compute the same logits, bit
// for bit. Under kBf16 (the int8 GEMV) the copy is packed where that pays: the same integer
// block dots summed in another order, so the logits agree to a few f32 roundings of the
// largest.
TEST(ResidentWeights, CopiedAndMappedModelsGiveTheSameLogits) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ThreadPool pool(2);
  kernels::ComputeContext ctx(pool);
  for (kernels::Precision p : {kernels::Precision::kF32, kernels::Precision::kBf16}) {
    const std::vector<float> copied = PromptAndTwoSteps(golden, ctx, p, WeightPlacement::kCopied);
    const std::vector<float> mapped = PromptAndTwoSteps(golden, ctx, p, WeightPlacement::kMapped);
    ASSERT_EQ(copied.size(), mapped.size());
    ASSERT_FALSE(copied.empty());
    if (p == kernels::Precision::kF32 || !kernels::GemvPackingPays(ctx)) {
      EXPECT_EQ(0, std::memcmp(copied.data(), mapped.data(), copied.size() * sizeof(float)));
      continue;
    }
    float peak = 0;
    for (float v : mapped) peak = std::max(peak, std::fabs(v));
    for (size_t i = 0; i < copied.size(); ++i) {
      ASSERT_NEAR(copied[i], mapped[i], 1e-4 * peak) << "logit " << i;
    }
  }
}

}  // namespace
}  // namespace ocular::qwen3vl
