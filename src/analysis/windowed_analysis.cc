#include "analysis/windowed_analysis.h"

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>

#include "base/clock.h"
#include "media/aa_resize.h"
#include "media/media_id.h"
#include "media/patchify.h"
#include "media/video_sampling.h"
#include "model/chat/chat_template.h"
#include "model/chat/prompt_builder.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::analysis {
namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", s);
  return buf;
}

// Renders [system] + user(content) with the generation prompt and builds the prompt.
Result<engine::EngineRequest> BuildFromContent(const AnalysisContext& ctx, const AnalysisRequest& request,
                                               nlohmann::ordered_json content,
                                               const std::vector<chat::MediaItem>& items,
                                               int64_t max_tokens) {
  if (!ctx.tokenizer || !ctx.chat_template) return Internal("analysis context incomplete");
  chat::ChatRenderInput in;
  if (!request.system.empty()) in.messages.push_back({{"role", "system"}, {"content", request.system}});
  in.messages.push_back({{"role", "user"}, {"content", std::move(content)}});
  in.add_generation_prompt = true;
  auto rendered = ctx.chat_template->Render(in);
  if (!rendered.ok()) return InvalidArgument("messages: the chat template could not render them");
  chat::PromptOptions po;
  po.merge_size = ctx.merge_size;
  po.max_prompt_tokens = ctx.max_model_len;
  const tokenizer::Tokenizer& tok = *ctx.tokenizer;
  ASSIGN_OR_RETURN(chat::Prompt prompt,
                   chat::BuildPrompt(*rendered, items, [&](std::string_view t) { return tok.Encode(t); }, {}, po));
  engine::EngineRequest r = request.base;
  r.media.clear();
  r.spans.clear();
  r.prompt_ids = std::move(prompt.ids);
  r.positions.assign(prompt.positions.begin(), prompt.positions.end());
  r.rope_delta = prompt.rope_delta;
  for (const auto& s : prompt.spans) r.spans.push_back({s.media_index, s.first_token, s.num_tokens});
  const int64_t len = static_cast<int64_t>(r.prompt_ids.size());
  if (len + max_tokens > ctx.max_model_len) {
    return OutOfRange("max_tokens: a window prompt of " + std::to_string(len) +
                      " tokens plus max_tokens exceed the context length " + std::to_string(ctx.max_model_len));
  }
  r.max_tokens = max_tokens;
  return r;
}

}  // namespace

std::string WindowQuestion(std::string_view question, const Window& window) {
  return "This part of the video runs from " + Seconds(window.start_s) + " to " + Seconds(window.end_s) +
         " seconds.\n" + std::string(question);
}

std::string CombineText(std::string_view question, std::string_view combine_prompt,
                        const std::vector<WindowResult>& windows) {
  std::string out(combine_prompt.empty() ? kDefaultCombinePrompt : combine_prompt);
  out += "\n\nQuestion: ";
  out += question;
  out += "\n";
  for (const WindowResult& w : windows) {
    out += "\n[" + Seconds(w.start_s) + " - " + Seconds(w.end_s) + " s] " + w.text;
  }
  return out;
}

Result<media::ResizedSize> WindowFrameSize(const WindowPlan& plan, const SourceInfo& info, int32_t height,
                                           int32_t width, const AnalysisRequest& request) {
  (void)info;
  return media::SmartResizeVideo(plan.window_samples, height, width, request.min_pixels, request.max_pixels);
}

Result<engine::EngineRequest> BuildWindowRequest(const AnalysisContext& ctx, const AnalysisRequest& request,
                                                 const SourceInfo& info, const Window& window,
                                                 const std::vector<media::RgbImage>& frames,
                                                 media::ResizedSize size) {
  if (frames.size() != window.frame_indices.size() || frames.empty() || frames.size() % 2 != 0) {
    return Internal("window frames do not match its plan");
  }
  std::vector<engine::PreparedMedia> media;
  std::vector<chat::MediaItem> items;
  nlohmann::ordered_json content = nlohmann::ordered_json::array();
  for (size_t g = 0; g < frames.size(); g += 2) {
    // One temporal group: resize both frames (only when the size changes, as the processor
    // does), patchify, and id it by exactly these frames.
    std::vector<media::RgbImage> resized;
    std::vector<const media::RgbImage*> ptrs;
    const int32_t h = frames[g].height, w = frames[g].width;
    for (size_t k = g; k < g + 2; ++k) {
      if (frames[k].height != h || frames[k].width != w) return InvalidArgument("video frames differ in size");
    }
    if (size.height != h || size.width != w) {
      for (size_t k = g; k < g + 2; ++k) {
        resized.push_back(media::TorchAntialiasBicubicResize(frames[k], size.width, size.height, ctx.pool));
      }
      for (const auto& f : resized) ptrs.push_back(&f);
    } else {
      ptrs = {&frames[g], &frames[g + 1]};
    }
    media::PixelValues px = media::Patchify(ptrs, media::Normalization::kFusedTorchvision, ctx.pool);
    const std::vector<int64_t> pair = {window.frame_indices[g], window.frame_indices[g + 1]};
    media::MediaIdInputs id;
    id.kind = "video";
    id.source_height = h;
    id.source_width = w;
    id.min_pixels = request.min_pixels;
    id.max_pixels = request.max_pixels;
    id.resized_height = size.height;
    id.resized_width = size.width;
    id.resample = "torch_aa_bicubic";
    id.normalization = media::Normalization::kFusedTorchvision;
    id.frame_indices = pair;
    id.frames = ptrs;
    engine::PreparedMedia pm;
    pm.kind = engine::MediaKind::kVideo;
    pm.media_id = media::ComputeMediaId(id).digest;
    for (int k = 0; k < 3; ++k) pm.grid_thw[k] = px.grid_thw[k];
    const int64_t n = px.num_patches() * media::kPatchDim;
    pm.pixel_values = std::make_shared<const std::vector<float>>(px.values(), px.values() + n);
    chat::MediaItem item;
    item.kind = chat::MediaKind::kVideo;
    item.grid_thw = pm.grid_thw;
    item.timestamps_seconds = media::GroupTimestamps(pair, info.fps);
    media.push_back(std::move(pm));
    items.push_back(std::move(item));
    content.push_back({{"type", "video"}});
  }
  content.push_back({{"type", "text"}, {"text", WindowQuestion(request.question, window)}});
  ASSIGN_OR_RETURN(engine::EngineRequest r,
                   BuildFromContent(ctx, request, std::move(content), items, request.base.max_tokens));
  r.media = std::move(media);
  return r;
}

Result<engine::EngineRequest> BuildTextRequest(const AnalysisContext& ctx, const AnalysisRequest& request,
                                               std::string_view user_text, int64_t max_tokens) {
  nlohmann::ordered_json content = std::string(user_text);
  return BuildFromContent(ctx, request, std::move(content), {}, max_tokens);
}

namespace {

struct Inflight {
  WindowResult result;
  std::unique_ptr<engine::RequestHandle> handle;
  bool started = false;  // an event arrived: its media are encoded (or cached) by now
  bool done = false;
};

bool IsCancelled(const AnalysisCallbacks& cb) { return cb.cancelled && cb.cancelled(); }

// Drains available events of one request into its text; true when it finished.
bool Drain(engine::RequestHandle& h, std::chrono::milliseconds wait, std::string* text,
           engine::FinishReason* reason, engine::RequestStats* stats,
           const std::function<void(std::string_view)>& on_text = {}, bool* started = nullptr) {
  engine::Event e;
  while (h.events().Pop(&e, wait)) {
    wait = std::chrono::milliseconds(0);
    if (started) *started = true;
    *text += e.text;
    if (on_text && !e.text.empty()) on_text(e.text);
    if (e.type == engine::Event::Type::kFinish) {
      *reason = e.finish_reason;
      *stats = std::move(e.stats);
      return true;
    }
  }
  return false;
}

}  // namespace

Result<AnalysisResult> RunWindowedAnalysis(engine::Engine& engine, const AnalysisContext& ctx,
                                           FrameSource& source, const AnalysisRequest& request,
                                           const AnalysisCallbacks& callbacks) {
  const int64_t t0 = NowNs();
  const SourceInfo info = source.info();
  ASSIGN_OR_RETURN(WindowPlan plan, PlanWindows(info, request.windows));
  AnalysisResult out;
  out.spread = plan.spread;
  const size_t n = plan.windows.size();
  const size_t max_inflight = static_cast<size_t>(std::max(1, request.max_inflight));
  std::optional<media::ResizedSize> size;
  std::deque<Inflight> inflight;  // window order
  size_t next_submit = 0;
  // On every return path the deque's handles are destroyed, which cancels their requests.
  while (out.windows.size() < n) {
    if (IsCancelled(callbacks)) return Cancelled("analysis cancelled");
    // A window is submitted once the previous one has produced its first event, i.e. once the
    // groups they share are in the feature cache: submitted together, both would miss and
    // encode the shared groups twice. They still batch in prefill and decode.
    while (inflight.size() < max_inflight && next_submit < n &&
           (inflight.empty() || inflight.back().started || inflight.back().done)) {
      const Window& w = plan.windows[next_submit];
      ASSIGN_OR_RETURN(std::vector<media::RgbImage> frames, source.Decode(w.frame_indices));
      if (!size) {
        ASSIGN_OR_RETURN(size, WindowFrameSize(plan, info, frames[0].height, frames[0].width, request));
      }
      ASSIGN_OR_RETURN(engine::EngineRequest r, BuildWindowRequest(ctx, request, info, w, frames, *size));
      frames.clear();
      Inflight f;
      f.result.index = w.index;
      f.result.start_s = w.start_s;
      f.result.end_s = w.end_s;
      ASSIGN_OR_RETURN(f.handle, engine.Submit(std::move(r)));
      inflight.push_back(std::move(f));
      ++next_submit;
      if (IsCancelled(callbacks)) return Cancelled("analysis cancelled");
    }
    // Wait on the oldest window (the next to be reported); pick up the others' events too.
    bool first = true;
    for (Inflight& f : inflight) {
      if (f.done) continue;
      const auto wait = first ? std::chrono::milliseconds(20) : std::chrono::milliseconds(0);
      first = false;
      f.done = Drain(*f.handle, wait, &f.result.text, &f.result.finish_reason, &f.result.stats, {}, &f.started);
    }
    while (!inflight.empty() && inflight.front().done) {
      Inflight f = std::move(inflight.front());
      inflight.pop_front();
      f.handle.reset();
      if (f.result.finish_reason == engine::FinishReason::kError) {
        return Internal("window " + std::to_string(f.result.index) + ": generation failed");
      }
      if (f.result.finish_reason == engine::FinishReason::kCancelled) return Cancelled("analysis cancelled");
      if (out.windows.empty()) out.first_window_ms = double(NowNs() - t0) / 1e6;
      if (callbacks.on_window) callbacks.on_window(f.result);
      out.windows.push_back(std::move(f.result));
    }
  }

  const int64_t combine_tokens = request.combine_max_tokens > 0 ? request.combine_max_tokens : request.base.max_tokens;
  ASSIGN_OR_RETURN(engine::EngineRequest cr,
                   BuildTextRequest(ctx, request, CombineText(request.question, request.combine_prompt, out.windows),
                                    combine_tokens));
  ASSIGN_OR_RETURN(auto handle, engine.Submit(std::move(cr)));
  for (;;) {
    if (IsCancelled(callbacks)) return Cancelled("analysis cancelled");
    if (Drain(*handle, std::chrono::milliseconds(20), &out.text, &out.finish_reason, &out.combine_stats,
              callbacks.on_combine_text)) {
      break;
    }
  }
  if (out.finish_reason == engine::FinishReason::kError) return Internal("combine: generation failed");
  if (out.finish_reason == engine::FinishReason::kCancelled) return Cancelled("analysis cancelled");
  out.total_ms = double(NowNs() - t0) / 1e6;
  return out;
}

}  // namespace ocular::analysis
