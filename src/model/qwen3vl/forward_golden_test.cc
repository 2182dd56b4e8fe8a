// End-to-end forward pass against the float64 reference (golden/forward/tiny-a), stage by
// stage: vision main + DeepStack features, last-position logits, 16 greedy steps with top-5
// log-probabilities. Tolerances: golden/README.md section 8.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "base/thread_pool.h"
#include "model/qwen3vl/model.h"
#include "model/qwen3vl/sequence.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Tolerance {
  double vision_rel;   // <= 0: not compared
  double logits_rel;   // <= 0: not compared
  double logits_abs;
  double logprob_abs;
  bool exact_greedy;   // false: only where the reference's top-1 margin exceeds 2 x logprob_abs
  bool top_k_sets = false;  // compare top-5 sets only (quantized weights, issue 12)
};
// f32 engine, HF math.
constexpr Tolerance kF32Tol = {1e-5, 1e-5, 2e-4, 1e-4, true};
// Weights stored in f16 (GGUF f16 text): the README's "ggml-like shortcuts" column.
constexpr Tolerance kF16Tol = {2e-3, 3e-3, 5e-2, 1e-2, true};
// bf16 activations or q8_0 weights: the README's advice for such engines is to compare top-k
// log-probabilities and not to insist on identical greedy continuations. Bound: a logprob is a
// logit minus a log-sum-exp, so its error is at most about the logits' absolute error, which
// the README measured at 0.12 for a BF16 engine (llama.cpp, BF16 GGUF of tiny-a).
constexpr Tolerance kLooseTol = {0, 0, 0, 0.12, false};
// q8_0 weights: compared by top-k (issue 12): the reference's top-1 is among our top 5 and our
// top-1 among the reference's top 5, at every teacher-forced step.
constexpr Tolerance kTopKTol = {0, 0, 0, 0, false, true};

std::vector<float> ReadMaybeGz(const fs::path& p) {
  if (p.extension() != ".gz" && fs::exists(p)) return testing::ReadF32(p);
  fs::path gz = p.extension() == ".gz" ? p : fs::path(p.string() + ".gz");
  gzFile f = gzopen(gz.c_str(), "rb");
  if (f == nullptr) {
    ADD_FAILURE() << "missing " << p;
    return {};
  }
  std::vector<float> out;
  std::vector<float> buf(1 << 16);
  for (;;) {
    int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size() * sizeof(float)));
    if (n <= 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n / 4);
  }
  gzclose(f);
  return out;
}

double RelError(const std::vector<float>& got, const std::vector<float>& ref, double* abs_err) {
  double max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
    max_diff = std::max(max_diff, std::fabs(double(got[i]) - double(ref[i])));
  }
  if (abs_err) *abs_err = max_diff;
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

std::vector<double> LogSoftmax(const std::vector<float>& logits) {
  double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - mx);
  double lse = mx + std::log(sum);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = double(logits[i]) - lse;
  return out;
}

int32_t Argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

class ForwardGolden : public ::testing::Test {
 protected:
  void RunAll(const fs::path& golden, const fs::path& model_path, const fs::path& mmproj,
              const Tolerance& tol, int64_t chunk_tokens, bool encode_together,
              kernels::Precision precision = kernels::Precision::kF32);
};

void ForwardGolden::RunAll(const fs::path& golden, const fs::path& model_path,
                           const fs::path& mmproj, const Tolerance& tol, int64_t chunk_tokens,
                           bool encode_together, kernels::Precision precision) {
  ThreadPool pool(2);
  kernels::ComputeContext ctx(pool);
  auto model_or = Qwen3VLModel::Load(model_path, mmproj, ctx, precision);
  ASSERT_TRUE(model_or.ok()) << model_or.status().ToString();
  Qwen3VLModel& model = **model_or;

  json index = json::parse(testing::ReadFileText(golden / "forward/tiny-a/index.json"));
  ASSERT_EQ(index.size(), 16u);
  for (const json& entry : index) {
    const std::string name = entry["name"];
    SCOPED_TRACE("case " + name);
    const fs::path dir = golden / "forward/tiny-a" / name;
    json c = json::parse(testing::ReadFileText(dir / "case.json"));
    std::vector<int32_t> ids = testing::ReadI32(dir / "input_ids.i32");
    std::vector<int32_t> pos32 = testing::ReadI32(dir / "positions.i32");
    const size_t L = ids.size();
    ASSERT_EQ(pos32.size(), 3 * L);
    std::vector<int64_t> pos(pos32.begin(), pos32.end());

    // Vision: every media item, compared stage by stage.
    std::vector<std::vector<float>> pixels;
    std::vector<VisionInput> inputs;
    for (const json& m : c["media"]) {
      pixels.push_back(ReadMaybeGz(golden / m["pixel_values"].get<std::string>()));
    }
    for (size_t k = 0; k < pixels.size(); ++k) {
      const json& g = c["media"][k]["grid_thw"];
      ASSERT_EQ(pixels[k].size(), g[0].get<size_t>() * g[1].get<size_t>() * g[2].get<size_t>() * 1536)
          << "pixel_values size";
      inputs.push_back({pixels[k].data(), g[0].get<int64_t>(), g[1].get<int64_t>(),
                        g[2].get<int64_t>()});
    }
    std::vector<VisionOutput> media;
    if (encode_together) {
      auto enc = model.vision().Encode(inputs);
      ASSERT_TRUE(enc.ok()) << enc.status().ToString();
      media = std::move(*enc);
    } else {
      for (const VisionInput& in : inputs) {
        auto enc = model.vision().Encode(std::span<const VisionInput>(&in, 1));
        ASSERT_TRUE(enc.ok()) << enc.status().ToString();
        media.push_back(std::move((*enc)[0]));
      }
    }
    for (size_t k = 0; k < media.size() && tol.vision_rel > 0; ++k) {
      const json& m = c["media"][k];
      auto ref_main = testing::ReadF32(dir / m["main_file"].get<std::string>());
      ASSERT_EQ(media[k].main.size(), ref_main.size());
      EXPECT_LE(RelError(media[k].main, ref_main, nullptr), tol.vision_rel) << "media " << k << " main";
      for (size_t j = 0; j < m["deepstack_files"].size(); ++j) {
        auto ref_ds = testing::ReadF32(dir / m["deepstack_files"][j].get<std::string>());
        ASSERT_EQ(media[k].deepstack[j].size(), ref_ds.size());
        EXPECT_LE(RelError(media[k].deepstack[j], ref_ds, nullptr), tol.vision_rel)
            << "media " << k << " deepstack " << j;
      }
    }

    // Prefill: last-position logits.
    auto splices = BuildSplices(model.config(), ids, media);
    ASSERT_TRUE(splices.ok()) << splices.status().ToString();
    SequenceRunner seq(model, static_cast<int64_t>(L) + 32);
    std::vector<float> logits;
    Status st = seq.Prefill(ids, pos.data(), pos.data() + L, pos.data() + 2 * L, *splices, &logits,
                            chunk_tokens);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto ref_logits = testing::ReadF32(dir / "logits_last.f32");
    ASSERT_EQ(logits.size(), ref_logits.size());
    double abs_err = 0;
    if (tol.logits_rel > 0) {
      EXPECT_LE(RelError(logits, ref_logits, &abs_err), tol.logits_rel);
      EXPECT_LE(abs_err, tol.logits_abs);
    }

    // Greedy decoding: 16 steps, ids and top-5 log-probabilities.
    int64_t position = c["first_generated_position"].get<int64_t>();
    for (const json& step : c["greedy"]) {
      const int s = step["step"].get<int>();
      const int32_t want = step["token_id"].get<int32_t>();
      auto lp = LogSoftmax(logits);
      const json& top5 = step["top5"];
      if (tol.top_k_sets) {
        std::vector<int32_t> order(logits.size());
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                          [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
        std::vector<int32_t> ours(order.begin(), order.begin() + 5), theirs;
        for (const json& alt : top5) theirs.push_back(alt[0].get<int32_t>());
        EXPECT_NE(std::find(ours.begin(), ours.end(), theirs[0]), ours.end()) << "step " << s;
        EXPECT_NE(std::find(theirs.begin(), theirs.end(), ours[0]), theirs.end()) << "step " << s;
        ASSERT_TRUE(seq.Step(want, position + s, &logits).ok());
        continue;
      }
      double margin = top5[0][1].get<double>() - top5[1][1].get<double>();
      if (tol.exact_greedy || margin > 2 * tol.logprob_abs) {
        ASSERT_EQ(Argmax(logits), want) << "greedy step " << s;
      }
      for (const json& alt : top5) {
        EXPECT_NEAR(lp[alt[0].get<int32_t>()], alt[1].get<double>(), tol.logprob_abs)
            << "step " << s << " token " << alt[0];
      }
      // Teacher forcing: the reference's token is fed back, so later steps stay comparable.
      ASSERT_TRUE(seq.Step(want, position + s, &logits).ok());
    }
  }
}

TEST_F(ForwardGolden, SafetensorsF32MatchesReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunAll(golden, golden / "models/tiny-a", {}, kF32Tol, /*chunk_tokens=*/0,
         /*encode_together=*/false);
}

TEST_F(ForwardGolden, ChunkedPrefillAndBatchedEncodeMatchReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunAll(golden, golden / "models/tiny-a", {}, kF32Tol, /*chunk_tokens=*/13,
         /*encode_together=*/true);
}

TEST_F(ForwardGolden, GgufF16TextF32MmprojMatchesReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunAll(golden, golden / "models/tiny-a-gguf/tiny-a-f16.gguf",
         golden / "models/tiny-a-gguf/mmproj-tiny-a-f32.gguf", kF16Tol, 0, false);
}

TEST_F(ForwardGolden, Bf16ComputeKeepsTopLogprobs) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunAll(golden, golden / "models/tiny-a", {}, kLooseTol, 0, true, kernels::Precision::kBf16);
}

TEST_F(ForwardGolden, GgufQ8_0KeepsTopTokens) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunAll(golden, golden / "models/tiny-a-gguf/tiny-a-q8_0.gguf",
         golden / "models/tiny-a-gguf/mmproj-tiny-a-q8_0.gguf", kTopKTol, 0, true);
}

// bf16 compute takes the int8 GEMV for q8_0 weights (activations quantized per 32-block, as
// llama.cpp computes): the reference's top tokens must still come out.
TEST_F(ForwardGolden, GgufQ8_0Bf16ComputeKeepsTopTokens) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunAll(golden, golden / "models/tiny-a-gguf/tiny-a-q8_0.gguf",
         golden / "models/tiny-a-gguf/mmproj-tiny-a-q8_0.gguf", kTopKTol, 0, true,
         kernels::Precision::kBf16);
}

}  // namespace
}  // namespace ocular::qwen3vl
