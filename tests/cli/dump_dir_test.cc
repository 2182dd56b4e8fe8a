// `ocular run --dump-dir` (issue 12 item 6): the dumped stages of one golden case against the
// golden files, so a mismatch is located at its stage. Case image_img_224x224_shapes_min8192
// (224x224 PNG at min_pixels 8192), which both references cover:
//  * float64 reference (golden/forward, golden/preprocess): ids, positions, pixel values, vision
//    main + DeepStack, last logits, at the f32 tolerances of golden README section 8;
//  * llama.cpp (llamacpp-out/dump-f32-exact-layers, same pixels and token layout): per-layer
//    vision and text states, at the tolerance for ggml's shortcuts (2e-3 rel; its vision tower
//    differs from the HF math by ~5e-4, README section 7).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

double RelError(const std::vector<float>& got, const std::vector<float>& ref) {
  double max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
    max_diff = std::max(max_diff, std::fabs(double(got[i]) - double(ref[i])));
  }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

void ExpectClose(const fs::path& got_path, const fs::path& ref_path, double rel_tol) {
  SCOPED_TRACE(got_path.filename().string());
  const auto got = ReadF32(got_path);
  const auto ref = ReadF32(ref_path);
  ASSERT_EQ(got.size(), ref.size());
  ASSERT_FALSE(ref.empty());
  EXPECT_LE(RelError(got, ref), rel_tol);
}

TEST(CliDumpDir, StagesMatchTheReferences) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path fwd = golden / "forward/tiny-a/image_img_224x224_shapes_min8192";
  const fs::path llama = golden / "llamacpp-out/dump-f32-exact-layers";
  TempDir tmp;
  const fs::path dump = tmp.path() / "dump";
  CliResult r = RunOcular({"run", "--model", (golden / "models/tiny-a").string(), "--image",
                           (golden / "inputs/images/img_224x224_shapes.png").string(), "--min-pixels", "8192",
                           "--prompt", "What is in this image?", "--max-tokens", "1", "--dtype", "f32",
                           "--dump-dir", dump.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The manifest lists every file with a shape that matches its size.
  json manifest = json::parse(ReadFileText(dump / "dump.json"));
  ASSERT_GT(manifest["files"].size(), 10u);
  for (const json& f : manifest["files"]) {
    int64_t elems = 1;
    for (const json& d : f["shape"]) elems *= d.get<int64_t>();
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(dump / f["file"].get<std::string>())), elems * 4)
        << f["file"];
  }

  // Float64 reference.
  EXPECT_EQ(ReadI32(dump / "input_ids.i32"), ReadI32(fwd / "input_ids.i32"));
  EXPECT_EQ(ReadI32(dump / "positions.i32"), ReadI32(fwd / "positions.i32"));
  {
    const auto got = ReadF32(dump / "media0.pixel_values.f32");
    const auto ref = ReadF32(golden / "preprocess/img_224x224_shapes.min8192.pixel_values.f32");
    ASSERT_EQ(got.size(), ref.size());
    double max_abs = 0;
    for (size_t i = 0; i < ref.size(); ++i) max_abs = std::max(max_abs, std::fabs(double(got[i]) - ref[i]));
    EXPECT_LE(max_abs, 1.2e-7);  // README section 8: bit-exact or the normalisation ulp
  }
  ExpectClose(dump / "media0.main.f32", fwd / "media0.main.f32", 1e-5);
  for (int j = 0; j < 3; ++j) {
    const std::string f = "media0.deepstack" + std::to_string(j) + ".f32";
    ExpectClose(dump / f, fwd / f, 1e-5);
  }
  ExpectClose(dump / "logits_last.f32", fwd / "logits_last.f32", 1e-5);

  // llama.cpp's per-layer states (same pixels, same token layout).
  const std::string c = "img_224x224_shapes";
  ExpectClose(dump / "media0.vision.inp_pos_emb.f32", llama / (c + ".vision.inp_pos_emb.f32"), 2e-3);
  for (int b = 0; b < 5; ++b) {
    ExpectClose(dump / ("media0.vision.layer_out-" + std::to_string(b) + ".f32"),
                llama / (c + ".vision.layer_out-" + std::to_string(b) + ".f32"), 2e-3);
  }
  // Text layers 0..2 hold every prompt row in llama.cpp's capture (the last only the output
  // row). Its `l_out-N` is taken before the DeepStack addition and `deepstack_out-N` after;
  // ours is the state after the whole layer, i.e. after the addition.
  for (int l = 0; l < 3; ++l) {
    ExpectClose(dump / ("text.l_out-" + std::to_string(l) + ".f32"),
                llama / (c + ".text_layers.deepstack_out-" + std::to_string(l) + ".f32"), 2e-3);
  }
}

}  // namespace
}  // namespace ocular::testing
