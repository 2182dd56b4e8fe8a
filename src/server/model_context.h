// Filling a ModelContext from a loaded model: the chat template (checkpoint folder files, or
// the GGUF's `tokenizer.chat_template`, or the built-in Qwen3-VL fallback for checkpoints that
// ship none), generation defaults and the preprocessor bounds of the checkpoint. Shared by
// `ocular serve` and `ocular run` so both build requests the same way.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "model/chat/chat_template.h"
#include "model/qwen3vl/model.h"
#include "server/chat_request.h"

namespace ocular::server {

// The checkpoint's chat template: for GGUF models the metadata's template, else the folder's
// chat_template.json / tokenizer_config.json / chat_template.jinja; the built-in Qwen3-VL
// template only when the checkpoint has none. `origin` says which one was used.
Result<chat::ChatTemplate> LoadModelChatTemplate(const qwen3vl::Qwen3VLModel& model,
                                                 std::string* origin = nullptr);

// Fills tokenizer/template pointers, merge size, generation defaults and image/video bounds
// from the model's folder. Server flags applied afterwards may only tighten the bounds.
void FillModelContext(const qwen3vl::Qwen3VLModel& model, const tokenizer::Tokenizer& tok,
                      const chat::ChatTemplate& tmpl, ModelContext* mc);

}  // namespace ocular::server
