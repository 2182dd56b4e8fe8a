// Prompt builder: rendered chat text -> expanded text -> token ids, media spans and M-RoPE
// positions, as HF's Qwen3VLProcessor and `get_rope_index` produce them (spec 4.3, 5.5, 6).
//
// 1. Expansion. Each `<|image_pad|>` becomes grid_t*grid_h*grid_w/merge^2 pads (images in
//    order). Each `<|vision_start|><|video_pad|><|vision_end|>` (or a bare `<|video_pad|>`)
//    becomes, per temporal group g, "<{ts_g:.1f} seconds>" + `<|vision_start|>` +
//    (grid_h*grid_w/merge^2) x `<|video_pad|>` + `<|vision_end|>` (videos in order).
// 2. The whole expanded text is tokenized with special tokens matched (the caller's encoder).
// 3. Positions: text tokens get (p,p,p), p sequential; a vision block starting at s with merged
//    grid (T, H', W') gives token k (s + k div (H'W'), s + (k mod H'W') div W', s + k mod W');
//    the next token gets 1 + the largest position so far. Video groups are separate blocks
//    (T = 1), so time is carried only by the timestamp text. rope_delta = (max + 1) - L.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ocular::chat {

enum class MediaKind { kImage, kVideo };

// One image or video of the request, as the media pipeline preprocessed it.
struct MediaItem {
  MediaKind kind = MediaKind::kImage;
  std::array<int64_t, 3> grid_thw = {1, 1, 1};  // patch grid (t, h, w) before merging
  std::vector<double> timestamps_seconds;       // video: one per temporal group (grid t)
};

// Ids of the vision special tokens (Qwen3-VL defaults, spec 6.1).
struct VisionTokenIds {
  int32_t vision_start = 151652;
  int32_t vision_end = 151653;
  int32_t image_pad = 151655;
  int32_t video_pad = 151656;
};

struct PromptOptions {
  int64_t merge_size = 2;            // spatial merge of the vision encoder
  int64_t max_media_tokens = 1 << 20;  // all pads together
  int64_t max_prompt_tokens = 1 << 21;
};

// A run of visual tokens belonging to one image or one video temporal group.
struct MediaSpan {
  int media_index = 0;  // index into the MediaItem list
  MediaKind kind = MediaKind::kImage;
  int group_index = 0;  // video temporal group; 0 for images
  int64_t first_token = 0;
  int64_t num_tokens = 0;
  std::array<int64_t, 3> grid_thw = {1, 1, 1};  // the whole item's grid
};

struct Prompt {
  std::string text;                 // expanded text
  std::vector<int32_t> ids;         // [L]
  std::vector<MediaSpan> spans;     // in token order
  std::vector<int32_t> positions;   // [3, L] row-major: rows t, h, w
  int64_t rope_delta = 0;           // (max position + 1) - L, <= 0
  int64_t num_tokens() const { return static_cast<int64_t>(ids.size()); }
};

// Encodes text with special tokens matched (e.g. a tokenizer::Tokenizer's Encode).
using EncodeFn = std::function<std::vector<int32_t>(std::string_view)>;

// "<0.2 seconds>": Python f"<{seconds:.1f} seconds>" (round-half-even on the exact value).
std::string FormatTimestamp(double seconds);

// Step 1 alone. Fails when placeholders and media items do not match one to one.
Result<std::string> ExpandMediaPlaceholders(std::string_view rendered,
                                            std::span<const MediaItem> media,
                                            const PromptOptions& options = {});

// Step 3 alone: spans and positions for token ids that already contain expanded pads.
Status ComputeMropePositions(std::span<const MediaItem> media, const VisionTokenIds& tokens,
                             const PromptOptions& options, Prompt& prompt);

// All three steps.
Result<Prompt> BuildPrompt(std::string_view rendered, std::span<const MediaItem> media,
                           const EncodeFn& encode, const VisionTokenIds& tokens = {},
                           const PromptOptions& options = {});

}  // namespace ocular::chat
