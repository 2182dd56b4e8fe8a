// Engine acceptance tests on the tiny-a checkpoint against the float64 reference's greedy
// tokens (golden/forward/tiny-a): equivalence alone / concurrent / chunked / preempted,
// prefix-cache reuse rules, the feature cache, refusal of oversize requests, cancellation.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "base/thread_pool.h"
#include "engine/engine.h"
#include "model/tokenizer/load_tokenizer.h"
#include "tests/support/golden.h"

namespace ocular::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<float> ReadPixels(const fs::path& p) {
  if (p.extension() != ".gz") return testing::ReadF32(p);
  gzFile f = gzopen(p.c_str(), "rb");
  std::vector<float> out, buf(1 << 16);
  for (int n; f && (n = gzread(f, buf.data(), unsigned(buf.size() * 4))) > 0;) {
    out.insert(out.end(), buf.begin(), buf.begin() + n / 4);
  }
  if (f) gzclose(f);
  return out;
}

struct GoldenCase {
  std::string name;
  EngineRequest request;
  std::vector<int32_t> greedy;
};

// A golden forward case as an engine request: greedy, 16 tokens, EOS ignored (the reference
// decodes 16 steps without stopping).
GoldenCase LoadCase(const fs::path& golden, const std::string& name) {
  GoldenCase gc;
  gc.name = name;
  const fs::path dir = golden / "forward/tiny-a" / name;
  json c = json::parse(testing::ReadFileText(dir / "case.json"));
  EngineRequest& r = gc.request;
  r.prompt_ids = testing::ReadI32(dir / "input_ids.i32");
  auto pos = testing::ReadI32(dir / "positions.i32");
  r.positions.assign(pos.begin(), pos.end());
  r.rope_delta = c["rope_delta"].get<int64_t>();
  std::vector<int64_t> media_tokens;
  for (const json& m : c["media"]) {
    PreparedMedia pm;
    pm.kind = m["kind"] == "video" ? MediaKind::kVideo : MediaKind::kImage;
    auto px = ReadPixels(golden / m["pixel_values"].get<std::string>());
    pm.pixel_values = std::make_shared<const std::vector<float>>(std::move(px));
    for (int k = 0; k < 3; ++k) pm.grid_thw[k] = m["grid_thw"][k].get<int64_t>();
    std::string nm = m["name"];
    pm.media_id = Sha256::Hash(nm.data(), nm.size());  // stand-in content id per source
    media_tokens.push_back(m["n_tokens"].get<int64_t>());
    r.media.push_back(std::move(pm));
  }
  // Spans: runs of image/video pads, assigned to media items in order.
  int media = 0;
  int64_t used = 0;
  const auto& ids = r.prompt_ids;
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != 151655 && ids[i] != 151656) {
      ++i;
      continue;
    }
    size_t e = i;
    while (e < ids.size() && ids[e] == ids[i]) ++e;
    r.spans.push_back({media, int64_t(i), int64_t(e - i)});
    used += int64_t(e - i);
    if (used == media_tokens[media]) {
      ++media;
      used = 0;
    }
    i = e;
  }
  r.sampling.temperature = 0.0f;
  r.sampling.num_logprobs = 5;
  r.max_tokens = 16;
  r.ignore_eos = true;
  for (const json& s : c["greedy"]) gc.greedy.push_back(s["token_id"].get<int32_t>());
  return gc;
}

struct Outcome {
  std::vector<int32_t> tokens;
  std::string text;
  FinishReason reason = FinishReason::kError;
  RequestStats stats;
};

Outcome Collect(RequestHandle& h) {
  Outcome o;
  for (;;) {
    Event e;
    // Generous: under ThreadSanitizer on a loaded machine a preempted request can wait minutes.
    if (!h.events().Pop(&e, std::chrono::milliseconds(600000))) {
      ADD_FAILURE() << "timed out waiting for events";
      return o;
    }
    o.text += e.text;
    for (const auto& t : e.tokens) o.tokens.push_back(t.id);
    if (e.type == Event::Type::kFinish) {
      o.reason = e.finish_reason;
      o.stats = e.stats;
      return o;
    }
  }
}

class EngineGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto golden = testing::GoldenDir();
    if (!golden) return;
    golden_ = *golden;
    pool_ = std::make_unique<ThreadPool>(2);
    ctx_ = std::make_unique<kernels::ComputeContext>(*pool_);
    auto m = qwen3vl::Qwen3VLModel::Load(golden_ / "models/tiny-a", {}, *ctx_,
                                         kernels::Precision::kF32);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m);
    auto t = tokenizer::LoadTokenizer(golden_ / "models/tiny-a");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tokenizer_ = std::make_unique<tokenizer::Tokenizer>(std::move(*t));
    json index = json::parse(testing::ReadFileText(golden_ / "forward/tiny-a/index.json"));
    for (const json& e : index) cases_.push_back(LoadCase(golden_, e["name"]));
  }
  static void TearDownTestSuite() {
    cases_.clear();
    tokenizer_.reset();
    model_.reset();
    ctx_.reset();
    pool_.reset();
  }

  std::unique_ptr<Engine> MakeEngine(EngineOptions o) {
    auto e = Engine::Create(*model_, *tokenizer_, o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  }
  // A fresh engine with neither feature nor prefix cache: the cold reference for a prompt.
  std::unique_ptr<Engine> MakeColdEngine() {
    EngineOptions o = DefaultOptions();
    o.feature_cache.budget_bytes = 0;
    o.enable_prefix_caching = false;
    return MakeEngine(o);
  }
  static EngineOptions DefaultOptions() {
    EngineOptions o;
    o.kv_cache_bytes = 4 << 20;  // 2048 tokens of tiny-a (2 KiB per token)
    o.feature_cache.budget_bytes = 64 << 20;
    return o;
  }

  static inline fs::path golden_;
  static inline std::unique_ptr<ThreadPool> pool_;
  static inline std::unique_ptr<kernels::ComputeContext> ctx_;
  static inline std::unique_ptr<qwen3vl::Qwen3VLModel> model_;
  static inline std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  static inline std::vector<GoldenCase> cases_;
};

TEST_F(EngineGolden, EachRequestAloneMatchesReferenceGreedy) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto engine = MakeEngine(DefaultOptions());
  ASSERT_TRUE(engine);
  int64_t done = 0;
  for (const GoldenCase& c : cases_) {
    auto h = engine->Submit(c.request);
    ASSERT_TRUE(h.ok()) << c.name << ": " << h.status().ToString();
    Outcome o = Collect(**h);
    EXPECT_EQ(o.reason, FinishReason::kLength) << c.name;
    EXPECT_EQ(o.tokens, c.greedy) << c.name;
    EXPECT_EQ(o.stats.prompt_tokens, int64_t(c.request.prompt_ids.size()));
    EXPECT_EQ(o.stats.completion_tokens, 16);
    // Whoever has seen a stream end sees its steps and its finish counted (no race with the
    // engine thread): one request at a time, each token after the first takes a decode step.
    ++done;
    const EngineStats s = engine->Stats();
    EXPECT_EQ(s.finished, done) << c.name;
    EXPECT_GE(s.decode_steps, 15 * done) << c.name;
    EXPECT_GE(s.steps, 16 * done) << c.name;
  }
}

// A bf16 / f16 KV cache holds twice the tokens of an f32 one in the same budget and serves
// requests to the end; its attention numerics are the kernel tests' (paged attention on bf16
// and f16 caches against the reference). Other element types are refused.
TEST_F(EngineGolden, HalfPrecisionKvCacheHoldsTwiceTheTokens) {
  OCULAR_REQUIRE_GOLDEN(golden);
  EngineOptions o = DefaultOptions();
  auto f32 = MakeEngine(o);
  ASSERT_TRUE(f32);
  for (DType dt : {DType::kBF16, DType::kF16}) {
    SCOPED_TRACE(DTypeName(dt));
    o.kv_dtype = dt;
    auto engine = MakeEngine(o);
    ASSERT_TRUE(engine);
    EXPECT_EQ(engine->kv_capacity_tokens(), 2 * f32->kv_capacity_tokens());
    // The published figures (what /metrics shows) carry the size before any request.
    const EngineStats idle = engine->Stats();
    EXPECT_EQ(idle.kv_capacity_tokens, engine->kv_capacity_tokens());
    EXPECT_GT(idle.kv_blocks_total, 0);
    EXPECT_EQ(idle.kv_blocks_used, 0);
    auto h = engine->Submit(cases_[0].request);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    Outcome out = Collect(**h);
    EXPECT_EQ(out.reason, FinishReason::kLength);
    EXPECT_EQ(out.tokens.size(), cases_[0].greedy.size());
  }
  o.kv_dtype = DType::kQ8_0;
  auto bad = Engine::Create(*model_, *tokenizer_, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--kv-dtype"), std::string::npos);
}

TEST_F(EngineGolden, ConcurrentChunkedAndPreemptedRequestsMatchReference) {
  OCULAR_REQUIRE_GOLDEN(golden);
#if defined(OCULAR_TSAN)
  // ThreadSanitizer looks for races, not numerics: one configuration that chunks, preempts and
  // reuses prefixes covers every thread interaction, at 5-15x the release run time.
  const std::vector<int64_t> budgets = {37};
  const std::vector<int64_t> kv_sizes = {960};
#else
  const std::vector<int64_t> budgets = {37, 256};
  const std::vector<int64_t> kv_sizes = {2048, 960};
#endif
  for (int64_t budget : budgets) {
    for (int64_t kv_tokens : kv_sizes) {
      SCOPED_TRACE("budget " + std::to_string(budget) + " kv " + std::to_string(kv_tokens));
      EngineOptions o = DefaultOptions();
      o.max_batch_tokens = budget;
      o.kv_cache_bytes = kv_tokens * 2048;
      o.enable_prefix_caching = (budget == 37);
      // Whole-budget prefill chunks (no time-based interleave cap) and whole encodes (one
      // media item per step) keep the step plan deterministic and every request in flight at
      // once, so the small cache is sure to preempt.
      o.interleave_fraction = 0;
      o.encoder_budget_patches = int64_t{1} << 40;
      auto engine = MakeEngine(o);
      ASSERT_TRUE(engine);
      std::vector<std::unique_ptr<RequestHandle>> handles;
      for (const GoldenCase& c : cases_) {
        auto h = engine->Submit(c.request);
        ASSERT_TRUE(h.ok()) << h.status().ToString();
        handles.push_back(std::move(*h));
      }
      for (size_t i = 0; i < cases_.size(); ++i) {
        Outcome out = Collect(*handles[i]);
        EXPECT_EQ(out.tokens, cases_[i].greedy) << cases_[i].name;
      }
      EngineStats s = engine->Stats();
      if (kv_tokens == 960) {
        EXPECT_GT(s.preemptions, 0) << "KV pressure should preempt";
      }
      // Everything released: no blocks in use once all requests finished.
      for (int i = 0; i < 100 && engine->Stats().kv_blocks_used != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      EXPECT_EQ(engine->Stats().kv_blocks_used, 0);
    }
  }
}

TEST_F(EngineGolden, PrefixCacheReuseFollowsMediaIdentityAndSalt) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto engine = MakeEngine(DefaultOptions());
  ASSERT_TRUE(engine);
  const GoldenCase* gc = nullptr;
  for (const auto& c : cases_) if (c.name == "multi_turn") gc = &c;
  ASSERT_NE(gc, nullptr);
  const int64_t L = int64_t(gc->request.prompt_ids.size());
  const int64_t image_begin = gc->request.spans.front().first_token;
  const int64_t image_end = gc->request.spans.back().first_token + gc->request.spans.back().num_tokens;
  auto run = [&](EngineRequest r) {
    auto h = engine->Submit(std::move(r));
    EXPECT_TRUE(h.ok());
    return Collect(**h);
  };
  Outcome cold = run(gc->request);
  EXPECT_EQ(cold.stats.cached_tokens, 0);
  EXPECT_EQ(cold.tokens, gc->greedy);
  // Same request: every full block of the prompt is reused (the last token is recomputed).
  Outcome warm = run(gc->request);
  EXPECT_EQ(warm.stats.cached_tokens, (L - 1) / 16 * 16);
  EXPECT_GE(warm.stats.cached_tokens, image_end / 16 * 16);
  EXPECT_EQ(warm.tokens, gc->greedy);
  EXPECT_EQ(warm.stats.media.at(0).cache, MediaCacheResult::kPrefix);
  EXPECT_EQ(warm.stats.encode_ms, 0.0);
  // Same tokens, a different image (other media id): only blocks before the image are reused.
  EngineRequest other = gc->request;
  other.media[0].media_id[0] ^= 1;
  Outcome diff = run(other);
  EXPECT_EQ(diff.stats.cached_tokens, image_begin / 16 * 16);
  // A different cache salt shares nothing.
  EngineRequest salted = gc->request;
  salted.cache_salt = "tenant-b";
  Outcome s = run(salted);
  EXPECT_EQ(s.stats.cached_tokens, 0);
  EXPECT_EQ(s.tokens, gc->greedy);
}

TEST_F(EngineGolden, FeatureCacheSkipsEncoderAfterDifferentPrefix) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const GoldenCase* gc = nullptr;
  for (const auto& c : cases_) if (c.name == "image_img_320x240_shapes") gc = &c;
  ASSERT_NE(gc, nullptr);
  EngineRequest changed = gc->request;
  changed.prompt_ids[1] = 9707;  // a different text token before the image
  // Cold reference for the changed prompt: fresh engine, no caches.
  auto cold_engine = MakeColdEngine();
  ASSERT_TRUE(cold_engine);
  auto h0 = cold_engine->Submit(changed);
  ASSERT_TRUE(h0.ok());
  Outcome cold = Collect(**h0);
  EXPECT_EQ(cold.stats.media.at(0).cache, MediaCacheResult::kMiss);
  EXPECT_GT(cold.stats.encode_ms, 0.0);

  auto engine = MakeEngine(DefaultOptions());
  auto h1 = engine->Submit(gc->request);
  ASSERT_TRUE(h1.ok());
  Outcome first = Collect(**h1);
  EXPECT_EQ(first.tokens, gc->greedy);
  auto h2 = engine->Submit(changed);
  ASSERT_TRUE(h2.ok());
  Outcome second = Collect(**h2);
  EXPECT_EQ(second.stats.media.at(0).cache, MediaCacheResult::kHit);
  EXPECT_EQ(second.stats.encode_ms, 0.0);
  EXPECT_EQ(second.tokens, cold.tokens);
  EXPECT_EQ(engine->Stats().feature_cache.hits, 1u);
}

TEST_F(EngineGolden, OversizeAndInvalidRequestsAreRefused) {
  OCULAR_REQUIRE_GOLDEN(golden);
  EngineOptions o = DefaultOptions();
  o.kv_cache_bytes = 256 * 2048;  // 256 tokens
  auto engine = MakeEngine(o);
  const GoldenCase* big = nullptr;
  for (const auto& c : cases_) if (c.name == "image_img_1280x720_screenshot") big = &c;
  auto h = engine->Submit(big->request);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kOutOfRange);
  EngineRequest bad = cases_[0].request;
  bad.prompt_ids[0] = 1 << 30;
  EXPECT_EQ(engine->Submit(bad).status().code(), StatusCode::kInvalidArgument);
  EngineRequest no_tokens = cases_[0].request;
  no_tokens.max_tokens = 0;
  EXPECT_EQ(engine->Submit(no_tokens).status().code(), StatusCode::kInvalidArgument);
  // The engine still serves a normal request afterwards.
  auto ok = engine->Submit(cases_[0].request);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(Collect(**ok).tokens, cases_[0].greedy);
}

TEST_F(EngineGolden, CancellationReleasesEverything) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto engine = MakeEngine(DefaultOptions());
  std::vector<std::unique_ptr<RequestHandle>> handles;
  for (const auto& c : cases_) {
    EngineRequest r = c.request;
    r.max_tokens = 4000;  // long enough to still be running when cancelled
    handles.push_back(std::move(*engine->Submit(r)));
  }
  handles[3]->Cancel();
  handles[0]->Cancel();
  handles.resize(8);  // destroying handles cancels their requests
  for (auto& h : handles) {
    if (h) {
      h->Cancel();
      Outcome o = Collect(*h);
      EXPECT_EQ(o.reason, FinishReason::kCancelled);
    }
  }
  for (int i = 0; i < 500 && !(engine->Idle() && engine->Stats().kv_blocks_used == 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(engine->Idle());
  EXPECT_EQ(engine->Stats().kv_blocks_used, 0);
  EXPECT_EQ(engine->Stats().feature_cache.leased_entries, 0u);
}

TEST_F(EngineGolden, CancelMidEncodeFreesThePartialEncodeAndSharersStillFinish) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const GoldenCase* big = nullptr;
  const GoldenCase* text = nullptr;
  for (const auto& c : cases_) {
    if (c.name == "image_img_1280x720_screenshot") big = &c;
    if (c.name == "text") text = &c;
  }
  ASSERT_TRUE(big && text);
  EngineOptions o = DefaultOptions();
  o.encoder_chunk_rows = 36;
  o.encoder_budget_patches = 36;  // one encoder chunk per step: the encode spans many steps
  auto engine = MakeEngine(o);
  ASSERT_TRUE(engine);
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 3000 && !pred(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  };

  // 1. A lone image request cancelled while encoding: its partial encode is dropped.
  auto h = engine->Submit(big->request);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(wait_for([&] { return engine->Stats().encoder_state_bytes > 0; }));
  EXPECT_EQ(engine->Stats().encoding, 1);
  (*h)->Cancel();
  EXPECT_EQ(Collect(**h).reason, FinishReason::kCancelled);
  EXPECT_TRUE(wait_for([&] { return engine->Idle() && engine->Stats().encoding == 0; }));
  EXPECT_EQ(engine->Stats().encoder_state_bytes, 0);
  EXPECT_EQ(engine->Stats().feature_cache.insertions, 0u);
  EXPECT_EQ(engine->Stats().kv_blocks_used, 0);

  // 2. Two requests share one encode; cancelling one mid-encode keeps it for the other, and
  // a text request admitted meanwhile decodes while the image encodes. All exact.
  const int64_t started_before = engine->Stats().encodes_started;
  auto a = engine->Submit(big->request);
  auto b = engine->Submit(big->request);
  ASSERT_TRUE(a.ok() && b.ok());
  // Both must have joined the job before one is cancelled: a request still in the submit
  // queue when its only sharer leaves finds no job and (rightly) starts its own encode.
  ASSERT_TRUE(wait_for([&] {
    const EngineStats s = engine->Stats();
    return s.encoder_state_bytes > 0 && s.encode_waiters == 2;
  }));
  EXPECT_EQ(engine->Stats().encoding, 1);  // one job for the same media
  auto t = engine->Submit(text->request);
  ASSERT_TRUE(t.ok());
  (*a)->Cancel();
  Outcome to = Collect(**t);
  EXPECT_EQ(to.tokens, text->greedy);
  EXPECT_EQ(engine->Stats().encoding, 1) << "the text request finished during the encode";
  Outcome bo = Collect(**b);
  EXPECT_EQ(Collect(**a).reason, FinishReason::kCancelled);
  EXPECT_EQ(bo.tokens, big->greedy);
  EXPECT_EQ(bo.stats.media.at(0).cache, MediaCacheResult::kMiss);
  EXPECT_GT(bo.stats.encode_ms, 0.0);
  EXPECT_EQ(engine->Stats().encodes_started, started_before + 1) << "the encode was not restarted";
  EXPECT_TRUE(wait_for([&] { return engine->Idle(); }));
  EXPECT_EQ(engine->Stats().encoder_state_bytes, 0);
  EXPECT_EQ(engine->Stats().feature_cache.leased_entries, 0u);
}

TEST_F(EngineGolden, ConcurrentRequestsWithTheSameImageShareOneEncode) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const GoldenCase* img = nullptr;
  for (const auto& c : cases_) {
    if (c.name == "image_img_320x240_shapes") img = &c;
  }
  ASSERT_TRUE(img);
  EngineOptions o = DefaultOptions();
  o.encoder_chunk_rows = 36;
  o.encoder_budget_patches = 36;  // one chunk per step: the second arrives mid-encode
  auto engine = MakeEngine(o);
  ASSERT_TRUE(engine);
  // Two identical requests, and a third whose text after the image differs (another user,
  // same picture: no prefix-cache sharing past the image). Only one encode may run.
  EngineRequest other = img->request;
  other.prompt_ids.back() = 9707;
  auto a = engine->Submit(img->request);
  auto b = engine->Submit(img->request);
  auto c = engine->Submit(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  Outcome ao = Collect(**a), bo = Collect(**b), co = Collect(**c);
  EXPECT_EQ(ao.tokens, img->greedy);
  EXPECT_EQ(bo.tokens, img->greedy);
  for (const Outcome* x : {&ao, &bo, &co}) {
    EXPECT_EQ(x->stats.media.at(0).cache, MediaCacheResult::kMiss);  // waited on the encode
  }
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.encodes_started, 1);
  EXPECT_EQ(s.encodes_finished, 1);
  EXPECT_EQ(s.feature_cache.insertions, 1u);
  // The third output equals that prompt run alone on a fresh engine with no caches.
  auto ref_engine = MakeColdEngine();
  ASSERT_TRUE(ref_engine);
  auto r = ref_engine->Submit(other);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(co.tokens, Collect(**r).tokens);
}

}  // namespace
}  // namespace ocular::engine
