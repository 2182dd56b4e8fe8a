// Frame sampling and timestamps against hand-computed HF values (spec §5.5).
#include <gtest/gtest.h>

#include "media/smart_resize.h"
#include "media/video_sampling.h"

namespace ocular::media {
namespace {

TEST(VideoSampling, HandComputedIndices) {
  VideoSamplingConfig cfg;
  // 8 frames @ 4 fps: n = int(8/4*2) = 4; linspace(0,7,4) = 0, 2.33, 4.67, 7 -> 0,2,5,7.
  EXPECT_EQ(*SampleFrameIndices(8, 4.0, cfg), (std::vector<int64_t>{0, 2, 5, 7}));
  // 15 @ 6: n = 5; linspace(0,14,5) = 0, 3.5, 7, 10.5, 14 -> half-even 0,4,7,10,14.
  EXPECT_EQ(*SampleFrameIndices(15, 6.0, cfg), (std::vector<int64_t>{0, 4, 7, 10, 14}));
  // Short clip: n clamped up to 4 but not above the frame count.
  EXPECT_EQ(*SampleFrameIndices(3, 30.0, cfg), (std::vector<int64_t>{0, 1, 2}));
  // 300 frames @ 30 fps -> 20 frames.
  EXPECT_EQ(SampleFrameIndices(300, 30.0, cfg)->size(), 20u);
  // Long video: capped at 768.
  EXPECT_EQ(SampleFrameIndices(18000, 30.0, cfg)->size(), 768u);
  // Unknown fps -> 24: 48 frames = 2 s -> 4 frames.
  EXPECT_EQ(SampleFrameIndices(48, 0.0, cfg)->size(), 4u);
  EXPECT_FALSE(SampleFrameIndices(0, 30.0, cfg).ok());
}

TEST(VideoSampling, TimestampsPerGroup) {
  // [0,2,5,7] @ 4 fps: (0 + 0.5)/2 = 0.25, (1.25 + 1.75)/2 = 1.5.
  EXPECT_EQ(GroupTimestamps({0, 2, 5, 7}, 4.0), (std::vector<double>{0.25, 1.5}));
  // Odd count pads with the last index: [0,4,7,10,14,14] @ 6.
  auto ts = GroupTimestamps({0, 4, 7, 10, 14}, 6.0);
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_DOUBLE_EQ(ts[0], (0.0 + 4.0 / 6) / 2);
  EXPECT_DOUBLE_EQ(ts[2], 14.0 / 6);
}

TEST(VideoSampling, VideoSmartResizeErrors) {
  EXPECT_FALSE(SmartResizeVideo(1, 64, 64, 4096, 25165824).ok());
  EXPECT_FALSE(SmartResizeVideo(4, 31, 64, 4096, 25165824).ok());
  // 10 s 720p @ 2 fps sampling = 20 frames: 20*1280*704 = 18.0M fits in 25.2M.
  auto r = SmartResizeVideo(20, 720, 1280, 4096, 25165824);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->height, 704);
  EXPECT_EQ(r->width, 1280);
}

}  // namespace
}  // namespace ocular::media
