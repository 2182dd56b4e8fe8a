#include "apps/run_windowed.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/windowed_analysis.h"
#include "apps/cli_util.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "model/qwen3vl/model.h"
#include "server/chat_request.h"

namespace ocular::cli {

int RunWindowed(qwen3vl::Qwen3VLModel& model, const tokenizer::Tokenizer& tok, const server::ModelContext& mc,
                const WindowedRunOptions& o) {
  const Stopwatch total;
  if (o.video.empty()) return Fail("run", "--window-seconds/--window-frames need --video FILE");
  if (o.prompt.empty()) return Fail("run", "windowed analysis needs --prompt (the question)");
  std::ifstream in(o.video, std::ios::binary);
  if (!in) return Fail("run", o.video + ": cannot read");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  media::VideoLimits vl;
  vl.max_input_bytes = mc.limits.max_video_bytes;
  auto src = analysis::VideoBytesSource::Create(std::move(bytes), vl);
  if (!src.ok()) return Fail("run", Status(src.status().code(), "--video: " + src.status().message()));

  analysis::AnalysisRequest req;
  req.windows = o.windows;
  req.question = o.prompt;
  req.system = o.system;
  req.combine_prompt = o.combine_prompt;
  req.min_pixels = mc.video_config.min_pixels;
  req.max_pixels = mc.video_config.max_pixels;
  req.max_inflight = o.max_inflight;
  std::random_device rd;
  req.base.sampling = sampling::ResolveSamplingParams(mc.generation_defaults, o.overrides, rd());
  if (Status v = sampling::ValidateSamplingParams(req.base.sampling); !v.ok()) return Fail("run", v);
  req.base.max_tokens = o.max_tokens;
  req.base.ignore_eos = o.ignore_eos;

  // KV room: max_inflight windows at once, or the combine prompt over every window's answer.
  auto plan = analysis::PlanWindows(src->info(), req.windows);
  if (!plan.ok()) return Fail("run", plan.status());
  auto size = analysis::WindowFrameSize(*plan, src->info(), src->video_info().height, src->video_info().width, req);
  if (!size.ok()) return Fail("run", size.status());
  const int64_t per_group = int64_t(size->height / 32) * (size->width / 32) + 16;
  const int64_t window_tokens = plan->window_samples / 2 * per_group + 256 + o.max_tokens;
  const int64_t combine_tokens = int64_t(plan->windows.size()) * (o.max_tokens + 24) + 512 + o.max_tokens;
  const int64_t kv_tokens =
      std::max<int64_t>(std::max<int64_t>(1, o.max_inflight) * window_tokens, combine_tokens) + 64;
  engine::EngineOptions eo;
  const auto& tc = model.config().text;
  eo.kv_cache_bytes = 2 * tc.num_layers * tc.num_kv_heads * tc.head_dim * 4 * kv_tokens;
  eo.max_model_len = std::max(window_tokens, combine_tokens) + 1;
  eo.max_batch_tokens = 512;
  eo.feature_cache.budget_bytes = 256ull << 20;  // overlapping groups are encoded once
  auto engine = engine::Engine::Create(model, tok, eo);
  if (!engine.ok()) return Fail("run", engine.status());

  analysis::AnalysisContext ctx;
  ctx.tokenizer = &tok;
  ctx.chat_template = mc.chat_template;
  ctx.merge_size = mc.merge_size;
  ctx.max_model_len = eo.max_model_len;
  ctx.pool = mc.pool;
  analysis::AnalysisCallbacks cb;
  if (!o.json) {
    cb.on_window = [](const analysis::WindowResult& w) {
      std::printf("[%.1f - %.1f s] %s\n", w.start_s, w.end_s, w.text.c_str());
      std::fflush(stdout);
    };
    cb.on_combine_text = [](std::string_view t) {
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
    };
  }
  auto r = analysis::RunWindowedAnalysis(**engine, ctx, *src, req, cb);
  if (!r.ok()) return Fail("run", r.status());
  if (!o.json) {
    std::printf("\n");
    std::fprintf(stderr, "[%zu windows%s; first window %.0f ms, total %.0f ms]\n", r->windows.size(),
                 r->spread ? " (spread to --max-windows)" : "", r->first_window_ms, r->total_ms);
    return kExitOk;
  }
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : r->windows) {
    windows.push_back({{"start_s", w.start_s}, {"end_s", w.end_s}, {"text", w.text},
                       {"finish_reason", std::string(engine::FinishReasonName(w.finish_reason))}});
  }
  const auto fc = (*engine)->Stats().feature_cache;
  nlohmann::json out = {
      {"windows", windows},
      {"text", r->text},
      {"finish_reason", std::string(engine::FinishReasonName(r->finish_reason))},
      {"spread", r->spread},
      {"feature_cache", {{"hits", fc.hits}, {"misses", fc.misses}}},
      {"decoded_frames", src->decoded_frames()},
      {"timings_ms", {{"load", o.load_ms}, {"first_window", r->first_window_ms}, {"analysis", r->total_ms},
                      {"total", total.ElapsedMs() + o.load_ms}}}};
  std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return kExitOk;
}

}  // namespace ocular::cli
