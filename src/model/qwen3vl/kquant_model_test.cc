// A Q4_K_M file end to end: `gen --dtype q4_k_m` on the tiny-k shape (256-value text rows, so
// its matrices really are q4_k and q6_k), loaded under kF32 (the exact path: f32 products on
// the weights dequantized by the format's definition) and under kBf16 (the int8 k-quant GEMV
// on q8_K activations, with the fused q/k/v and gate/up products), the int8 model both with its
// matrices packed 16 rows side by side (copied, where the packed kernel exists) and row-major
// (mapped). Each int8 model must follow the exact one: its logits within a small fraction of
// the largest, the same greedy token. (Packed and row-major int8 are not compared to each
// other tightly: their products agree to the last bits (the kernel tests), but q8_K rounding is
// discontinuous, so a last-bit difference can move a quantized activation a whole step, and
// on this random 2-layer model such steps change the logits by ~1% RMS, within the int8
// path's own error against the exact one.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/qwen3vl/gen/q4km_test_util.h"
#include "model/qwen3vl/model.h"
#include "model/qwen3vl/prompt_steps_test_util.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

namespace fs = std::filesystem;

using testing::PromptAndTwoSteps;

TEST(KQuantModel, Q4KMFileUnderInt8FollowsTheExactPath) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ocular::testing::TempDir tmp;
  ThreadPool pool(2);
  auto files = testing::GenerateTinyKQ4KM(golden, tmp.path(), pool, /*seed=*/3);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  const fs::path text = files->text, mmproj = files->mmproj;

  kernels::ComputeContext ctx(pool);
  auto exact = Qwen3VLModel::Load(text, mmproj, ctx, kernels::Precision::kF32);
  auto int8 = Qwen3VLModel::Load(text, mmproj, ctx, kernels::Precision::kBf16);
  auto mapped =
      Qwen3VLModel::Load(text, mmproj, ctx, kernels::Precision::kBf16, WeightPlacement::kMapped);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  ASSERT_TRUE(int8.ok()) << int8.status().ToString();
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  EXPECT_EQ((*int8)->text_packed(), kernels::GemvPackingPays(ctx));
  EXPECT_FALSE((*mapped)->text_packed());
  // The mix as gen writes it for 2 layers: layer 1 is a "more bits" layer (q6_k v / down),
  // the tied embedding q6_k.
  std::map<std::string, DType> dtypes;
  for (const auto& t : (*int8)->checkpoint().text_gguf->tensors()) dtypes[t.name] = t.dtype;
  EXPECT_EQ(dtypes["blk.0.attn_q.weight"], DType::kQ4_K);
  EXPECT_EQ(dtypes["blk.0.attn_v.weight"], DType::kQ4_K);
  EXPECT_EQ(dtypes["blk.0.ffn_gate.weight"], DType::kQ4_K);
  EXPECT_EQ(dtypes["blk.1.attn_v.weight"], DType::kQ6_K);
  EXPECT_EQ(dtypes["blk.1.ffn_down.weight"], DType::kQ6_K);
  EXPECT_EQ(dtypes["token_embd.weight"], DType::kQ6_K);

  const std::vector<float> want = PromptAndTwoSteps(**exact);
  const int64_t vocab = (*exact)->config().text.vocab_size;
  for (Qwen3VLModel* model : {int8->get(), mapped->get()}) {
    const std::vector<float> got = PromptAndTwoSteps(*model);
    ASSERT_EQ(got.size(), want.size());
    for (int step = 0; step < 3; ++step) {
      SCOPED_TRACE(::testing::Message() << "step " << step << " packed=" << model->text_packed());
      const float* a = want.data() + step * vocab;
      const float* b = got.data() + step * vocab;
      float peak = 0;
      double err = 0, sq_err = 0, sq = 0;
      for (int64_t i = 0; i < vocab; ++i) {
        peak = std::max(peak, std::fabs(a[i]));
        err = std::max(err, double(std::fabs(a[i] - b[i])));
        sq_err += double(a[i] - b[i]) * (a[i] - b[i]);
        sq += double(a[i]) * a[i];
      }
      // q8_K activations carry up to half a step (1/254 of a 256-value block's largest value)
      // of rounding per value, once per product, and bf16 rounds the attention inputs. The same
      // comparison on a q8_0 file of this shape (q8_0 activations, 32-value blocks) measured
      // 1.5-1.8% RMS; this one 2.3-2.5% (coarser activation blocks). A wrong scale, min or
      // sub-block order is tens of percent.
      EXPECT_LE(std::sqrt(sq_err / sq), 0.04);
      EXPECT_LE(err, 0.05 * peak) << "largest logit " << peak;
      EXPECT_GT(err, 0.0) << "the int8 path did not run";
      EXPECT_EQ(std::max_element(a, a + vocab) - a, std::max_element(b, b + vocab) - b);
    }
  }
}

}  // namespace
}  // namespace ocular::qwen3vl
