// Prompt builder: placeholder expansion, timestamp formatting and M-RoPE positions on
// hand-built prompts (expected values follow spec 4.3 / 5.5 worked by hand).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "model/chat/prompt_builder.h"

namespace ocular::chat {
namespace {

// A toy encoder: the vision/chat special tokens get their Qwen ids, every other byte is one
// token whose id is the byte value. Enough to check positions independently of BPE.
std::vector<int32_t> ToyEncode(std::string_view text) {
  static const std::pair<std::string_view, int32_t> kSpecial[] = {
      {"<|im_start|>", 151644}, {"<|im_end|>", 151645},   {"<|vision_start|>", 151652},
      {"<|vision_end|>", 151653}, {"<|image_pad|>", 151655}, {"<|video_pad|>", 151656}};
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos < text.size()) {
    bool matched = false;
    for (const auto& [s, id] : kSpecial) {
      if (text.substr(pos, s.size()) == s) {
        ids.push_back(id);
        pos += s.size();
        matched = true;
        break;
      }
    }
    if (!matched) ids.push_back(static_cast<unsigned char>(text[pos++]));
  }
  return ids;
}

MediaItem Image(int64_t h, int64_t w) {
  MediaItem m;
  m.kind = MediaKind::kImage;
  m.grid_thw = {1, h, w};
  return m;
}

MediaItem Video(int64_t t, int64_t h, int64_t w, std::vector<double> ts) {
  MediaItem m;
  m.kind = MediaKind::kVideo;
  m.grid_thw = {t, h, w};
  m.timestamps_seconds = std::move(ts);
  return m;
}

std::vector<int32_t> Row(const Prompt& p, int axis) {
  const size_t n = p.ids.size();
  return std::vector<int32_t>(p.positions.begin() + axis * n, p.positions.begin() + (axis + 1) * n);
}

TEST(FormatTimestamp, PythonOneDecimalRounding) {
  // Ties on the exact binary value round to even; non-ties round to nearest.
  EXPECT_EQ(FormatTimestamp(0.25), "<0.2 seconds>");   // exact tie -> even
  EXPECT_EQ(FormatTimestamp(2.25), "<2.2 seconds>");   // exact tie -> even
  EXPECT_EQ(FormatTimestamp(2.75), "<2.8 seconds>");   // exact tie -> even
  EXPECT_EQ(FormatTimestamp(0.35), "<0.3 seconds>");   // 0.34999999999999997...
  EXPECT_EQ(FormatTimestamp(0.45), "<0.5 seconds>");   // 0.45000000000000001...
  EXPECT_EQ(FormatTimestamp(0.05), "<0.1 seconds>");   // 0.05000000000000000277...
  EXPECT_EQ(FormatTimestamp(0.15), "<0.1 seconds>");   // 0.1499999999999999944...
  EXPECT_EQ(FormatTimestamp(1.5), "<1.5 seconds>");
  EXPECT_EQ(FormatTimestamp(0.0), "<0.0 seconds>");
  EXPECT_EQ(FormatTimestamp(1.0 / 3.0), "<0.3 seconds>");
  EXPECT_EQ(FormatTimestamp(12345.65), "<12345.6 seconds>");  // 12345.6499999999996...
}

TEST(PromptBuilder, SpecWorkedExampleImage) {
  // Spec 4.3: text tokens 0..3, image (1,4,4) -> 2x2 merged tokens at s=4, end token 6.
  std::vector<MediaItem> media = {Image(4, 4)};
  auto p = BuildPrompt("<|im_start|>u\n<|vision_start|><|image_pad|><|vision_end|>Hi", media,
                       ToyEncode);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->text,
            "<|im_start|>u\n<|vision_start|><|image_pad|><|image_pad|><|image_pad|><|image_pad|>"
            "<|vision_end|>Hi");
  ASSERT_EQ(p->ids.size(), 11u);
  EXPECT_EQ(Row(*p, 0), (std::vector<int32_t>{0, 1, 2, 3, 4, 4, 4, 4, 6, 7, 8}));
  EXPECT_EQ(Row(*p, 1), (std::vector<int32_t>{0, 1, 2, 3, 4, 4, 5, 5, 6, 7, 8}));
  EXPECT_EQ(Row(*p, 2), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8}));
  EXPECT_EQ(p->rope_delta, 9 - 11);
  ASSERT_EQ(p->spans.size(), 1u);
  EXPECT_EQ(p->spans[0].first_token, 4);
  EXPECT_EQ(p->spans[0].num_tokens, 4);
  EXPECT_EQ(p->spans[0].kind, MediaKind::kImage);
}

TEST(PromptBuilder, NonSquareImageAdvancesByLargestSide) {
  // grid (1, 4, 6): H'=2, W'=3; rows (s, s+k/3, s+k%3); next = s + 3.
  std::vector<MediaItem> media = {Image(4, 6)};
  auto p = BuildPrompt("a<|image_pad|>b", media, ToyEncode);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Row(*p, 0), (std::vector<int32_t>{0, 1, 1, 1, 1, 1, 1, 4}));
  EXPECT_EQ(Row(*p, 1), (std::vector<int32_t>{0, 1, 1, 1, 2, 2, 2, 4}));
  EXPECT_EQ(Row(*p, 2), (std::vector<int32_t>{0, 1, 2, 3, 1, 2, 3, 4}));
  EXPECT_EQ(p->rope_delta, 5 - 8);
}

TEST(PromptBuilder, VideoGroupsGetTimestampsAndRestartTime) {
  std::vector<MediaItem> media = {Video(2, 2, 4, {0.25, 1.5})};
  auto p = BuildPrompt("<|vision_start|><|video_pad|><|vision_end|>!", media, ToyEncode);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->text,
            "<0.2 seconds><|vision_start|><|video_pad|><|video_pad|><|vision_end|>"
            "<1.5 seconds><|vision_start|><|video_pad|><|video_pad|><|vision_end|>!");
  // "<0.2 seconds>" is 13 toy tokens (0..12), start 13, pads at s=14: (14,14,14),(14,14,15);
  // next = 14 + max(1, 1, 2) = 16 -> end 16; second timestamp 17..29, start 30, pads s=31.
  ASSERT_EQ(p->spans.size(), 2u);
  EXPECT_EQ(p->spans[0].group_index, 0);
  EXPECT_EQ(p->spans[1].group_index, 1);
  EXPECT_EQ(p->spans[0].first_token, 14);
  EXPECT_EQ(p->spans[1].first_token, 31);
  std::vector<int32_t> t = Row(*p, 0), h = Row(*p, 1), w = Row(*p, 2);
  EXPECT_EQ(t[14], 14);
  EXPECT_EQ(t[15], 14);
  EXPECT_EQ(w[15], 15);
  EXPECT_EQ(t[16], 16);
  EXPECT_EQ(t[31], 31);
  EXPECT_EQ(t[32], 31);
  EXPECT_EQ(h[32], 31);
  EXPECT_EQ(w[32], 32);
  EXPECT_EQ(t.back(), 34);  // end token 33, "!" 34
  EXPECT_EQ(p->rope_delta, 35 - static_cast<int64_t>(p->ids.size()));
}

TEST(PromptBuilder, BareVideoPadGetsTheFullBlock) {
  std::vector<MediaItem> media = {Video(1, 2, 2, {3.0})};
  auto text = ExpandMediaPlaceholders("x<|video_pad|>y", media);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "x<3.0 seconds><|vision_start|><|video_pad|><|vision_end|>y");
}

TEST(PromptBuilder, ImagesAndVideosAreMatchedInOrderPerKind) {
  std::vector<MediaItem> media = {Video(1, 2, 2, {0.5}), Image(2, 4), Image(2, 2)};
  auto p = BuildPrompt("<|image_pad|>|<|vision_start|><|video_pad|><|vision_end|>|<|image_pad|>",
                       media, ToyEncode);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->spans.size(), 3u);
  EXPECT_EQ(p->spans[0].media_index, 1);
  EXPECT_EQ(p->spans[0].num_tokens, 2);
  EXPECT_EQ(p->spans[1].media_index, 0);
  EXPECT_EQ(p->spans[2].media_index, 2);
  EXPECT_EQ(p->spans[2].num_tokens, 1);
}

TEST(PromptBuilder, RejectsMismatchesAndBadMedia) {
  std::vector<MediaItem> none;
  EXPECT_EQ(ExpandMediaPlaceholders("<|image_pad|>", none).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<MediaItem> one = {Image(2, 2)};
  EXPECT_EQ(ExpandMediaPlaceholders("no placeholder", one).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<MediaItem> odd = {Image(3, 2)};
  EXPECT_FALSE(ExpandMediaPlaceholders("<|image_pad|>", odd).ok());
  std::vector<MediaItem> zero = {Image(0, 2)};
  EXPECT_FALSE(ExpandMediaPlaceholders("<|image_pad|>", zero).ok());
  std::vector<MediaItem> huge = {Image(65536, 65536)};
  EXPECT_FALSE(ExpandMediaPlaceholders("<|image_pad|>", huge).ok());
  std::vector<MediaItem> missing_ts = {Video(2, 2, 2, {0.5})};
  EXPECT_FALSE(ExpandMediaPlaceholders("<|video_pad|>", missing_ts).ok());
  std::vector<MediaItem> nan_ts = {Video(1, 2, 2, {std::nan("")})};
  EXPECT_FALSE(ExpandMediaPlaceholders("<|video_pad|>", nan_ts).ok());
  std::vector<MediaItem> negative_ts = {Video(1, 2, 2, {-1.0})};
  EXPECT_FALSE(ExpandMediaPlaceholders("<|video_pad|>", negative_ts).ok());
}

TEST(PromptBuilder, PositionsRejectTokenRunsThatDoNotMatchTheGrid) {
  std::vector<MediaItem> media = {Image(4, 4)};  // needs 4 pads
  Prompt p;
  p.ids = {1, 151655, 151655, 151655, 2};
  EXPECT_FALSE(ComputeMropePositions(media, {}, {}, p).ok());
  p.ids = {1, 151655, 151655, 151655, 151655, 151655, 2};  // one extra pad: no 2nd image
  EXPECT_FALSE(ComputeMropePositions(media, {}, {}, p).ok());
  p.ids = {1, 2};  // image given, no pads
  EXPECT_FALSE(ComputeMropePositions(media, {}, {}, p).ok());
}

TEST(PromptBuilder, TextOnlyPositionsAreSequential) {
  auto p = BuildPrompt("hello", {}, ToyEncode);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Row(*p, 0), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Row(*p, 2), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p->rope_delta, 0);
}

}  // namespace
}  // namespace ocular::chat
