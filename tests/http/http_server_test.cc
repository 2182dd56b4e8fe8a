// The OpenAI-compatible server end to end on the tiny-a checkpoint, over real HTTP on a free
// loopback port. Expected generations come from the float64 reference (golden/forward/tiny-a):
// greedy, 16 tokens, EOS ignored (our `ignore_eos` extension).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class HttpServerTest : public SharedServerTest<HttpServerTest> {
 protected:

  static json Case(const std::string& name) {
    return json::parse(ReadBinary(golden_ / "forward/tiny-a" / name / "case.json"));
  }
  static json GreedyRequest(json messages) {
    return {{"model", "tiny-a"}, {"messages", std::move(messages)}, {"temperature", 0},
            {"max_tokens", 16}, {"ignore_eos", true}};
  }
  static json ImageMessages(const std::string& image_file, const std::string& text) {
    const std::string png = ReadBinary(golden_ / "inputs/images" / image_file);
    return json::array({{{"role", "user"},
                         {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + Base64Encode(png)}}}},
                                      {{"type", "text"}, {"text", text}}}}}});
  }
  static json PostJson(const std::string& path, const json& body, int expect_status = 200) {
    auto r = server_->Post(path, body.dump());
    EXPECT_TRUE(r) << "no response";
    if (!r) return json();
    EXPECT_EQ(r->status, expect_status) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  // Expects a 400 whose error names `param`.
  static void ExpectBadParam(const std::string& body, const std::string& param, int status = 400) {
    auto r = server_->Post("/v1/chat/completions", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << param << ": " << r->body;
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    if (!param.empty()) {
      EXPECT_EQ(j["error"]["param"], param) << r->body;
    }
    EXPECT_TRUE(j["error"].contains("code"));
  }

};

TEST_F(HttpServerTest, TextChatMatchesReferenceGreedy) {
  OCULAR_REQUIRE_GOLDEN(golden);
  json c = Case("text");
  auto r = server_->Post("/v1/chat/completions", GreedyRequest(c["messages"]).dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], c["generated_text"]);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["prompt_tokens"], c["n_tokens"]);
  EXPECT_EQ(j["usage"]["completion_tokens"], 16);
  EXPECT_EQ(j["usage"]["total_tokens"], c["n_tokens"].get<int>() + 16);
  for (const char* k : {"queue_ms", "fetch_ms", "preprocess_ms", "encode_ms", "prefill_ms", "decode_ms",
                        "ttft_ms", "total_ms"}) {
    ASSERT_TRUE(j["usage"]["timings"].contains(k)) << k;
    EXPECT_GE(j["usage"]["timings"][k].get<double>(), 0.0) << k;
  }
  EXPECT_GT(j["usage"]["timings"]["total_ms"].get<double>(), 0.0);
  EXPECT_NE(r->get_header_value("Server-Timing").find("total;dur="), std::string::npos);
}

TEST_F(HttpServerTest, ImageDataUrlMatchesReferenceAndSecondRequestHitsCaches) {
  OCULAR_REQUIRE_GOLDEN(golden);
  json c = Case("image_img_224x224_shapes");
  json req = GreedyRequest(ImageMessages("img_224x224_shapes.png", "What is in this image?"));
  json j = PostJson("/v1/chat/completions", req);
  EXPECT_EQ(j["choices"][0]["message"]["content"], c["generated_text"]);
  EXPECT_EQ(j["usage"]["prompt_tokens"], c["n_tokens"]);
  ASSERT_EQ(j["usage"]["media"].size(), 1u);
  EXPECT_EQ(j["usage"]["media"][0]["tokens"], c["media"][0]["n_tokens"]);
  EXPECT_EQ(j["usage"]["media"][0]["id"].get<std::string>().size(), 64u);
  EXPECT_GT(j["usage"]["timings"]["preprocess_ms"].get<double>(), 0.0);
  // Same request again: the prompt (image included) comes from the prefix cache.
  json k = PostJson("/v1/chat/completions", req);
  EXPECT_EQ(k["choices"][0]["message"]["content"], c["generated_text"]);
  EXPECT_GT(k["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
  EXPECT_EQ(k["usage"]["media"][0]["cache"], "hit");
  EXPECT_EQ(k["usage"]["media"][0]["id"], j["usage"]["media"][0]["id"]);
}

TEST_F(HttpServerTest, StreamingChunksConcatenateToTheReferenceAndEndWithDone) {
  OCULAR_REQUIRE_GOLDEN(golden);
  json c = Case("text");
  json req = GreedyRequest(c["messages"]);
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto r = server_->Post("/v1/chat/completions", req.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  SseStream s = ParseSse(r->body);
  EXPECT_TRUE(s.done);
  EXPECT_FALSE(s.malformed);
  ASSERT_GE(s.chunks.size(), 3u);
  EXPECT_EQ(s.chunks[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text, finish;
  for (const json& ch : s.chunks) {
    EXPECT_EQ(ch["object"], "chat.completion.chunk");
    EXPECT_EQ(ch["id"], s.chunks[0]["id"]);
    for (const json& choice : ch["choices"]) {
      if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
      if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
    }
  }
  EXPECT_EQ(text, c["generated_text"]);
  EXPECT_EQ(finish, "length");
  const json& last = s.chunks.back();
  EXPECT_TRUE(last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], 16);
  EXPECT_TRUE(last["usage"]["timings"].contains("ttft_ms"));
  EXPECT_TRUE(last.contains("x_ocular"));
}

TEST_F(HttpServerTest, LogprobsMatchReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
  json c = Case("text");
  json req = GreedyRequest(c["messages"]);
  req["logprobs"] = true;
  req["top_logprobs"] = 5;
  json j = PostJson("/v1/chat/completions", req);
  const json& content = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    const json& ref = c["greedy"][i];
    EXPECT_NEAR(content[i]["logprob"].get<double>(), ref["logprob"].get<double>(), 2e-3) << i;
    ASSERT_EQ(content[i]["top_logprobs"].size(), 5u);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_NEAR(content[i]["top_logprobs"][k]["logprob"].get<double>(), ref["top5"][k][1].get<double>(), 2e-3);
    }
    std::string hex;
    for (const json& b : content[i]["bytes"]) hex += fmt::format("{:02x}", b.get<int>());
    EXPECT_EQ(hex, ref["token_bytes_hex"]) << i;
  }
}

TEST_F(HttpServerTest, NChoicesAndStopStrings) {
  OCULAR_REQUIRE_GOLDEN(golden);
  json c = Case("text");
  const std::string ref = c["generated_text"];  // "borahborah...borah contributing"
  json req = GreedyRequest(c["messages"]);
  req["n"] = 2;
  json j = PostJson("/v1/chat/completions", req);
  ASSERT_EQ(j["choices"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(j["choices"][i]["index"], i);
    EXPECT_EQ(j["choices"][i]["message"]["content"], ref);
  }
  EXPECT_EQ(j["usage"]["completion_tokens"], 32);
  // Stop inside a token and at a later token: the text ends before the first occurrence.
  for (const std::string stop : {"rahbo", " contributing"}) {
    json s = GreedyRequest(c["messages"]);
    s["stop"] = json::array({"never-appears", stop});
    json k = PostJson("/v1/chat/completions", s);
    EXPECT_EQ(k["choices"][0]["message"]["content"], ref.substr(0, ref.find(stop))) << stop;
    EXPECT_EQ(k["choices"][0]["finish_reason"], "stop") << stop;
  }
}

TEST_F(HttpServerTest, BadParametersAreRejectedNamingTheParameter) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto with = [](const char* key, json v) {
    json b = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    b[key] = std::move(v);
    return b.dump();
  };
  ExpectBadParam(with("temperature", -1), "temperature");
  ExpectBadParam(with("top_p", 2), "top_p");
  ExpectBadParam(with("max_tokens", 0), "max_tokens");
  ExpectBadParam(with("n", 17), "n");
  json lp = json::parse(with("logprobs", true));
  lp["top_logprobs"] = 21;
  ExpectBadParam(lp.dump(), "top_logprobs");
  ExpectBadParam(with("messages", {{{"role", "wizard"}, {"content", "x"}}}), "messages[0].role");
  ExpectBadParam("{\"messages\": [", "body");
  ExpectBadParam("{\"messages\": " + std::string(100, '[') + std::string(100, ']') + "}", "body");
  json bad_b64 = {{"messages", {{{"role", "user"},
                                 {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,%%%not-base64"}}}}}}}}}};
  ExpectBadParam(bad_b64.dump(), "messages[0].content[0].image_url.url");
  json nine = {{"messages", {{{"role", "user"}, {"content", json::array()}}}}};
  for (int i = 0; i < 9; ++i) {
    nine["messages"][0]["content"].push_back({{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}});
  }
  ExpectBadParam(nine.dump(), "messages[0].content[8]");
  // The server still serves normal requests afterwards.
  json ok = PostJson("/v1/chat/completions", json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}});
  EXPECT_EQ(ok["choices"].size(), 1u);
}

TEST_F(HttpServerTest, InternalImageUrlsAre400AndNeverFetched) {
  OCULAR_REQUIRE_GOLDEN(golden);
  httplib::Server canary;
  std::atomic<int> hits{0};
  canary.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    hits.fetch_add(1);
    res.set_content(ReadBinary(golden_ / "inputs/images/img_97x61_small.png"), "image/png");
  });
  const int port = canary.bind_to_any_port("127.0.0.1");
  std::thread t([&] { canary.listen_after_bind(); });
  const std::string p = std::to_string(port);
  for (const std::string& url : {"http://127.0.0.1:" + p + "/a.png", "http://localhost:" + p + "/a.png",
                                "http://127.1:" + p + "/a.png", "http://[::ffff:127.0.0.1]:" + p + "/a.png",
                                "http://2130706433:" + p + "/a.png", std::string("file:///etc/passwd"), std::string("gopher://x/")}) {
    json req = {{"messages", {{{"role", "user"},
                               {"content", {{{"type", "image_url"}, {"image_url", {{"url", url}}}}}}}}},
                {"max_tokens", 1}};
    ExpectBadParam(req.dump(), "messages[0].content[0].image_url.url");
  }
  canary.stop();
  t.join();
  EXPECT_EQ(hits.load(), 0);
}

TEST_F(HttpServerTest, OversizeBodyIs413WithoutSendingIt) {
  OCULAR_REQUIRE_GOLDEN(golden);
  // Only the headers are sent: the server must answer from Content-Length alone.
  std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kApiKey) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(64ull << 20) + "\r\n\r\n";
  std::string resp = RawExchange(server_->port(), req, 12, 5000);
  EXPECT_EQ(resp.rfind("HTTP/1.1 413", 0), 0u) << resp.substr(0, 200);
}

TEST_F(HttpServerTest, ApiKeyIsRequiredOnInferenceRoutesOnly) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const std::string body = json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 1}}.dump();
  auto missing = server_->Post("/v1/chat/completions", body, "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(json::parse(missing->body)["error"]["type"], "authentication_error");
  auto wrong = server_->Post("/v1/chat/completions", body, "test-key-0123456788");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->body.find("0123456788"), std::string::npos);  // never echoed
  EXPECT_EQ(server_->Get("/v1/models", "nope")->status, 401);
  EXPECT_EQ(server_->Get("/health", "")->status, 200);
  EXPECT_EQ(server_->Get("/ready", "")->status, 200);
  auto models = server_->Get("/v1/models");
  ASSERT_EQ(models->status, 200);
  EXPECT_EQ(json::parse(models->body)["data"][0]["object"], "model");
}

TEST_F(HttpServerTest, TokenizeDetokenizeAndCompletions) {
  OCULAR_REQUIRE_GOLDEN(golden);
  json c = Case("text");
  json t = PostJson("/tokenize", json{{"prompt", c["rendered"]}});
  std::vector<int> ids = t["tokens"];
  EXPECT_EQ(ids, c["input_ids"].get<std::vector<int>>());
  json d = PostJson("/detokenize", json{{"tokens", ids}});
  EXPECT_EQ(d["prompt"], c["rendered"]);
  PostJson("/detokenize", json{{"tokens", {-5}}}, 400);
  // /v1/completions takes raw text; special tokens are not parsed, so it differs from chat,
  // but it is deterministic under greedy decoding.
  json req = {{"prompt", "Once upon a time"}, {"max_tokens", 4}, {"temperature", 0}, {"ignore_eos", true}};
  json a = PostJson("/v1/completions", req);
  json b = PostJson("/v1/completions", req);
  EXPECT_EQ(a["object"], "text_completion");
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
  EXPECT_EQ(a["usage"]["completion_tokens"], 4);
}

TEST_F(HttpServerTest, MetricsExposeTheDocumentedNames) {
  OCULAR_REQUIRE_GOLDEN(golden);
  PostJson("/v1/chat/completions", json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}});
  auto r = server_->Get("/metrics", "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  for (const char* name :
       {"ocular_requests_running ", "ocular_requests_waiting ", "ocular_kv_blocks_used ", "ocular_kv_blocks_total ",
        "ocular_time_to_first_token_seconds_bucket{le=\"0.1\"}", "ocular_inter_token_latency_seconds_count",
        "ocular_e2e_request_latency_seconds_sum", "ocular_stage_seconds_bucket{stage=\"encode\",le=\"+Inf\"}",
        "ocular_stage_seconds_count{stage=\"prefill\"}", "ocular_prefix_cache_hit_tokens_total ",
        "ocular_feature_cache_hits_total{kind=\"exact\"}", "ocular_feature_cache_misses_total ",
        "ocular_preemptions_total ", "# TYPE ocular_time_to_first_token_seconds histogram",
        "ocular_engine_slow_decode_steps_total ", "ocular_vision_encodes_in_flight ",
        "ocular_vision_encoder_state_bytes ", "ocular_vision_encode_waiters ", "ocular_vision_encodes_started_total ",
        "ocular_vision_encodes_finished_total "}) {
    EXPECT_NE(r->body.find(name), std::string::npos) << name;
  }
  EXPECT_GT(MetricValue(r->body, "ocular_kv_blocks_total"), 0);
  // Two generated tokens: a prefill step and at least one step carrying a decode token.
  EXPECT_GE(MetricValue(r->body, "ocular_engine_steps_total"), 2);
  EXPECT_GE(MetricValue(r->body, "ocular_engine_decode_steps_total"), 1);
  EXPECT_LE(MetricValue(r->body, "ocular_engine_decode_steps_total"),
            MetricValue(r->body, "ocular_engine_steps_total"));
  EXPECT_GE(MetricValue(r->body, "ocular_e2e_request_latency_seconds_count"), 1);
}

TEST_F(HttpServerTest, ClientDisconnectMidStreamCancelsAndFreesKv) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto metrics = [&] { return server_->Get("/metrics", "")->body; };
  const double baseline = MetricValue(metrics(), "ocular_kv_blocks_used");
  json req = {{"messages", {{{"role", "user"}, {"content", "Tell me a very long story."}}}}, {"max_tokens", 3000},
              {"ignore_eos", true}, {"stream", true}};
  const std::string body = req.dump();
  std::string http = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kApiKey) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body;
  // Read the first few chunks, then hang up.
  std::string got = RawExchange(server_->port(), http, 2000, 30000);
  EXPECT_NE(got.find("data: "), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  double running = 1, used = -1;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000)) {
    std::string m = metrics();
    running = MetricValue(m, "ocular_requests_running");
    used = MetricValue(m, "ocular_kv_blocks_used");
    if (running == 0 && used <= baseline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(running, 0);
  EXPECT_LE(used, baseline);
}

// A few hundred concurrent streaming clients (OCULAR_HTTP_CLIENTS overrides: the `slow` label
// runs 1,000): every stream ends with a finish reason and [DONE] or got an immediate 429; chunk
// ids never mix between streams. Prints client-side p50/p99 TTFT and inter-chunk latency.
TEST_F(HttpServerTest, ConcurrentStreamsAllFinishWithoutInterleaving) {
  OCULAR_REQUIRE_GOLDEN(golden);
  int clients = 200;
  if (const char* env = std::getenv("OCULAR_HTTP_CLIENTS")) clients = std::max(1, std::atoi(env));
  std::atomic<int> good{0}, busy{0};
  const size_t n = static_cast<size_t>(clients);
  std::vector<std::string> failures(n);
  std::vector<double> ttft(n, -1);
  std::vector<std::vector<double>> gaps(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      json req = {{"messages", {{{"role", "user"}, {"content", "Client " + std::to_string(i) + " says hello"}}}},
                  {"max_tokens", 8}, {"ignore_eos", true}, {"stream", true}, {"temperature", 0}};
      httplib::Client cli("127.0.0.1", server_->port());
      cli.set_read_timeout(300, 0);
      cli.set_connection_timeout(30, 0);
      httplib::Request r;
      r.method = "POST";
      r.path = "/v1/chat/completions";
      r.body = req.dump();
      r.set_header("Content-Type", "application/json");
      r.set_header("Authorization", std::string("Bearer ") + kApiKey);
      std::string body;
      const auto t0 = std::chrono::steady_clock::now();
      auto last = t0;
      r.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
        // Timing counts data events only (not keep-alive comments).
        const auto now = std::chrono::steady_clock::now();
        if (std::string_view(d, n).find("data: {") != std::string_view::npos) {
          if (ttft[size_t(i)] < 0) {
            ttft[size_t(i)] = std::chrono::duration<double>(now - t0).count();
          } else {
            gaps[size_t(i)].push_back(std::chrono::duration<double>(now - last).count());
          }
          last = now;
        }
        body.append(d, n);
        return true;
      };
      auto res = cli.send(r);
      if (!res) {
        failures[size_t(i)] = "no response: " + httplib::to_string(res.error());
        return;
      }
      if (res->status == 429) {
        busy.fetch_add(1);
        return;
      }
      SseStream s = ParseSse(body);
      int deltas = 0;
      std::string finish;
      bool same_id = true;
      for (const json& ch : s.chunks) {
        same_id &= ch["id"] == s.chunks[0]["id"];
        for (const json& c : ch["choices"]) {
          if (c["delta"].contains("content")) ++deltas;
          if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
        }
      }
      if (res->status == 200 && s.done && !s.malformed && same_id && finish == "length" && deltas > 0) {
        good.fetch_add(1);
      } else {
        failures[size_t(i)] = "status " + std::to_string(res->status) + " finish '" + finish + "'";
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < clients; ++i) EXPECT_TRUE(failures[size_t(i)].empty()) << i << ": " << failures[size_t(i)];
  EXPECT_EQ(good.load() + busy.load(), clients);
  EXPECT_GT(good.load(), 0);
  std::vector<double> t, g;
  for (int i = 0; i < clients; ++i) {
    if (ttft[size_t(i)] >= 0) t.push_back(ttft[size_t(i)]);
    g.insert(g.end(), gaps[size_t(i)].begin(), gaps[size_t(i)].end());
  }
  auto pct = [](std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
  };
  std::printf("%d clients (%d ok, %d 429): TTFT p50 %.1f ms p99 %.1f ms; inter-chunk p50 %.2f ms p99 %.2f ms\n",
              clients, good.load(), busy.load(), 1e3 * pct(t, 0.5), 1e3 * pct(t, 0.99), 1e3 * pct(g, 0.5),
              1e3 * pct(g, 0.99));
}

}  // namespace
}  // namespace ocular::testing
