// `ocular bench model --json` end to end on the golden tiny GGUF pair: every figure the issue
// names is present, each timing is {median, min, max} in order, the derived fractions agree
// with the figures they come from, the text weight placement is reported, and bad input is
// one line with exit status 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> TinyArgs(const fs::path& golden) {
  const fs::path dir = golden / "models/tiny-a-gguf";
  return {"bench", "model", "--model", (dir / "tiny-a-q8_0.gguf").string(), "--mmproj",
          (dir / "mmproj-tiny-a-f16.gguf").string(), "--threads", "2", "--repetitions", "2",
          "--prefill-tokens", "16", "--decode-tokens", "4", "--json"};
}

nlohmann::json BenchJson(std::vector<std::string> args) {
  CliResult r = RunOcular(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

void ExpectTiming(const nlohmann::json& t, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(t.is_object()) << t.dump();
  for (const char* k : {"median", "min", "max"}) ASSERT_TRUE(t.contains(k)) << k;
  const double lo = t["min"], mid = t["median"], hi = t["max"];
  EXPECT_GT(lo, 0.0);
  EXPECT_LE(lo, mid);
  EXPECT_LE(mid, hi);
}

TEST(CliBenchModelTest, TinyGgufReportsEveryFigure) {
  OCULAR_REQUIRE_GOLDEN(golden);
  std::vector<std::string> args = TinyArgs(golden);
  args.insert(args.end(), {"--image-size", "64x64", "--image-size", "96x64"});
  nlohmann::json j = BenchJson(args);
  ASSERT_TRUE(j.is_object());
  ExpectTiming(j["prefill_tok_s"], "prefill_tok_s");
  ExpectTiming(j["decode_tok_s"], "decode_tok_s");
  ExpectTiming(j["load_s"], "load_s");
  ASSERT_TRUE(j["encode_ms"].is_object());
  EXPECT_EQ(j["encode_ms"].size(), 2u);
  ExpectTiming(j["encode_ms"]["64x64"], "encode 64x64");
  ExpectTiming(j["encode_ms"]["96x64"], "encode 96x64");
  // 64x64 -> a 4x4 patch grid -> 4 merged tokens; 96x64 -> 6x4 -> 6.
  EXPECT_EQ(j["encode_ms"]["64x64"]["tokens"], 4);
  EXPECT_EQ(j["encode_ms"]["96x64"]["tokens"], 6);

  const double wbytes = j["weight_bytes_per_token"];
  const double bw = j["mem_bw_gbs"];
  EXPECT_GT(wbytes, 0.0);
  EXPECT_LT(wbytes, double(fs::file_size(golden / "models/tiny-a-gguf/tiny-a-q8_0.gguf")));
  EXPECT_GT(bw, 0.0);
  EXPECT_GT(double(j["matrix_peak_gflops"]), 0.0);
  EXPECT_GE(double(j["matrix_peak_gflops"]), double(j["matrix_peak_median_gflops"]));
  EXPECT_GT(double(j["peak_rss_bytes"]), 0.0);
  // The bandwidth limit is the best pass of the probes before the runs and after each decode
  // run (--repetitions 2: two of those).
  const nlohmann::json& probes = j["mem_bw_probes_gbs"];
  ASSERT_TRUE(probes["after_each_decode"].is_array()) << probes.dump();
  ASSERT_EQ(probes["after_each_decode"].size(), 2u) << probes.dump();
  std::vector<nlohmann::json> all = {probes["before"]};
  for (const auto& p : probes["after_each_decode"]) all.push_back(p);
  double best = 0;
  for (const nlohmann::json& p : all) {
    ASSERT_TRUE(p.is_object()) << probes.dump();
    EXPECT_GT(double(p["median"]), 0.0);
    EXPECT_GE(double(p["best"]), double(p["median"]));
    best = std::max(best, double(p["best"]));
  }
  EXPECT_EQ(bw, best);
  // K and V read per decoded token: the tiny model's shape from its Hugging Face config
  // (golden/models/tiny-a, the checkpoint the GGUF was converted from), bf16 slots, steps
  // 0..3 after 16 prompt tokens attending 17..20 cached tokens (18.5 on average).
  std::ifstream cfg_file(golden / "models/tiny-a/config.json");
  const nlohmann::json cfg = nlohmann::json::parse(cfg_file, nullptr, false);
  ASSERT_FALSE(cfg.is_discarded());
  const nlohmann::json& tc = cfg.contains("text_config") ? cfg["text_config"] : cfg;
  const double slot_bytes = double(tc["num_hidden_layers"]) * double(tc["num_key_value_heads"]) *
                            double(tc["head_dim"]) * 2 /* K and V */ * 2 /* bf16 */;
  EXPECT_EQ(double(j["kv_bytes_per_token"]), slot_bytes * 18.5);
  const double step_bytes = j["decode_bytes_per_token"];
  EXPECT_EQ(step_bytes, wbytes + double(j["kv_bytes_per_token"]));
  // The roofline fraction is the decode rate's bytes (weights and K / V) per second over the
  // bandwidth.
  const double decode = j["decode_tok_s"]["median"];
  EXPECT_NEAR(double(j["decode_roofline_fraction"]), decode * step_bytes / 1e9 / bw,
              1e-9 * decode * step_bytes / 1e9 / bw);
  // Each run against the probe after it: within what the slowest / fastest run and the
  // lowest / highest of those probes allow.
  const nlohmann::json& paired = j["decode_roofline_fraction_paired"];
  ASSERT_TRUE(paired.is_object()) << j.dump();
  double after_lo = 1e300, after_hi = 0;
  for (const auto& p : probes["after_each_decode"]) {
    after_lo = std::min(after_lo, double(p["best"]));
    after_hi = std::max(after_hi, double(p["best"]));
  }
  const double gb = step_bytes / 1e9;
  EXPECT_LE(double(paired["min"]), double(paired["median"]));
  EXPECT_LE(double(paired["median"]), double(paired["max"]));
  EXPECT_GE(double(paired["min"]), double(j["decode_tok_s"]["min"]) * gb / after_hi * (1 - 1e-9));
  EXPECT_LE(double(paired["max"]), double(j["decode_tok_s"]["max"]) * gb / after_lo * (1 + 1e-9));
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_EQ(j["kv_dtype"], "bf16");  // --kv-dtype auto follows the precision
  // The compute line names the CPU as the kernel reports it in /proc/cpuinfo (vendor, family,
  // model), so runs on different hosts can be told apart.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::map<std::string, std::string> cpu;
  for (std::string line; std::getline(cpuinfo, line) && !line.empty();) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    cpu[key] = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
  }
  ASSERT_TRUE(cpu.count("vendor_id") && cpu.count("cpu family") && cpu.count("model"));
  EXPECT_NE(j["compute"].get<std::string>().find("cpuid=" + cpu["vendor_id"] + "/" +
                                                 cpu["cpu family"] + "/" + cpu["model"]),
            std::string::npos)
      << j["compute"];
  // q8_0 text weights under bf16 are packed for the int8 GEMV where the CPU has its kernel;
  // then prefill takes that path and is set against the int8 peak, else the bf16 one.
  const bool avx512 = j["compute"].get<std::string>().find("isa=avx512") != std::string::npos;
  EXPECT_EQ(j["text_weights"], avx512 ? "packed" : "copied");
  EXPECT_EQ(j["prefill_peak"], avx512 ? "int8" : "bf16");
  EXPECT_EQ(j.contains("matrix_peak_int8_gops"), avx512);
  const double prefill_peak =
      avx512 ? double(j["matrix_peak_int8_gops"]) : double(j["matrix_peak_gflops"]);
  EXPECT_GT(prefill_peak, 0.0);
  EXPECT_NEAR(double(j["prefill_peak_fraction"]), double(j["prefill_gflops"]) / prefill_peak,
              1e-9 * double(j["prefill_gflops"]) / prefill_peak);
}

TEST(CliBenchModelTest, PlacementFollowsPrecisionAndMmap) {
  OCULAR_REQUIRE_GOLDEN(golden);
  std::vector<std::string> f32 = TinyArgs(golden);
  f32.insert(f32.end(), {"--skip-vision", "--precision", "f32"});
  const nlohmann::json exact = BenchJson(f32);
  EXPECT_EQ(exact["text_weights"], "copied");  // the exact path packs nothing
  EXPECT_EQ(exact["kv_dtype"], "f32");         // and keeps K and V exact
  std::vector<std::string> mapped = TinyArgs(golden);
  mapped.insert(mapped.end(), {"--skip-vision", "--mmap"});
  const nlohmann::json m = BenchJson(mapped);
  EXPECT_EQ(m["text_weights"], "mapped");
  EXPECT_EQ(m["prefill_peak"], "bf16");  // mapped q8_0 rows go to the bf16 matmul in prefill
}

// --kv-dtype f16 / f32 run prefill and decode on that KV cache and report it, whatever the
// precision; a type the cache cannot hold is one line and exit 2.
TEST(CliBenchModelTest, KvDtypeIsReportedAndChecked) {
  OCULAR_REQUIRE_GOLDEN(golden);
  for (const char* kv : {"f16", "f32"}) {
    std::vector<std::string> args = TinyArgs(golden);
    args.insert(args.end(), {"--skip-vision", "--kv-dtype", kv});
    nlohmann::json j = BenchJson(args);
    EXPECT_EQ(j["kv_dtype"], kv);
    ExpectTiming(j["decode_tok_s"], "decode_tok_s");
  }
  std::vector<std::string> bad = TinyArgs(golden);
  bad.insert(bad.end(), {"--skip-vision", "--kv-dtype", "q8_0"});
  CliResult r = RunOcular(bad);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--kv-dtype"), std::string::npos) << r.err;
}

TEST(CliBenchModelTest, BadImageSizeIsOneLineAndExitTwo) {
  OCULAR_REQUIRE_GOLDEN(golden);
  std::vector<std::string> args = TinyArgs(golden);
  args.insert(args.end(), {"--image-size", "10x10"});
  CliResult r = RunOcular(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--image-size"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ocular::testing
