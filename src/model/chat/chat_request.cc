#include "model/chat/chat_request.h"

#include <cmath>

namespace ocular::chat {

Result<std::vector<MediaItem>> MediaItemsFromJson(const nlohmann::ordered_json& media) {
  std::vector<MediaItem> items;
  if (media.is_null()) return items;
  if (!media.is_array()) return InvalidArgument("media must be an array");
  if (media.size() > 256) return OutOfRange("too many media items");
  for (const auto& m : media) {
    if (!m.is_object()) return InvalidArgument("media item must be an object");
    MediaItem item;
    auto kind = m.find("kind");
    if (kind == m.end() || !kind->is_string() || (*kind != "image" && *kind != "video")) {
      return InvalidArgument("media kind must be \"image\" or \"video\"");
    }
    item.kind = *kind == "video" ? MediaKind::kVideo : MediaKind::kImage;
    auto grid = m.find("grid_thw");
    if (grid == m.end() || !grid->is_array() || grid->size() != 3) {
      return InvalidArgument("media grid_thw must be [t, h, w]");
    }
    for (size_t k = 0; k < 3; ++k) {
      const auto& v = (*grid)[k];
      if (!v.is_number_integer()) return InvalidArgument("media grid_thw must be integers");
      item.grid_thw[k] = v.get<int64_t>();
    }
    auto ts = m.find("timestamps_seconds");
    if (ts != m.end() && !ts->is_null()) {
      if (!ts->is_array() || ts->size() > (1u << 16)) {
        return InvalidArgument("timestamps_seconds must be an array");
      }
      for (const auto& v : *ts) {
        if (!v.is_number()) return InvalidArgument("timestamps_seconds must be numbers");
        item.timestamps_seconds.push_back(v.get<double>());
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

Result<nlohmann::ordered_json> BuildChatPromptJson(const ChatTemplate& chat_template,
                                                   const nlohmann::ordered_json& request,
                                                   const EncodeFn& encode,
                                                   const VisionTokenIds& tokens) {
  if (!request.is_object()) return InvalidArgument("chat request must be a JSON object");
  ChatRenderInput input;
  auto messages = request.find("messages");
  if (messages == request.end()) return InvalidArgument("chat request has no messages");
  input.messages = *messages;
  if (auto tools = request.find("tools"); tools != request.end()) input.tools = *tools;
  if (auto gen = request.find("add_generation_prompt"); gen != request.end()) {
    if (!gen->is_boolean()) return InvalidArgument("add_generation_prompt must be a boolean");
    input.add_generation_prompt = gen->get<bool>();
  }
  if (auto kwargs = request.find("template_kwargs"); kwargs != request.end()) {
    input.kwargs = *kwargs;
  }
  nlohmann::ordered_json media_json =
      request.contains("media") ? request["media"] : nlohmann::ordered_json();
  ASSIGN_OR_RETURN(std::vector<MediaItem> media, MediaItemsFromJson(media_json));
  ASSIGN_OR_RETURN(std::string rendered, chat_template.Render(input));
  ASSIGN_OR_RETURN(Prompt prompt, BuildPrompt(rendered, media, encode, tokens));

  nlohmann::ordered_json out;
  out["template"] = chat_template.origin();
  out["rendered"] = rendered;
  out["expanded"] = prompt.text;
  out["ids"] = prompt.ids;
  out["n_tokens"] = prompt.num_tokens();
  int64_t image_pads = 0, video_pads = 0;
  nlohmann::ordered_json spans = nlohmann::ordered_json::array();
  for (const MediaSpan& s : prompt.spans) {
    (s.kind == MediaKind::kImage ? image_pads : video_pads) += s.num_tokens;
    spans.push_back({{"media_index", s.media_index},
                     {"kind", s.kind == MediaKind::kImage ? "image" : "video"},
                     {"group_index", s.group_index},
                     {"first_token", s.first_token},
                     {"num_tokens", s.num_tokens},
                     {"grid_thw", s.grid_thw}});
  }
  out["n_image_pad"] = image_pads;
  out["n_video_pad"] = video_pads;
  out["media_spans"] = std::move(spans);
  const size_t n = prompt.ids.size();
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t axis = 0; axis < 3; ++axis) {
    rows.push_back(std::vector<int32_t>(prompt.positions.begin() + static_cast<std::ptrdiff_t>(axis * n),
                                        prompt.positions.begin() + static_cast<std::ptrdiff_t>((axis + 1) * n)));
  }
  out["mrope_position_ids"] = std::move(rows);
  out["rope_delta"] = prompt.rope_delta;
  return out;
}

}  // namespace ocular::chat
