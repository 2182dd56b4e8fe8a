// `ocular inspect` and `ocular gen` end to end. Expected values: golden README section 1
// (tiny-a: 133 BF16 tensors, 10.67 M parameters = 10,665,792 elements of model.safetensors);
// the GGUF pairs made by llama.cpp from the same weights must report the same config.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kTinyParams = 10'665'792;

nlohmann::json InspectJson(const std::vector<std::string>& args) {
  std::vector<std::string> full = {"inspect", "--json"};
  full.insert(full.end(), args.begin(), args.end());
  CliResult r = RunOcular(full);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

void ExpectOneLineError(const CliResult& r, const std::string& must_contain) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << r.err;
}

TEST(CliInspectTest, TinyASafetensorsAndGgufPairsAgree) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path gguf = golden / "models/tiny-a-gguf";
  nlohmann::json hf = InspectJson({(golden / "models/tiny-a").string()});
  EXPECT_EQ(hf["architecture"], "Qwen3VLForConditionalGeneration");
  EXPECT_EQ(hf["num_tensors"], 133);
  EXPECT_EQ(hf["num_params"]["total"], kTinyParams);
  EXPECT_EQ(hf["dtypes"], nlohmann::json({{"bf16", 133}}));
  EXPECT_EQ(hf["valid"], true);
  EXPECT_EQ(hf["text"]["hidden_size"], 64);
  EXPECT_EQ(hf["text"]["mrope_section"], nlohmann::json({6, 5, 5}));
  EXPECT_EQ(hf["vision"]["deepstack_visual_indexes"], nlohmann::json({1, 2, 3}));
  // Tensor data = file size - 8-byte length - JSON header.
  EXPECT_LT(hf["bytes"].get<int64_t>(), 21346440);
  EXPECT_EQ(hf["bytes"], kTinyParams * 2);  // BF16
  // The .safetensors file alone (config.json beside it) is the same model.
  nlohmann::json file = InspectJson({(golden / "models/tiny-a/model.safetensors").string()});
  EXPECT_EQ(file["num_params"], hf["num_params"]);

  for (const char* text : {"tiny-a-f16.gguf", "tiny-a-q8_0.gguf"}) {
    for (const char* mm : {"mmproj-tiny-a-f32.gguf", "mmproj-tiny-a-f16.gguf",
                           "mmproj-tiny-a-q8_0.gguf"}) {
      SCOPED_TRACE(std::string(text) + " + " + mm);
      nlohmann::json g =
          InspectJson({(gguf / text).string(), "--mmproj", (gguf / mm).string()});
      EXPECT_EQ(g["architecture"], hf["architecture"]);
      EXPECT_EQ(g["text"], hf["text"]);
      EXPECT_EQ(g["vision"], hf["vision"]);
      EXPECT_EQ(g["tokens"], hf["tokens"]);
      EXPECT_EQ(g["num_params"], hf["num_params"]);
      EXPECT_EQ(g["valid"], true);
      // One more tensor than HF: the Conv3d kernel is two GGUF tensors.
      EXPECT_EQ(g["num_tensors"], 46 + 88);
    }
  }
}

TEST(CliInspectTest, HumanReadableOutput) {
  OCULAR_REQUIRE_GOLDEN(golden);
  CliResult r = RunOcular({"inspect", (golden / "models/tiny-a").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Qwen3VLForConditionalGeneration"), std::string::npos);
  EXPECT_NE(r.out.find("10.67 M"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("valid:        yes"), std::string::npos) << r.out;
}

TEST(CliInspectTest, BadInputsGiveOneLineAndExitTwo) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TempDir tmp;
  const fs::path gguf = golden / "models/tiny-a-gguf";
  ExpectOneLineError(RunOcular({"inspect", (tmp.path() / "nope").string()}), "nope");
  {
    std::ofstream(tmp.path() / "notes.txt") << "hello";
    ExpectOneLineError(RunOcular({"inspect", (tmp.path() / "notes.txt").string()}), "notes.txt");
  }
  {
    // Truncated GGUF.
    std::vector<uint8_t> bytes = ReadFileBytes(gguf / "tiny-a-f16.gguf");
    bytes.resize(bytes.size() / 2);
    std::ofstream(tmp.path() / "cut.gguf", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ExpectOneLineError(RunOcular({"inspect", (tmp.path() / "cut.gguf").string()}), "cut.gguf");
  }
  // Three mmproj files beside the text GGUF: ambiguous.
  ExpectOneLineError(RunOcular({"inspect", (gguf / "tiny-a-f16.gguf").string()}), "--mmproj");
  // The mmproj given as the model.
  ExpectOneLineError(RunOcular({"inspect", (gguf / "mmproj-tiny-a-f16.gguf").string()}),
                     "mmproj");
  // Text GGUF given as the mmproj.
  ExpectOneLineError(RunOcular({"inspect", (gguf / "tiny-a-f16.gguf").string(), "--mmproj",
                                (gguf / "tiny-a-q8_0.gguf").string()}),
                     "tiny-a-q8_0.gguf");
  // An HF folder whose config is broken.
  {
    fs::create_directories(tmp.path() / "broken");
    std::ofstream(tmp.path() / "broken/config.json") << R"({"model_type": "qwen3_vl"})";
    fs::copy_file(golden / "models/tiny-a/model.safetensors",
                  tmp.path() / "broken/model.safetensors");
    ExpectOneLineError(RunOcular({"inspect", (tmp.path() / "broken").string()}), "config.json");
  }
  // A config that does not match the weights: valid false in the report, exit 2.
  {
    fs::create_directories(tmp.path() / "mismatch");
    std::string config = ReadFileText(golden / "models/tiny-a/config.json");
    config.replace(config.find("\"depth\": 5"), 10, "\"depth\": 6");
    std::ofstream(tmp.path() / "mismatch/config.json") << config;
    fs::copy_file(golden / "models/tiny-a/model.safetensors",
                  tmp.path() / "mismatch/model.safetensors");
    CliResult r = RunOcular({"inspect", "--json", (tmp.path() / "mismatch").string()});
    ExpectOneLineError(r, "model.visual.blocks.5");
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j["valid"], false);
  }
  ExpectOneLineError(RunOcular({"inspect"}), "error");
}

struct GenCase {
  const char* format;
  const char* dtype;
};

TEST(CliGenTest, TinyEveryFormatAndDtypeInspects) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const std::string tok = (golden / "models/tiny-a").string();
  for (GenCase c : {GenCase{"safetensors", "bf16"}, GenCase{"safetensors", "f16"},
                    GenCase{"safetensors", "f32"}, GenCase{"gguf", "bf16"}, GenCase{"gguf", "f16"},
                    GenCase{"gguf", "f32"}, GenCase{"gguf", "q8_0"}, GenCase{"gguf", "q4_0"}}) {
    SCOPED_TRACE(std::string(c.format) + " " + c.dtype);
    TempDir tmp;
    CliResult g = RunOcular({"gen", "--preset", "tiny", "--format", c.format, "--dtype", c.dtype,
                             "--seed", "3", "--out", tmp.path().string(), "--tokenizer-from", tok});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    std::string target = tmp.path().string();
    if (std::string(c.format) == "gguf") target += "/tiny-" + std::string(c.dtype) + ".gguf";
    // GGUF: the mmproj is found beside the text file.
    nlohmann::json j = InspectJson({target});
    EXPECT_EQ(j["valid"], true);
    EXPECT_EQ(j["num_params"]["total"], kTinyParams);
    EXPECT_EQ(j["text"]["num_hidden_layers"], 4);
    EXPECT_EQ(j["vision"]["depth"], 5);
    EXPECT_TRUE(j["dtypes"].contains(c.dtype)) << j["dtypes"].dump();
  }
}

TEST(CliGenTest, BadOptionsGiveOneLineAndExitTwo) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TempDir tmp;
  const std::string tok = (golden / "models/tiny-a").string();
  const std::string out = (tmp.path() / "out").string();
  ExpectOneLineError(RunOcular({"gen", "--preset", "tiny", "--format", "safetensors", "--dtype",
                                "q8_0", "--out", out, "--tokenizer-from", tok}),
                     "safetensors");
  ExpectOneLineError(RunOcular({"gen", "--preset", "huge", "--out", out, "--tokenizer-from", tok}),
                     "preset");
  ExpectOneLineError(RunOcular({"gen", "--dtype", "q3_k", "--out", out, "--tokenizer-from", tok}),
                     "dtype");
  ExpectOneLineError(RunOcular({"gen", "--format", "onnx", "--out", out, "--tokenizer-from", tok}),
                     "format");
  ExpectOneLineError(RunOcular({"gen", "--preset", "tiny"}), "out");
  ExpectOneLineError(RunOcular({"gen", "--out", out, "--tokenizer-from",
                                (tmp.path() / "none").string()}),
                     "tokenizer");
  ExpectOneLineError(RunOcular({"gen", "--seed", "-1", "--out", out, "--tokenizer-from", tok}),
                     "seed");
}

}  // namespace
}  // namespace ocular::testing
