#include "model/chat/prompt_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ocular::chat {
namespace {

constexpr std::string_view kVisionStart = "<|vision_start|>";
constexpr std::string_view kVisionEnd = "<|vision_end|>";
constexpr std::string_view kImagePad = "<|image_pad|>";
constexpr std::string_view kVideoPad = "<|video_pad|>";

// Merged tokens per temporal slice of an item, after validating its grid.
Result<int64_t> TokensPerGroup(const MediaItem& item, const PromptOptions& options) {
  const auto& g = item.grid_thw;
  const int64_t m = options.merge_size;
  if (m <= 0) return InvalidArgument("merge size must be positive");
  for (int64_t v : g) {
    if (v <= 0 || v > (1 << 16)) return InvalidArgument("media grid out of range");
  }
  if (g[1] % m != 0 || g[2] % m != 0) {
    return InvalidArgument("media grid height and width must be multiples of the merge size");
  }
  int64_t per_group = (g[1] / m) * (g[2] / m);
  if (per_group > options.max_media_tokens) return OutOfRange("media item has too many tokens");
  if (item.kind == MediaKind::kVideo) {
    if (item.timestamps_seconds.size() != static_cast<size_t>(g[0])) {
      return InvalidArgument("video needs one timestamp per temporal group");
    }
    for (double ts : item.timestamps_seconds) {
      if (!std::isfinite(ts) || ts < 0 || ts > 1e9) {
        return InvalidArgument("video timestamp out of range");
      }
    }
  }
  return per_group;
}

void AppendRepeated(std::string& out, std::string_view piece, int64_t count) {
  out.reserve(out.size() + piece.size() * static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out += piece;
}

}  // namespace

std::string FormatTimestamp(double seconds) {
  // glibc printf rounds the exact binary value half-to-even, like Python's format(x, ".1f").
  char buf[64];
  std::snprintf(buf, sizeof(buf), "<%.1f seconds>", seconds);
  return buf;
}

Result<std::string> ExpandMediaPlaceholders(std::string_view rendered,
                                            std::span<const MediaItem> media,
                                            const PromptOptions& options) {
  std::vector<size_t> images, videos;
  int64_t total_tokens = 0;
  for (size_t i = 0; i < media.size(); ++i) {
    ASSIGN_OR_RETURN(int64_t per_group, TokensPerGroup(media[i], options));
    total_tokens += per_group * media[i].grid_thw[0];
    if (total_tokens > options.max_media_tokens) return OutOfRange("media has too many tokens");
    (media[i].kind == MediaKind::kImage ? images : videos).push_back(i);
  }
  std::string out;
  size_t next_image = 0, next_video = 0;
  size_t pos = 0;
  while (true) {
    size_t image_at = rendered.find(kImagePad, pos);
    size_t video_at = rendered.find(kVideoPad, pos);
    size_t at = std::min(image_at, video_at);
    if (at == std::string_view::npos) break;
    out.append(rendered.substr(pos, at - pos));
    if (at == image_at) {
      if (next_image >= images.size()) {
        return InvalidArgument("the prompt has more image placeholders than images");
      }
      const MediaItem& item = media[images[next_image++]];
      const int64_t m2 = options.merge_size * options.merge_size;
      AppendRepeated(out, kImagePad, item.grid_thw[0] * item.grid_thw[1] * item.grid_thw[2] / m2);
      pos = at + kImagePad.size();
      continue;
    }
    if (next_video >= videos.size()) {
      return InvalidArgument("the prompt has more video placeholders than videos");
    }
    const MediaItem& item = media[videos[next_video++]];
    // A full <|vision_start|><|video_pad|><|vision_end|> is replaced as a whole; a bare pad
    // (vLLM style) gets the same replacement.
    pos = at + kVideoPad.size();
    if (out.size() >= kVisionStart.size() &&
        std::string_view(out).substr(out.size() - kVisionStart.size()) == kVisionStart &&
        rendered.substr(pos, kVisionEnd.size()) == kVisionEnd) {
      out.resize(out.size() - kVisionStart.size());
      pos += kVisionEnd.size();
    }
    const int64_t per_group =
        item.grid_thw[1] * item.grid_thw[2] / (options.merge_size * options.merge_size);
    for (int64_t g = 0; g < item.grid_thw[0]; ++g) {
      out += FormatTimestamp(item.timestamps_seconds[static_cast<size_t>(g)]);
      out += kVisionStart;
      AppendRepeated(out, kVideoPad, per_group);
      out += kVisionEnd;
    }
  }
  out.append(rendered.substr(pos));
  if (next_image != images.size() || next_video != videos.size()) {
    return InvalidArgument("the prompt has fewer media placeholders than media items");
  }
  return out;
}

Status ComputeMropePositions(std::span<const MediaItem> media, const VisionTokenIds& tokens,
                             const PromptOptions& options, Prompt& prompt) {
  const std::vector<int32_t>& ids = prompt.ids;
  const size_t n = ids.size();
  if (static_cast<int64_t>(n) > options.max_prompt_tokens) {
    return OutOfRange("prompt has too many tokens");
  }
  std::vector<size_t> images, videos;
  for (size_t i = 0; i < media.size(); ++i) {
    RETURN_IF_ERROR(TokensPerGroup(media[i], options).status());
    (media[i].kind == MediaKind::kImage ? images : videos).push_back(i);
  }
  prompt.positions.assign(3 * n, 0);
  prompt.spans.clear();
  int32_t* pt = prompt.positions.data();
  int32_t* ph = pt + n;
  int32_t* pw = ph + n;
  const int64_t m = options.merge_size;
  size_t next_image = 0, next_video = 0;
  int64_t video_group = 0;
  int64_t next = 0;  // position of the next text token = 1 + max position so far
  size_t i = 0;
  while (i < n) {
    const int32_t id = ids[i];
    if (id != tokens.image_pad && id != tokens.video_pad) {
      pt[i] = ph[i] = pw[i] = static_cast<int32_t>(next);
      ++next;
      ++i;
      continue;
    }
    MediaSpan span;
    int64_t t = 1;
    if (id == tokens.image_pad) {
      if (next_image >= images.size()) return InvalidArgument("more image tokens than images");
      span.media_index = static_cast<int>(images[next_image++]);
      span.kind = MediaKind::kImage;
      t = media[static_cast<size_t>(span.media_index)].grid_thw[0];
    } else {
      if (next_video >= videos.size()) return InvalidArgument("more video tokens than videos");
      span.media_index = static_cast<int>(videos[next_video]);
      span.kind = MediaKind::kVideo;
      span.group_index = static_cast<int>(video_group);
      if (++video_group == media[static_cast<size_t>(span.media_index)].grid_thw[0]) {
        ++next_video;
        video_group = 0;
      }
    }
    const MediaItem& item = media[static_cast<size_t>(span.media_index)];
    span.grid_thw = item.grid_thw;
    const int64_t hm = item.grid_thw[1] / m, wm = item.grid_thw[2] / m;
    const int64_t count = t * hm * wm;
    if (static_cast<int64_t>(n - i) < count) return InvalidArgument("media token run is too short");
    for (int64_t k = 0; k < count; ++k) {
      if (ids[i + static_cast<size_t>(k)] != id) {
        return InvalidArgument("media token run does not match its grid");
      }
    }
    span.first_token = static_cast<int64_t>(i);
    span.num_tokens = count;
    const int64_t s = next;
    for (int64_t k = 0; k < count; ++k) {
      const int64_t ti = k / (hm * wm), rem = k % (hm * wm);
      const size_t j = i + static_cast<size_t>(k);
      pt[j] = static_cast<int32_t>(s + ti);
      ph[j] = static_cast<int32_t>(s + rem / wm);
      pw[j] = static_cast<int32_t>(s + rem % wm);
    }
    next = s + std::max({t, hm, wm});
    i += static_cast<size_t>(count);
    prompt.spans.push_back(span);
  }
  if (next_image != images.size() || next_video != videos.size() || video_group != 0) {
    return InvalidArgument("fewer media tokens in the prompt than media items");
  }
  prompt.rope_delta = next - static_cast<int64_t>(n);
  return OkStatus();
}

Result<Prompt> BuildPrompt(std::string_view rendered, std::span<const MediaItem> media,
                           const EncodeFn& encode, const VisionTokenIds& tokens,
                           const PromptOptions& options) {
  Prompt prompt;
  ASSIGN_OR_RETURN(prompt.text, ExpandMediaPlaceholders(rendered, media, options));
  prompt.ids = encode(prompt.text);
  RETURN_IF_ERROR(ComputeMropePositions(media, tokens, options, prompt));
  return prompt;
}

}  // namespace ocular::chat
