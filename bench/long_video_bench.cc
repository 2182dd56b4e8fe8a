// Long-video benchmark (issue 9): on a generated clip, windowed analysis (time to the first
// window result, total including the combine request) against one plain request that samples
// the whole clip at 2 frames/s (time to first token, total). Both include decoding and
// preprocessing. Prints one JSON object.
//
//   bench_long_video --model DIR [--seconds 60] [--width 128 --height 96 --fps 8]
//                    [--window 10 --stride 10] [--max-tokens 16] [--threads 0]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "analysis/test_video.h"
#include "analysis/windowed_analysis.h"
#include "base/clock.h"
#include "base/thread_pool.h"
#include "media/video_preprocess.h"
#include "model/chat/chat_template.h"
#include "model/chat/prompt_builder.h"
#include "model/tokenizer/load_tokenizer.h"

namespace ocular {
namespace {

int Main(int argc, char** argv) {
  CLI::App app("Windowed long-video analysis vs one request over the whole clip");
  std::string model_dir;
  int seconds = 60, width = 128, height = 96, fps = 8, threads = 0;
  double window = 10, stride = 10;
  int64_t max_tokens = 16;
  app.add_option("--model", model_dir)->required();
  app.add_option("--seconds", seconds);
  app.add_option("--width", width);
  app.add_option("--height", height);
  app.add_option("--fps", fps);
  app.add_option("--window", window);
  app.add_option("--stride", stride);
  app.add_option("--max-tokens", max_tokens);
  app.add_option("--threads", threads);
  CLI11_PARSE(app, argc, argv);
  media::SilenceFfmpegLogging();
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "bench_long_video: %s\n", s.ToString().c_str());
    return 2;
  };

  const auto clip = std::filesystem::temp_directory_path() / "ocular_bench_long_video.mp4";
  if (Status s = analysis::testing::WriteTestVideo(clip, width, height, fps, seconds); !s.ok()) return fail(s);
  std::ifstream in(clip, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(clip);

  ThreadPool pool(threads);
  kernels::ComputeContext cc(pool);
  auto model = qwen3vl::Qwen3VLModel::Load(model_dir, {}, cc, kernels::Precision::kF32);
  if (!model.ok()) return fail(model.status());
  auto tok = tokenizer::LoadTokenizer(model_dir);
  if (!tok.ok()) return fail(tok.status());
  auto tmpl = chat::ChatTemplate::FromModelDir(model_dir);
  if (!tmpl.ok()) return fail(tmpl.status());
  const auto& tc = (*model)->config().text;
  engine::EngineOptions eo;
  const int64_t kv_tokens = 4096;
  eo.kv_cache_bytes = 2 * tc.num_layers * tc.num_kv_heads * tc.head_dim * 4 * kv_tokens;
  eo.max_model_len = kv_tokens;
  eo.max_batch_tokens = 512;
  eo.feature_cache.budget_bytes = 256 << 20;
  const std::string question = "Describe what happens.";
  nlohmann::json out = {{"clip", {{"seconds", seconds}, {"width", width}, {"height", height}, {"fps", fps}}},
                        {"max_tokens", max_tokens}, {"threads", pool.num_threads()}};

  {  // Windowed analysis (fresh engine: nothing cached).
    auto engine = engine::Engine::Create(**model, *tok, eo);
    if (!engine.ok()) return fail(engine.status());
    auto src = analysis::VideoBytesSource::Create(bytes, media::VideoLimits{});
    if (!src.ok()) return fail(src.status());
    analysis::AnalysisContext ctx;
    ctx.tokenizer = &*tok;
    ctx.chat_template = &*tmpl;
    ctx.max_model_len = kv_tokens;
    ctx.pool = &pool;
    analysis::AnalysisRequest req;
    req.windows.window_seconds = window;
    req.windows.stride_seconds = stride;
    req.question = question;
    req.base.sampling.temperature = 0;
    req.base.max_tokens = max_tokens;
    req.base.ignore_eos = true;
    auto r = analysis::RunWindowedAnalysis(**engine, ctx, *src, req);
    if (!r.ok()) return fail(r.status());
    int64_t prompt = r->combine_stats.prompt_tokens;
    for (const auto& w : r->windows) prompt += w.stats.prompt_tokens;
    out["windowed"] = {{"windows", r->windows.size()}, {"first_window_ms", r->first_window_ms},
                       {"total_ms", r->total_ms}, {"prompt_tokens_all_requests", prompt},
                       {"feature_cache_hits", (*engine)->Stats().feature_cache.hits}};
  }
  {  // One request over the whole clip, sampled as the model's processor does.
    auto engine = engine::Engine::Create(**model, *tok, eo);
    if (!engine.ok()) return fail(engine.status());
    const Stopwatch sw;
    media::VideoSamplingConfig vc;
    auto sampled = media::DecodeVideo(bytes, media::VideoLimits{}, vc);
    if (!sampled.ok()) return fail(sampled.status());
    auto pre = media::PreprocessVideo(*sampled, vc, &pool);
    if (!pre.ok()) return fail(pre.status());
    chat::ChatRenderInput in;
    in.messages.push_back({{"role", "user"}, {"content", {{{"type", "video"}}, {{"type", "text"}, {"text", question}}}}});
    in.add_generation_prompt = true;
    auto rendered = tmpl->Render(in);
    if (!rendered.ok()) return fail(rendered.status());
    chat::MediaItem item;
    item.kind = chat::MediaKind::kVideo;
    for (int k = 0; k < 3; ++k) item.grid_thw[k] = pre->pixel_values.grid_thw[k];
    item.timestamps_seconds = pre->timestamps;
    auto prompt = chat::BuildPrompt(*rendered, std::vector<chat::MediaItem>{item},
                                    [&](std::string_view t) { return tok->Encode(t); });
    if (!prompt.ok()) return fail(prompt.status());
    engine::EngineRequest r;
    r.prompt_ids = prompt->ids;
    r.positions.assign(prompt->positions.begin(), prompt->positions.end());
    r.rope_delta = prompt->rope_delta;
    for (const auto& s : prompt->spans) r.spans.push_back({s.media_index, s.first_token, s.num_tokens});
    engine::PreparedMedia pm;
    pm.kind = engine::MediaKind::kVideo;
    pm.media_id = pre->media_id.digest;
    pm.grid_thw = item.grid_thw;
    const float* px = pre->pixel_values.values();
    pm.pixel_values = std::make_shared<const std::vector<float>>(px, px + pre->pixel_values.num_patches() * media::kPatchDim);
    r.media.push_back(std::move(pm));
    r.sampling.temperature = 0;
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    const int64_t prompt_tokens = int64_t(r.prompt_ids.size());
    auto h = (*engine)->Submit(std::move(r));
    if (!h.ok()) return fail(h.status());
    double first_ms = -1;
    for (;;) {
      engine::Event e;
      if (!(*h)->events().Pop(&e, std::chrono::milliseconds(1000))) continue;
      if (first_ms < 0 && !e.tokens.empty()) first_ms = sw.ElapsedMs();
      if (e.type == engine::Event::Type::kFinish) break;
    }
    out["whole_clip"] = {{"frames", sampled->frames.size()}, {"prompt_tokens", prompt_tokens},
                         {"first_token_ms", first_ms}, {"total_ms", sw.ElapsedMs()}};
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace
}  // namespace ocular

int main(int argc, char** argv) { return ocular::Main(argc, argv); }
