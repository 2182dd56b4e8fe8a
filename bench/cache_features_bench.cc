// Vision feature cache, end to end through the request builder and the engine (not a test):
//  1. time to first token for one 1280x720 screenshot, cold (encoder runs) vs cached (the same
//     image after a different system prompt, so the KV prefix cache cannot help);
//  2. a GUI-like workload where 60% of the images repeat (each request with its own system
//     prompt): encoder time spent with the cache vs what encoding every image would cost.
//
//   bench_feature_cache MODEL_DIR [--threads N] [--rounds R] [--workload N]
//
// Generate the 2B random checkpoint once outside the repository:
//   ocular gen --preset qwen3-vl-2b --out DIR
// One max_tokens=1 request at a time; figures are per request (medians for part 1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/thread_pool.h"
#include "cache/features/test_screenshots.h"
#include "engine/engine.h"
#include "kernels/compute_context.h"
#include "media/test_images.h"
#include "model/chat/chat_template.h"
#include "model/qwen3vl/model.h"
#include "model/tokenizer/load_tokenizer.h"
#include "model/tokenizer/tokenizer.h"
#include "server/chat_request.h"
#include "server/model_context.h"

namespace {

using namespace ocular;  // NOLINT: a benchmark's main
using nlohmann::json;


std::string ScreenshotUrl(uint32_t seed) {
  const features::testing::Image img = features::testing::MakeScreenshot(seed, 1280, 720);
  media::RgbImage rgb{1280, 720, img.rgb};
  return "data:image/png;base64," + Base64Encode(media::testing::EncodePngRgb(rgb));
}

struct Outcome {
  double ttft_ms = 0;
  double encode_ms = 0;
  std::string cache;
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "bench_feature_cache: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_feature_cache MODEL_DIR [--threads N] [--rounds R] [--workload N]\n");
    return 2;
  }
  const std::string dir = argv[1];
  int threads = 0, rounds = 2, workload = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--threads") threads = v;
    else if (a == "--rounds") rounds = std::max(1, v);
    else if (a == "--workload") workload = std::max(1, v);
  }
  ThreadPool pool(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  kernels::ComputeContext ctx(pool);
  auto model = qwen3vl::Qwen3VLModel::Load(dir, {}, ctx, kernels::Precision::kF32);
  if (!model.ok()) return Fail(model.status().ToString());
  auto tok = tokenizer::LoadTokenizer(dir);
  if (!tok.ok()) return Fail(tok.status().ToString());
  auto tmpl = server::LoadModelChatTemplate(**model);
  if (!tmpl.ok()) return Fail(tmpl.status().ToString());
  server::ModelContext mc;
  server::FillModelContext(**model, *tok, *tmpl, &mc);
  mc.pool = &pool;
  mc.max_model_len = 8192;
  engine::EngineOptions eo;
  eo.kv_cache_bytes = int64_t(2) << 30;
  eo.max_model_len = 8192;
  eo.max_batch_tokens = 2048;
  eo.feature_cache.budget_bytes = uint64_t(1) << 30;
  auto eng = engine::Engine::Create(**model, *tok, eo);
  if (!eng.ok()) return Fail(eng.status().ToString());
  mc.feature_cache = &(*eng)->feature_cache();

  int request_no = 0;
  auto run = [&](const std::string& url) -> Outcome {
    // A different system prompt every time: only the feature cache can skip work.
    json body = {{"messages",
                  {{{"role", "system"}, {"content", "You are assistant number " + std::to_string(request_no++) + "."}},
                   {{"role", "user"},
                    {"content", {{{"type", "image_url"}, {"image_url", {{"url", url}}}},
                                 {{"type", "text"}, {"text", "What is on this screen?"}}}}}}},
                 {"max_tokens", 1}, {"temperature", 0}};
    auto parsed = server::ParseChatRequest(body, mc.limits);
    if (!parsed.ok()) { Fail(parsed.status().ToString()); std::exit(1); }
    auto built = server::BuildChatRequest(*parsed, mc);
    if (!built.ok()) { Fail(built.status().ToString()); std::exit(1); }
    auto h = (*eng)->Submit(std::move(built->choices[0]));
    if (!h.ok()) { Fail(h.status().ToString()); std::exit(1); }
    for (;;) {
      engine::Event e;
      if (!(*h)->events().Pop(&e, std::chrono::minutes(30))) { Fail("timed out"); std::exit(1); }
      if (e.type != engine::Event::Type::kFinish) continue;
      const auto& m = e.stats.media.at(0);
      return {e.stats.ttft_ms, e.stats.encode_ms,
              m.cache == engine::MediaCacheResult::kMiss ? "miss" : m.cache == engine::MediaCacheResult::kHit ? "hit" : "other"};
    }
  };

  // Part 1: cold vs cached time to first token, 1280x720.
  std::vector<double> cold, cached, cold_encode;
  for (int r = 0; r < rounds; ++r) {
    const std::string url = ScreenshotUrl(100 + r);
    Outcome c = run(url);
    Outcome h = run(url);
    std::printf("round %d: cold ttft %.0f ms (encode %.0f ms, %s); cached ttft %.0f ms (encode %.0f ms, %s)\n", r,
                c.ttft_ms, c.encode_ms, c.cache.c_str(), h.ttft_ms, h.encode_ms, h.cache.c_str());
    std::fflush(stdout);
    cold.push_back(c.ttft_ms);
    cached.push_back(h.ttft_ms);
    cold_encode.push_back(c.encode_ms);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("1280x720 screenshot, time to first token: cold %.0f ms (encoder %.0f ms), cached %.0f ms "
              "(median of %d)\n",
              median(cold), median(cold_encode), median(cached), rounds);

  // Part 2: 60% repeats. Image i is new when i * 2 % 5 < 2 (2 of every 5), else a repeat of a
  // recent one: the same screenshot coming back, as in a GUI-automation loop.
  std::vector<uint32_t> seen;
  double spent = 0, saved = 0;
  int repeats = 0;
  const int64_t saved_before = (*eng)->Stats().feature_cache.encode_ns_saved;
  for (int i = 0; i < workload; ++i) {
    uint32_t seed;
    if (seen.empty() || (i * 2) % 5 < 2) {
      seed = 1000 + static_cast<uint32_t>(seen.size());
      seen.push_back(seed);
    } else {
      seed = seen[static_cast<size_t>(i) % seen.size()];
      ++repeats;
    }
    Outcome o = run(ScreenshotUrl(seed));
    spent += o.encode_ms;
    std::printf("workload %d: image %u %s, encode %.0f ms, ttft %.0f ms\n", i, seed, o.cache.c_str(), o.encode_ms,
                o.ttft_ms);
    std::fflush(stdout);
  }
  saved = double((*eng)->Stats().feature_cache.encode_ns_saved - saved_before) * 1e-6;
  const double without = spent + saved;
  std::printf("workload of %d requests, %d repeats (%.0f%%): mean encode per request %.0f ms with the cache, "
              "%.0f ms without; %.0f%% less encoder time\n",
              workload, repeats, 100.0 * repeats / workload, spent / workload, without / workload,
              without > 0 ? 100.0 * saved / without : 0.0);
  return 0;
}
