// `ocular bench serve` (the real binary) against an in-process `ocular serve` on tiny-a:
// the JSON report's fields, fixed output lengths (ignore_eos), the split by request kind,
// goodput under an SLO, and the server's cache results for repeated images.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;

json BenchJson(const TestServer& server, std::vector<std::string> args) {
  std::vector<std::string> all = {"bench", "serve", "--url",
                                  "http://127.0.0.1:" + std::to_string(server.port()) + "/v1",
                                  "--api-key", kApiKey, "--json", "--input-tokens", "12",
                                  "--image-size", "64x48"};
  all.insert(all.end(), args.begin(), args.end());
  CliResult r = RunOcular(all);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j.is_discarded() ? json::object() : j;
}

TEST(BenchServe, MixedWorkloadReportsLatenciesThroughputAndServerTimings) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TestServer server(golden);
  ASSERT_TRUE(server.ok());
  json j = BenchJson(server, {"--workload", "mixed", "--concurrency", "2", "--num-requests", "4",
                              "--output-tokens", "5", "--probe-rate", "4",
                              "--slo", "ttft:600000,tpot:600000"});
  ASSERT_TRUE(j.contains("ttft_ms"));
  EXPECT_EQ(j["num_requests"], 4);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["completed"], 4);
  // ignore_eos: exactly the requested length, counted by the server's usage.
  EXPECT_EQ(j["output_tokens"], 4 * 5);
  EXPECT_EQ(j["by_kind"]["text"]["completed"], 3);   // requests 0, 1, 2
  EXPECT_EQ(j["by_kind"]["image"]["completed"], 1);  // request 3
  for (const char* k : {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"}) {
    for (const char* p : {"p50", "p90", "p99", "mean"}) {
      EXPECT_TRUE(j[k].contains(p)) << k << " " << p;
    }
    EXPECT_GT(j[k]["p50"].get<double>(), 0.0) << k;
    EXPECT_LE(j[k]["p50"].get<double>(), j[k]["p99"].get<double>()) << k;
  }
  // ITL gaps: at most one per token after the first of each request.
  EXPECT_GT(j["itl_ms"]["count"].get<int>(), 0);
  EXPECT_LE(j["itl_ms"]["count"].get<int>(), 4 * 4);
  EXPECT_LE(j["ttft_ms"]["p99"].get<double>(), j["e2e_ms"]["p99"].get<double>());
  EXPECT_GT(j["output_throughput"].get<double>(), 0.0);
  EXPECT_NEAR(j["request_throughput"].get<double>() * j["duration_s"].get<double>(), 4.0, 1e-6);
  EXPECT_EQ(j["goodput"]["requests"], 4);
  // The server's own figures (Ocular's usage): every request reported, one image encoded.
  EXPECT_EQ(j["server"]["requests_with_usage"], 4);
  EXPECT_TRUE(j["server"]["timings_ms"].contains("encode_ms"));
  EXPECT_TRUE(j["server"]["timings_ms"].contains("queue_ms"));
  EXPECT_EQ(j["server"]["media_cache"]["miss"], 1);
  ASSERT_TRUE(j.contains("probe"));
  EXPECT_EQ(j["probe"]["completed"], j["probe"]["sent"]);

  // An impossible SLO: nothing counts as good.
  json strict = BenchJson(server, {"--workload", "text", "--num-requests", "2",
                                   "--output-tokens", "3", "--slo", "ttft:0.000001"});
  EXPECT_EQ(strict["completed"], 2);
  EXPECT_EQ(strict["goodput"]["requests"], 0);
  EXPECT_EQ(strict["goodput"]["fraction"], 0.0);
}

TEST(BenchServe, RepeatedImagesAreServedFromTheCaches) {
  OCULAR_REQUIRE_GOLDEN(golden);
  TestServer server(golden);
  ASSERT_TRUE(server.ok());
  json j = BenchJson(server, {"--workload", "repeat-image", "--repeat-ratio", "1",
                              "--concurrency", "1", "--num-requests", "3", "--output-tokens", "2"});
  EXPECT_EQ(j["completed"], 3);
  const json& mc = j["server"]["media_cache"];
  EXPECT_EQ(mc.value("miss", 0), 1);
  EXPECT_EQ(mc.value("hit", 0) + mc.value("prefix", 0), 2);
}

TEST(BenchServe, BadArgumentsFailClearly) {
  CliResult r = RunOcular({"bench", "serve", "--workload", "text", "--slo", "ttft"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--slo"), std::string::npos) << r.err;
  r = RunOcular({"bench", "serve", "--workload", "video", "--url", "http://127.0.0.1:9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--video-file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ocular::testing
