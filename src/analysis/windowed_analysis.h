// Windowed long-video analysis (issue 9), built on top of the engine: one engine request per
// window (the user's question plus the window's time range, over the window's frames with
// Qwen3-VL's "<t seconds>" group timestamps), then one text-only combine request over the
// window answers. Windows go through the normal scheduler, so they batch with each other and
// with other users; at most `max_inflight` windows are decoded and queued at once, so memory
// is bounded by the window size, not by the length of the video.
//
// Each 2-frame temporal group of a window is its own media item whose id covers exactly that
// group's frames (media id over the group's source indices and resized pixels). The vision
// encoder attends within a group only (spec 3.5) and the prompt tokens and positions of N
// single-group items equal those of one N-group video (spec 4.3, 5.5), so a window request is
// the same model input as a plain request with the window's frames, while a group shared by
// two overlapping windows hits the feature cache instead of being encoded twice.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/frame_source.h"
#include "analysis/window_plan.h"
#include "base/status.h"
#include "engine/engine.h"
#include "engine/engine_types.h"
#include "media/smart_resize.h"

namespace ocular {
class ThreadPool;
namespace tokenizer {
class Tokenizer;
}
namespace chat {
class ChatTemplate;
}
}  // namespace ocular

namespace ocular::analysis {

// The default instruction of the combine request; the question and the window notes follow it.
inline constexpr std::string_view kDefaultCombinePrompt =
    "Below are answers about consecutive parts of one video, each labelled with its time range "
    "in seconds. Combine them into a single answer to the question for the whole video, "
    "mentioning times where they matter.";

struct AnalysisContext {
  const tokenizer::Tokenizer* tokenizer = nullptr;
  const chat::ChatTemplate* chat_template = nullptr;
  int64_t merge_size = 2;
  int64_t max_model_len = 32768;
  ThreadPool* pool = nullptr;  // preprocessing threads (may be null)
};

struct AnalysisRequest {
  WindowSpec windows;
  std::string question;          // the user's text
  std::string system;            // optional system message (window and combine requests)
  std::string combine_prompt;    // empty: kDefaultCombinePrompt
  int64_t min_pixels = 4'096;    // video pixel budget of one window (smart_resize)
  int64_t max_pixels = 25'165'824;
  // Sampling, max_tokens, stop, cache_salt and priority of every request; prompt and media
  // fields are ignored.
  engine::EngineRequest base;
  int64_t combine_max_tokens = 0;  // 0: base.max_tokens
  int max_inflight = 4;            // windows decoded and submitted ahead, >= 1
};

struct WindowResult {
  int index = 0;
  double start_s = 0;
  double end_s = 0;
  std::string text;
  engine::FinishReason finish_reason = engine::FinishReason::kStop;
  engine::RequestStats stats;
};

struct AnalysisResult {
  std::vector<WindowResult> windows;  // time order
  std::string text;                   // combined answer
  engine::FinishReason finish_reason = engine::FinishReason::kStop;
  engine::RequestStats combine_stats;
  bool spread = false;                // windows were spread out to respect max_windows
  double first_window_ms = 0;         // start -> first window result
  double total_ms = 0;
};

struct AnalysisCallbacks {
  std::function<void(const WindowResult&)> on_window;       // in time order
  std::function<void(std::string_view)> on_combine_text;    // combined answer deltas
  std::function<bool()> cancelled;                          // polled; true stops everything
};

// "This part of the video runs from 10.0 to 20.0 seconds.\n<question>"
std::string WindowQuestion(std::string_view question, const Window& window);
// The combine request's user text: instruction, question, then one "[a - b s] text" per window.
std::string CombineText(std::string_view question, std::string_view combine_prompt,
                        const std::vector<WindowResult>& windows);

// The frame size of every window: the video smart_resize of a full window's frame count.
Result<media::ResizedSize> WindowFrameSize(const WindowPlan& plan, const SourceInfo& info,
                                           int32_t height, int32_t width, const AnalysisRequest& request);

// One window's engine request from its frames (one RGB frame per window.frame_indices).
Result<engine::EngineRequest> BuildWindowRequest(const AnalysisContext& ctx, const AnalysisRequest& request,
                                                 const SourceInfo& info, const Window& window,
                                                 const std::vector<media::RgbImage>& frames,
                                                 media::ResizedSize size);
// The text-only combine request.
Result<engine::EngineRequest> BuildTextRequest(const AnalysisContext& ctx, const AnalysisRequest& request,
                                               std::string_view user_text, int64_t max_tokens);

// Plans, runs every window (in time order through on_window) and the combine request.
// Errors: the planner's, media errors, engine refusals (queue full, too long), Cancelled when
// callbacks.cancelled() turned true (every outstanding request is cancelled before returning),
// Internal when a request failed in the engine.
Result<AnalysisResult> RunWindowedAnalysis(engine::Engine& engine, const AnalysisContext& ctx,
                                           FrameSource& source, const AnalysisRequest& request,
                                           const AnalysisCallbacks& callbacks = {});

}  // namespace ocular::analysis
