// Windowed analysis on the tiny-a golden checkpoint with a generated 15 s clip (60 frames of
// 64x64 at 4 fps): windows arrive in time order with the planned ranges, each window's output
// equals a plain request built by the standard video pipeline from the same frames and text,
// overlapping groups are encoded once (feature-cache counters), cancellation frees everything.
#include "analysis/windowed_analysis.h"

#include <gtest/gtest.h>

#include <thread>

#include "base/thread_pool.h"
#include "media/test_images.h"
#include "media/video_preprocess.h"
#include "model/chat/chat_template.h"
#include "model/chat/prompt_builder.h"
#include "model/tokenizer/load_tokenizer.h"
#include "tests/support/golden.h"

namespace ocular::analysis {
namespace {

namespace fs = std::filesystem;
constexpr int kFrames = 60;
constexpr double kFps = 4.0;
constexpr int kSide = 64;

class WindowedAnalysis : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto golden = testing::GoldenDir();
    if (!golden) return;
    const fs::path dir = *golden / "models/tiny-a";
    pool_ = std::make_unique<ThreadPool>(2);
    cc_ = std::make_unique<kernels::ComputeContext>(*pool_);
    auto m = qwen3vl::Qwen3VLModel::Load(dir, {}, *cc_, kernels::Precision::kF32);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m);
    auto t = tokenizer::LoadTokenizer(dir);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tokenizer_ = std::make_unique<tokenizer::Tokenizer>(std::move(*t));
    auto tmpl = chat::ChatTemplate::FromModelDir(dir);
    ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
    template_ = std::make_unique<chat::ChatTemplate>(std::move(*tmpl));
  }
  static void TearDownTestSuite() {
    template_.reset();
    tokenizer_.reset();
    model_.reset();
    cc_.reset();
    pool_.reset();
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "golden data absent";
  }

  static std::vector<media::RgbImage> Frames() {
    std::vector<media::RgbImage> f;
    for (int i = 0; i < kFrames; ++i) f.push_back(media::testing::Pattern(kSide, kSide, uint32_t(i + 1)));
    return f;
  }
  static AnalysisContext Ctx() {
    AnalysisContext c;
    c.tokenizer = tokenizer_.get();
    c.chat_template = template_.get();
    c.merge_size = model_->config().vision.spatial_merge_size;
    c.max_model_len = 4096;
    return c;
  }
  static AnalysisRequest Request() {
    AnalysisRequest r;
    r.windows.window_seconds = 4;
    r.windows.stride_seconds = 2;
    r.question = "What happens?";
    r.base.sampling.temperature = 0.0f;  // greedy
    r.base.max_tokens = 6;
    r.base.ignore_eos = true;
    return r;
  }
  static std::unique_ptr<engine::Engine> MakeEngine(uint64_t feature_cache_bytes) {
    engine::EngineOptions o;
    o.kv_cache_bytes = 8 << 20;
    o.max_model_len = 4096;
    o.feature_cache.budget_bytes = feature_cache_bytes;
    auto e = engine::Engine::Create(*model_, *tokenizer_, o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  }
  static std::vector<int32_t> Generate(engine::Engine& e, engine::EngineRequest r, std::string* text) {
    auto h = e.Submit(std::move(r));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    std::vector<int32_t> ids;
    if (!h.ok()) return ids;
    for (;;) {
      engine::Event ev;
      if (!(*h)->events().Pop(&ev, std::chrono::milliseconds(1000))) continue;
      *text += ev.text;
      for (const auto& t : ev.tokens) ids.push_back(t.id);
      if (ev.type == engine::Event::Type::kFinish) break;
    }
    return ids;
  }

  static inline std::unique_ptr<ThreadPool> pool_;
  static inline std::unique_ptr<kernels::ComputeContext> cc_;
  static inline std::unique_ptr<qwen3vl::Qwen3VLModel> model_;
  static inline std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  static inline std::unique_ptr<chat::ChatTemplate> template_;
};

TEST_F(WindowedAnalysis, WindowsArriveInOrderWithTimeRangesThenCombined) {
  auto engine = MakeEngine(64 << 20);
  auto src = ImageListSource::Create(Frames(), kFps);
  ASSERT_TRUE(src.ok());
  std::vector<WindowResult> seen;
  std::string combined_stream;
  AnalysisCallbacks cb;
  cb.on_window = [&](const WindowResult& w) { seen.push_back(w); };
  cb.on_combine_text = [&](std::string_view t) {
    EXPECT_EQ(seen.size(), 7u) << "combined text before every window was reported";
    combined_stream += t;
  };
  auto r = RunWindowedAnalysis(*engine, Ctx(), *src, Request(), cb);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 15 s, 4 s windows every 2 s: [0,4) [2,6) ... [12,15).
  ASSERT_EQ(seen.size(), 7u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(seen[i].index, i);
    EXPECT_DOUBLE_EQ(seen[i].start_s, 2.0 * i);
    EXPECT_DOUBLE_EQ(seen[i].end_s, std::min(15.0, 2.0 * i + 4));
    EXPECT_EQ(seen[i].stats.completion_tokens, 6);
    // Window i has 4 groups (the last 3) of (64/32)^2 = 4 tokens each.
    ASSERT_EQ(seen[i].stats.media.size(), i < 6 ? 4u : 3u);
  }
  EXPECT_EQ(r->windows.size(), 7u);
  EXPECT_EQ(r->combine_stats.completion_tokens, 6);
  EXPECT_EQ(r->text, combined_stream);
  EXPECT_FALSE(r->text.empty());
  EXPECT_GT(r->first_window_ms, 0.0);
  EXPECT_LE(r->first_window_ms, r->total_ms);
}

TEST_F(WindowedAnalysis, WindowOutputEqualsPlainRequestWithTheSameFrames) {
  auto engine = MakeEngine(0);  // no feature cache: both paths encode for themselves
  std::vector<media::RgbImage> all = Frames();
  auto src = ImageListSource::Create(all, kFps);
  ASSERT_TRUE(src.ok());
  const AnalysisRequest req = Request();
  auto analysed = RunWindowedAnalysis(*engine, Ctx(), *src, req);
  ASSERT_TRUE(analysed.ok()) << analysed.status().ToString();
  auto plan = PlanWindows(src->info(), req.windows);
  ASSERT_TRUE(plan.ok());
  for (int wi : {0, 3, 6}) {
    const Window& w = plan->windows[wi];
    // The plain request: one video of exactly the window's frames through the standard video
    // preprocessing and prompt expansion, with the window's text.
    media::SampledVideo sv;
    sv.info.width = kSide;
    sv.info.height = kSide;
    sv.info.fps = kFps;
    sv.info.total_frames = kFrames;
    sv.indices = w.frame_indices;
    for (int64_t i : w.frame_indices) sv.frames.push_back(all[size_t(i)]);
    media::VideoSamplingConfig vc;
    vc.min_pixels = req.min_pixels;
    vc.max_pixels = req.max_pixels;
    auto pre = media::PreprocessVideo(sv, vc);
    ASSERT_TRUE(pre.ok()) << pre.status().ToString();
    chat::ChatRenderInput in;
    in.messages.push_back({{"role", "user"},
                           {"content", {{{"type", "video"}}, {{"type", "text"}, {"text", WindowQuestion(req.question, w)}}}}});
    in.add_generation_prompt = true;
    auto rendered = template_->Render(in);
    ASSERT_TRUE(rendered.ok());
    chat::MediaItem item;
    item.kind = chat::MediaKind::kVideo;
    for (int k = 0; k < 3; ++k) item.grid_thw[k] = pre->pixel_values.grid_thw[k];
    item.timestamps_seconds = pre->timestamps;
    auto prompt = chat::BuildPrompt(*rendered, std::vector<chat::MediaItem>{item},
                                    [&](std::string_view t) { return tokenizer_->Encode(t); });
    ASSERT_TRUE(prompt.ok()) << prompt.status().ToString();
    engine::EngineRequest plain = req.base;
    plain.prompt_ids = prompt->ids;
    plain.positions.assign(prompt->positions.begin(), prompt->positions.end());
    plain.rope_delta = prompt->rope_delta;
    for (const auto& s : prompt->spans) plain.spans.push_back({s.media_index, s.first_token, s.num_tokens});
    engine::PreparedMedia pm;
    pm.kind = engine::MediaKind::kVideo;
    pm.media_id = pre->media_id.digest;
    pm.grid_thw = item.grid_thw;
    const float* px = pre->pixel_values.values();
    pm.pixel_values = std::make_shared<const std::vector<float>>(
        px, px + pre->pixel_values.num_patches() * media::kPatchDim);
    plain.media.push_back(pm);

    std::vector<media::RgbImage> frames(sv.frames);
    auto size = WindowFrameSize(*plan, src->info(), kSide, kSide, req);
    ASSERT_TRUE(size.ok());
    auto windowed = BuildWindowRequest(Ctx(), req, src->info(), w, frames, *size);
    ASSERT_TRUE(windowed.ok()) << windowed.status().ToString();
    EXPECT_EQ(windowed->prompt_ids, plain.prompt_ids) << "window " << wi;
    EXPECT_EQ(windowed->positions, plain.positions) << "window " << wi;
    EXPECT_EQ(windowed->rope_delta, plain.rope_delta);

    std::string plain_text, windowed_text;
    auto plain_ids = Generate(*engine, plain, &plain_text);
    auto windowed_ids = Generate(*engine, *windowed, &windowed_text);
    ASSERT_EQ(plain_ids.size(), 6u);
    EXPECT_EQ(windowed_ids, plain_ids) << "window " << wi;
    EXPECT_EQ(analysed->windows[size_t(wi)].text, plain_text) << "window " << wi;
  }
}

TEST_F(WindowedAnalysis, OverlappingGroupsAreEncodedOnce) {
  auto engine = MakeEngine(64 << 20);
  auto src = ImageListSource::Create(Frames(), kFps);
  ASSERT_TRUE(src.ok());
  auto r = RunWindowedAnalysis(*engine, Ctx(), *src, Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 30 samples = 15 distinct groups; the 7 windows hold 6*4 + 3 = 27 group items.
  const auto fc = engine->Stats().feature_cache;
  EXPECT_EQ(fc.insertions, 15u);
  EXPECT_EQ(fc.misses, 15u);
  EXPECT_EQ(fc.hits, 12u);
  // Window 1 starts with window 0's last two groups.
  ASSERT_EQ(r->windows[1].stats.media.size(), 4u);
  EXPECT_EQ(r->windows[1].stats.media[0].cache, engine::MediaCacheResult::kHit);
  EXPECT_EQ(r->windows[1].stats.media[1].cache, engine::MediaCacheResult::kHit);
  EXPECT_EQ(r->windows[1].stats.media[2].cache, engine::MediaCacheResult::kMiss);
}

TEST_F(WindowedAnalysis, CancelMidAnalysisStopsAndFreesEverything) {
  auto engine = MakeEngine(64 << 20);
  auto src = ImageListSource::Create(Frames(), kFps);
  ASSERT_TRUE(src.ok());
  AnalysisRequest req = Request();
  req.base.max_tokens = 64;  // long enough that later windows are still running
  int reported = 0;
  AnalysisCallbacks cb;
  cb.on_window = [&](const WindowResult&) { ++reported; };
  cb.cancelled = [&] { return reported >= 1; };
  auto r = RunWindowedAnalysis(*engine, Ctx(), *src, req, cb);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(reported, 1);
  for (int i = 0; i < 500 && !(engine->Idle() && engine->Stats().kv_blocks_used == 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto st = engine->Stats();
  EXPECT_TRUE(engine->Idle());
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_EQ(st.feature_cache.leased_entries, 0u);
  // Only the first max_inflight (4) windows were ever submitted: 4 windows, 10 groups.
  EXPECT_LE(st.feature_cache.insertions, 10u);
  EXPECT_LT(st.finished, 7);
}

}  // namespace
}  // namespace ocular::analysis
