// Peak memory of windowed analysis is bounded by the window, not the video: after analysing a
// 40 s clip, analysing a 160 s clip with the same windows must not raise the process's peak
// RSS (VmHWM) by more than a small margin. Both encoded files are read before measuring (the
// compressed input is the caller's); frames, pixels, features and KV are what must not grow.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "analysis/test_video.h"
#include "analysis/windowed_analysis.h"
#include "base/thread_pool.h"
#include "model/chat/chat_template.h"
#include "model/tokenizer/load_tokenizer.h"
#include "tests/support/golden.h"

namespace ocular::analysis {
namespace {

int64_t PeakRssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(WindowedAnalysisMemory, FourTimesLongerVideoDoesNotRaisePeakRss) {
#if defined(OCULAR_ASAN) || defined(OCULAR_TSAN)
  // Sanitizer quarantine and shadow memory make peak RSS meaningless; the release run checks it.
  GTEST_SKIP() << "peak-RSS bound is measured in release builds only";
#endif
  auto golden = ocular::testing::GoldenDir();
  if (!golden) GTEST_SKIP() << "golden data absent";
  const auto dir = *golden / "models/tiny-a";
  ThreadPool pool(2);
  kernels::ComputeContext cc(pool);
  auto model = qwen3vl::Qwen3VLModel::Load(dir, {}, cc, kernels::Precision::kF32);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto tok = tokenizer::LoadTokenizer(dir);
  ASSERT_TRUE(tok.ok());
  auto tmpl = chat::ChatTemplate::FromModelDir(dir);
  ASSERT_TRUE(tmpl.ok());

  ocular::testing::TempDir tmp;
  ASSERT_TRUE(testing::WriteTestVideo(tmp.path() / "short.mp4", 128, 96, 4, 40).ok());
  ASSERT_TRUE(testing::WriteTestVideo(tmp.path() / "long.mp4", 128, 96, 4, 160).ok());
  std::vector<uint8_t> short_bytes = ocular::testing::ReadFileBytes(tmp.path() / "short.mp4");
  std::vector<uint8_t> long_bytes = ocular::testing::ReadFileBytes(tmp.path() / "long.mp4");

  engine::EngineOptions eo;
  // 1024 tokens of tiny-a: the short run already cycles through every KV block (prefix
  // caching keeps freed blocks until reused), so the pool is fully touched before measuring.
  eo.kv_cache_bytes = 2 << 20;
  eo.max_model_len = 4096;
  // Bounded by its budget, which the short run already fills (40 groups of ~12 KiB).
  eo.feature_cache.budget_bytes = 256 << 10;
  auto engine = engine::Engine::Create(**model, *tok, eo);
  ASSERT_TRUE(engine.ok());
  AnalysisContext ctx;
  ctx.tokenizer = &*tok;
  ctx.chat_template = &*tmpl;
  ctx.max_model_len = 4096;
  AnalysisRequest req;
  req.windows.window_seconds = 10;
  req.windows.stride_seconds = 10;
  req.windows.max_windows = 1000;
  req.question = "What happens?";
  req.base.sampling.temperature = 0.0f;
  req.base.max_tokens = 2;
  req.base.ignore_eos = true;
  req.combine_max_tokens = 2;

  auto run = [&](std::vector<uint8_t> bytes) -> size_t {
    auto src = VideoBytesSource::Create(std::move(bytes), media::VideoLimits{});
    EXPECT_TRUE(src.ok()) << src.status().ToString();
    if (!src.ok()) return 0;
    auto r = RunWindowedAnalysis(**engine, ctx, *src, req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->windows.size() : 0;
  };
  EXPECT_EQ(run(std::move(short_bytes)), 4u);  // 10 s windows end to end
  const int64_t after_short = PeakRssKiB();
  EXPECT_EQ(run(std::move(long_bytes)), 16u);
  const int64_t after_long = PeakRssKiB();
  ASSERT_GT(after_short, 0);
  RecordProperty("peak_rss_short_kib", std::to_string(after_short));
  RecordProperty("peak_rss_long_kib", std::to_string(after_long));
  std::printf("peak RSS: after 40 s %lld KiB, after 160 s %lld KiB\n", (long long)after_short,
              (long long)after_long);
  // Holding the long clip's sampled frames at once would add ~35 MiB over the short one
  // (120 more groups x 48 patches x 6 KiB of f32 pixel values, before any features or KV);
  // the margin allows allocator and decoder noise only.
  EXPECT_LE(after_long - after_short, 8 * 1024) << "peak RSS grew with the video length";
}

}  // namespace
}  // namespace ocular::analysis
