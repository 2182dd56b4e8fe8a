// Window planning against hand-computed plans (sample grid t_k = k / 2 fps).
#include "analysis/window_plan.h"

#include <gtest/gtest.h>

namespace ocular::analysis {
namespace {

WindowSpec Seconds(double window, double stride, int64_t max_windows = 64) {
  WindowSpec s;
  s.window_seconds = window;
  s.stride_seconds = stride;
  s.max_windows = max_windows;
  return s;
}

TEST(WindowPlan, SecondsOverlappingWindows) {
  // 60 frames at 4 fps = 15 s -> 30 samples at 2 fps (source frames 0, 2, 4, ...).
  auto plan = PlanWindows({60, 4.0}, Seconds(4, 2));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->total_samples, 30);
  EXPECT_EQ(plan->window_samples, 8);
  EXPECT_EQ(plan->stride_samples, 4);
  ASSERT_EQ(plan->windows.size(), 7u);  // starts 0, 2, ..., 12 s; the last reaches the end
  for (int i = 0; i < 7; ++i) {
    const Window& w = plan->windows[i];
    EXPECT_EQ(w.index, i);
    EXPECT_DOUBLE_EQ(w.start_s, 2.0 * i);
    EXPECT_DOUBLE_EQ(w.end_s, std::min(15.0, 2.0 * i + 4));
  }
  EXPECT_EQ(plan->windows[0].frame_indices, (std::vector<int64_t>{0, 2, 4, 6, 8, 10, 12, 14}));
  EXPECT_EQ(plan->windows[6].frame_indices, (std::vector<int64_t>{48, 50, 52, 54, 56, 58}));
  // Overlap is whole groups: window 1's first two groups are window 0's last two.
  const auto& a = plan->windows[0].frame_indices;
  const auto& b = plan->windows[1].frame_indices;
  EXPECT_EQ(std::vector<int64_t>(a.begin() + 4, a.end()), std::vector<int64_t>(b.begin(), b.begin() + 4));
  EXPECT_FALSE(plan->spread);
}

TEST(WindowPlan, FramesRoundUpToWholeGroups) {
  WindowSpec s;
  s.window_frames = 5;  // -> 6
  s.stride_frames = 3;  // -> 4
  auto plan = PlanWindows({20, 2.0}, s);  // 10 s, 20 samples = frames 0..19
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->window_samples, 6);
  EXPECT_EQ(plan->stride_samples, 4);
  ASSERT_EQ(plan->windows.size(), 5u);  // starts 0, 4, 8, 12, 16 (16 + 6 >= 20)
  EXPECT_EQ(plan->windows[4].frame_indices, (std::vector<int64_t>{16, 17, 18, 19}));
  EXPECT_DOUBLE_EQ(plan->windows[4].start_s, 8.0);
  EXPECT_DOUBLE_EQ(plan->windows[4].end_s, 10.0);
}

TEST(WindowPlan, OddTailPaddedWithLastFrame) {
  WindowSpec s;
  s.window_frames = 4;
  s.stride_frames = 4;
  auto plan = PlanWindows({5, 2.0}, s);  // 2.5 s -> samples 0..4
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->windows.size(), 2u);
  EXPECT_EQ(plan->windows[1].frame_indices, (std::vector<int64_t>{4, 4}));
  EXPECT_DOUBLE_EQ(plan->windows[1].start_s, 2.0);
  EXPECT_DOUBLE_EQ(plan->windows[1].end_s, 2.5);
}

TEST(WindowPlan, MaxWindowsSpreadsOverTheWholeClip) {
  auto plan = PlanWindows({60, 4.0}, Seconds(4, 2, 3));  // 7 regular starts 0..24 samples
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->spread);
  ASSERT_EQ(plan->windows.size(), 3u);
  EXPECT_DOUBLE_EQ(plan->windows[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(plan->windows[1].start_s, 6.0);
  EXPECT_DOUBLE_EQ(plan->windows[2].start_s, 12.0);
  EXPECT_DOUBLE_EQ(plan->windows[2].end_s, 15.0);
}

TEST(WindowPlan, Refusals) {
  WindowSpec both = Seconds(4, 2);
  both.window_frames = 8;
  auto r = PlanWindows({60, 4.0}, both);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("window_seconds: ", 0), 0u) << r.status().message();
  WindowSpec none;
  none.stride_seconds = 1;
  EXPECT_FALSE(PlanWindows({60, 4.0}, none).ok());
  EXPECT_FALSE(PlanWindows({60, 4.0}, Seconds(-1, 2)).ok());
  EXPECT_FALSE(PlanWindows({60, 4.0}, Seconds(4, 0)).ok());
  EXPECT_FALSE(PlanWindows({60, 4.0}, Seconds(4, 2, 0)).ok());
  EXPECT_FALSE(PlanWindows({0, 4.0}, Seconds(4, 2)).ok());
}

}  // namespace
}  // namespace ocular::analysis
