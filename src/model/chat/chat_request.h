// A JSON description of a chat prompt -> the prompt the engine would see, as JSON. Used by
// `ocular tokenize --chat FILE.json` and handy for debugging template issues.
//
// Input (the golden chat case layout): {"messages": [...], "tools": [...] | null,
// "add_generation_prompt": bool, "template_kwargs": {...},
// "media": [{"kind": "image" | "video", "grid_thw": [t, h, w],
//            "timestamps_seconds": [...] (videos)}]}
// Output: {"rendered", "expanded", "ids", "n_tokens", "n_image_pad", "n_video_pad",
//          "media_spans": [{media_index, kind, group_index, first_token, num_tokens, grid_thw}],
//          "mrope_position_ids": [[t...], [h...], [w...]], "rope_delta"}
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/chat/chat_template.h"
#include "model/chat/prompt_builder.h"

namespace ocular::chat {

// Parses the "media" array of a chat request.
Result<std::vector<MediaItem>> MediaItemsFromJson(const nlohmann::ordered_json& media);

Result<nlohmann::ordered_json> BuildChatPromptJson(const ChatTemplate& chat_template,
                                                   const nlohmann::ordered_json& request,
                                                   const EncodeFn& encode,
                                                   const VisionTokenIds& tokens);

}  // namespace ocular::chat
