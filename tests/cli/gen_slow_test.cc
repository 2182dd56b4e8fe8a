// `ocular gen` at real size: the 2B GGUF pair (q8_0 text, ~2.3 GB) loads and reports ~2.1 B
// parameters (spec/qwen3-vl.md section 8.1: 2.128 B, text 1.721 B, vision 407.0 M), and runs
// end to end (issue 12): image + prompt -> text through the 2B vision tower and decoder.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

TEST(CliGenSlowTest, Qwen3Vl2bGgufQ8_0) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TempDir tmp;  // removed (with the 2.3 GB) when the test ends
  CliResult g = RunOcular({"gen", "--preset", "qwen3-vl-2b", "--format", "gguf", "--dtype", "q8_0",
                           "--seed", "1", "--out", tmp.path().string(), "--tokenizer-from",
                           (golden / "models/tiny-a").string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::printf("%s", g.out.c_str());
  CliResult r =
      RunOcular({"inspect", "--json", (tmp.path() / "qwen3-vl-2b-q8_0.gguf").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["valid"], true);
  const double total = j["num_params"]["total"].get<double>();
  const double text = j["num_params"]["text"].get<double>();
  const double vision = j["num_params"]["vision"].get<double>();
  EXPECT_NEAR(total / 1e9, 2.128, 0.001);
  EXPECT_NEAR(text / 1e9, 1.721, 0.001);
  EXPECT_NEAR(vision / 1e6, 407.0, 0.1);
  EXPECT_EQ(j["text"]["hidden_size"], 2048);
  EXPECT_EQ(j["vision"]["deepstack_visual_indexes"], nlohmann::json({5, 11, 17}));
  EXPECT_TRUE(j["dtypes"].contains("q8_0"));

  // Image + prompt -> 2 tokens. A small pixel budget keeps the vision encode short (the
  // 97x61 image becomes a handful of merged tokens); the weights are random, so only the
  // shape of the answer is checked.
  std::filesystem::path mmproj;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    if (e.path().filename().string().starts_with("mmproj-")) mmproj = e.path();
  }
  ASSERT_FALSE(mmproj.empty()) << "gen wrote no mmproj GGUF";
  CliResult run = RunOcular({"run", "--model", (tmp.path() / "qwen3-vl-2b-q8_0.gguf").string(), "--mmproj",
                             mmproj.string(), "--image", (golden / "inputs/images/img_97x61_small.png").string(),
                             "--min-pixels", "1024", "--max-pixels", "4096", "--prompt", "Describe it.",
                             "--max-tokens", "2", "--ignore-eos", "--temperature", "0", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json out = nlohmann::json::parse(run.out);
  EXPECT_EQ(out["tokens"].size(), 2u);
  int pads = 0;
  for (const auto& id : out["prompt_token_ids"]) pads += id.get<int>() == 151655;  // <|image_pad|>
  EXPECT_GT(pads, 0);
  EXPECT_GT(out["timings_ms"]["encode"].get<double>(), 0.0);
}

}  // namespace
}  // namespace ocular::testing
