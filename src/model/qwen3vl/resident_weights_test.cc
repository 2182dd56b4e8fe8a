// CopyTextMatrices: every text matrix ends up outside the file mappings, in one 2 MiB-aligned
// block, byte for byte what the mapping holds; a tied LM head stays one copy shared with the
// token embedding; everything else (vision views) is left in place. Checked on the golden
// tiny checkpoints in both formats (safetensors folder and GGUF pair).
#include "model/qwen3vl/resident_weights.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "base/thread_pool.h"
#include "model/qwen3vl/checkpoint.h"
#include "model/qwen3vl/model.h"
#include "model/qwen3vl/sequence.h"
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

void CheckCopy(const fs::path& model, const fs::path& mmproj) {
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
  AlignedBuffer block = CopyTextMatrices(ctx, maps, &copied->text);
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
    EXPECT_FALSE(InAnyMapping(maps, b));
    const auto* p = static_cast<const uint8_t*>(b.data);
    const size_t n = static_cast<size_t>(a.rows * a.Stride());
    EXPECT_TRUE(p >= lo && p + n <= hi) << "outside the returned block";
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    EXPECT_EQ(std::memcmp(a.data, b.data, n), 0);
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
  CheckCopy(golden / "models/tiny-a", {});
}

TEST(ResidentWeights, CopiesTextMatricesOfAGgufPair) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path dir = golden / "models/tiny-a-gguf";
  CheckCopy(dir / "tiny-a-q8_0.gguf", dir / "mmproj-tiny-a-f16.gguf");
}

// The model loaded with its text weights copied and left in the mapping computes the same
// logits, bit for bit, for a prompt and two decode steps (GGUF q8_0, the int8 GEMV path).
TEST(ResidentWeights, CopiedAndMappedModelsGiveTheSameLogits) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path dir = golden / "models/tiny-a-gguf";
  ThreadPool pool(2);
  kernels::ComputeContext ctx(pool);
  std::vector<std::vector<float>> runs;
  for (WeightPlacement placement : {WeightPlacement::kCopied, WeightPlacement::kMapped}) {
    auto model = Qwen3VLModel::Load(dir / "tiny-a-q8_0.gguf", dir / "mmproj-tiny-a-f16.gguf", ctx,
                                    kernels::Precision::kBf16, placement);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    SequenceRunner seq(**model, 32);
    const std::vector<int32_t> ids = {11, 42, 7, 99, 3, 250};
    std::vector<int64_t> pos(ids.size());
    std::iota(pos.begin(), pos.end(), 0);
    std::vector<float> logits, all;
    ASSERT_TRUE(seq.Prefill(ids, pos.data(), pos.data(), pos.data(), {}, &logits).ok());
    all = logits;
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(seq.Step(5 + i, static_cast<int64_t>(ids.size()) + i, &logits).ok());
      all.insert(all.end(), logits.begin(), logits.end());
    }
    runs.push_back(std::move(all));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  ASSERT_FALSE(runs[0].empty());
  EXPECT_EQ(0, std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(float)));
}

}  // namespace
}  // namespace ocular::qwen3vl
