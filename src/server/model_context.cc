#include "server/model_context.h"

#include "model/qwen3vl/preprocess_config.h"

namespace ocular::server {

Result<chat::ChatTemplate> LoadModelChatTemplate(const qwen3vl::Qwen3VLModel& model,
                                                 std::string* origin) {
  const qwen3vl::Checkpoint& ck = model.checkpoint();
  if (ck.text_gguf) {
    auto text = ck.text_gguf->GetString("tokenizer.chat_template");
    if (text.ok()) {
      if (origin) *origin = "gguf";
      return chat::ChatTemplate::FromString(*text);
    }
  }
  auto from_dir = chat::ChatTemplate::FromModelDir(model.dir());
  if (from_dir.ok()) {
    if (origin) *origin = "checkpoint";
    return from_dir;
  }
  if (from_dir.status().code() != StatusCode::kNotFound) return from_dir.status();
  if (origin) *origin = "built-in Qwen3-VL";
  return chat::ChatTemplate::BuiltinQwen3VL();
}

void FillModelContext(const qwen3vl::Qwen3VLModel& model, const tokenizer::Tokenizer& tok,
                      const chat::ChatTemplate& tmpl, ModelContext* mc) {
  const std::string dir = model.dir().string();
  mc->tokenizer = &tok;
  mc->chat_template = &tmpl;
  const int64_t merge = model.config().vision.spatial_merge_size;
  mc->merge_size = merge > 0 ? merge : 2;
  if (auto gc = qwen3vl::LoadGenerationConfig(dir); gc.ok()) {
    mc->generation_defaults.do_sample = gc->do_sample;
    mc->generation_defaults.temperature = float(gc->temperature);
    mc->generation_defaults.top_p = float(gc->top_p);
    mc->generation_defaults.top_k = int32_t(gc->top_k);
    mc->generation_defaults.repetition_penalty = float(gc->repetition_penalty);
  }
  if (auto ic = qwen3vl::LoadImagePreprocessConfig(dir); ic.ok() && ic->max_pixels > 0) {
    mc->image_config.min_pixels = ic->min_pixels;
    mc->image_config.max_pixels = ic->max_pixels;
  }
  if (auto vc = qwen3vl::LoadVideoPreprocessConfig(dir); vc.ok() && vc->max_pixels > 0) {
    mc->video_config.min_pixels = vc->min_pixels;
    mc->video_config.max_pixels = vc->max_pixels;
    mc->video_config.fps = vc->fps;
    mc->video_config.min_frames = vc->min_frames;
    mc->video_config.max_frames = vc->max_frames;
  }
}

}  // namespace ocular::server
