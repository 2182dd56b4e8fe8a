// VideoBytesSource on a generated MP4: lazily decoded window frames equal the same frames of
// a full decode through the standard decoder.
#include <gtest/gtest.h>

#include "analysis/frame_source.h"
#include "analysis/test_video.h"
#include "tests/support/golden.h"

namespace ocular::analysis {
namespace {

TEST(VideoBytesSource, WindowFramesEqualAFullDecode) {
  ocular::testing::TempDir dir;
  const auto path = dir.path() / "clip.mp4";
  ASSERT_TRUE(testing::WriteTestVideo(path, 64, 48, 8, 12, /*gop=*/16).ok());
  std::vector<uint8_t> bytes = ocular::testing::ReadFileBytes(path);
  ASSERT_FALSE(bytes.empty());
  media::VideoLimits limits;
  media::VideoSamplingConfig all;  // sample every frame
  all.fps = 8;
  all.max_frames = 1000;
  auto full = media::DecodeVideo(bytes, limits, all);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->frames.size(), 96u);
  auto src = VideoBytesSource::Create(bytes, limits);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(src->info().total_frames, 96);
  EXPECT_DOUBLE_EQ(src->info().fps, 8.0);
  // A window in the middle and one at the end (with a repeated last index, as padded).
  for (const std::vector<int64_t>& idx : {std::vector<int64_t>{40, 44, 48, 52, 56, 60},
                                          std::vector<int64_t>{88, 92, 95, 95}}) {
    auto frames = src->Decode(idx);
    ASSERT_TRUE(frames.ok()) << frames.status().ToString();
    ASSERT_EQ(frames->size(), idx.size());
    for (size_t k = 0; k < idx.size(); ++k) {
      EXPECT_EQ((*frames)[k].data, full->frames[size_t(idx[k])].data) << "frame " << idx[k];
    }
  }
  EXPECT_FALSE(src->Decode(std::vector<int64_t>{96}).ok());
}

}  // namespace
}  // namespace ocular::analysis
