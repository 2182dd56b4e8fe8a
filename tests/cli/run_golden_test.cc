// `ocular run` end to end, from the input files of record to generated tokens, against the
// float64 reference (golden/forward/tiny-a): prompt ids, 16 greedy tokens, top-5 logprobs and
// the dumped last-position logits. Covers a PNG image, a JPEG, a video and plain text.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;

struct RunCase {
  const char* name;     // golden forward case
  const char* image;    // input under inputs/, or null
  const char* video;
};

void CheckCase(const std::filesystem::path& golden, const RunCase& rc) {
  SCOPED_TRACE(rc.name);
  const auto dir = golden / "forward/tiny-a" / rc.name;
  json c = json::parse(ReadFileText(dir / "case.json"));
  TempDir tmp;
  const auto logits_path = tmp.path() / "logits.f32";
  std::vector<std::string> args = {"run", "--model", (golden / "models/tiny-a").string(),
                                   "--max-tokens", "16", "--ignore-eos", "--temperature", "0",
                                   "--top-logprobs", "5", "--json", "--dump-logits",
                                   logits_path.string()};
  if (rc.image) args.insert(args.end(), {"--image", (golden / "inputs" / rc.image).string()});
  if (rc.video) args.insert(args.end(), {"--video", (golden / "inputs" / rc.video).string()});
  // The user text of the golden case (last text part of the last message).
  std::string text;
  const json& content = c["messages"].back()["content"];
  if (content.is_string()) {
    text = content.get<std::string>();
  } else {
    for (const json& part : content) {
      if (part.contains("text")) text = part["text"].get<std::string>();
    }
  }
  args.insert(args.end(), {"--prompt", text});
  CliResult r = RunOcular(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  EXPECT_EQ(out["prompt_token_ids"], c["input_ids"]);
  ASSERT_EQ(out["tokens"].size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    const json& step = c["greedy"][i];
    const json& tok = out["tokens"][i];
    EXPECT_EQ(tok["id"], step["token_id"]) << "step " << i;
    EXPECT_NEAR(tok["logprob"].get<double>(), step["logprob"].get<double>(), 1e-4) << "step " << i;
    ASSERT_EQ(tok["top_logprobs"].size(), 5u);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(tok["top_logprobs"][k]["id"], step["top5"][k][0]) << "step " << i << " alt " << k;
    }
  }
  auto logits = ReadF32(logits_path);
  auto ref = ReadF32(dir / "logits_last.f32");
  ASSERT_EQ(logits.size(), ref.size());
  double max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
    max_diff = std::max(max_diff, std::fabs(double(logits[i]) - double(ref[i])));
  }
  EXPECT_LE(max_diff / max_ref, 1e-5);  // golden README section 8, f32 engine
  EXPECT_EQ(out["finish_reason"], "length");
  for (const char* k : {"load", "preprocess", "encode", "prefill", "decode", "total"}) {
    EXPECT_TRUE(out["timings_ms"].contains(k)) << k;
  }
}

TEST(CliRunGolden, ImageJpegVideoAndTextMatchReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  for (const RunCase& rc : {RunCase{"image_img_224x224_shapes", "images/img_224x224_shapes.png", nullptr},
                            RunCase{"image_img_640x480_photo_q90", "images/img_640x480_photo_q90.jpg", nullptr},
                            RunCase{"video_a", nullptr, "video/video_a.mkv"},
                            RunCase{"text", nullptr, nullptr}}) {
    CheckCase(golden, rc);
  }
}

TEST(CliRunGolden, BadInputGivesOneLineAndExit2) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const std::string model = (golden / "models/tiny-a").string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--model", model, "--image", "/nonexistent.png", "--prompt", "x"},
        std::vector<std::string>{"run", "--model", model},
        std::vector<std::string>{"run", "--model", model, "--prompt", "x", "--dtype", "f8"},
        std::vector<std::string>{"run", "--model", "/nonexistent-model", "--prompt", "x"},
        std::vector<std::string>{"run", "--model", model, "--prompt", "x", "--temperature", "-1"}}) {
    CliResult r = RunOcular(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace ocular::testing
