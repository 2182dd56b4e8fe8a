// POST /v1/chat/completions with a `video_analysis` object: windowed long-video analysis
// (src/analysis) over the request's one video, answered in the chat-completions format.
//
//   "video_analysis": {"window_seconds": 10 | "window_frames": 20,
//                      "stride_seconds": 5 | "stride_frames": 10,   (default: the window)
//                      "max_windows": 32, "combine_prompt": "..."}
//
// The request holds an optional system message and one user message with exactly one video
// and its text (the question); n must be 1. Streaming (SSE) sends, in time order, one chunk
// per window as it completes, with no choices and
//   "x_ocular": {"window": {"index", "start_s", "end_s", "text", "finish_reason"}}
// then the combined answer as ordinary chat.completion.chunk deltas, the finish chunk and
// [DONE]. Without streaming the response is a chat.completion whose message is the combined
// answer, plus "x_ocular": {"windows": [...]}; it is written once the analysis ends, preceded
// by whitespace every second while it runs (valid JSON; lets a hang-up be noticed).
// A client that disconnects cancels every remaining window and the combine request.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/engine.h"
#include "server/chat_request.h"

namespace httplib {
struct Response;
}

namespace ocular::server {

struct VideoAnalysisParams {
  std::optional<double> window_seconds, stride_seconds;
  std::optional<int64_t> window_frames, stride_frames;
  int64_t max_windows = 32;
  std::string combine_prompt;
};

// True when the body has a non-null `video_analysis` member.
bool WantsVideoAnalysis(const nlohmann::json& body);

// Errors: InvalidArgument / OutOfRange naming "video_analysis.<field>".
Result<VideoAnalysisParams> ParseVideoAnalysis(const nlohmann::json& body, int64_t max_windows_limit = 256);

struct VideoAnalysisEnv {
  engine::Engine* engine = nullptr;
  const ModelContext* model = nullptr;
  std::string model_name;
  std::shared_ptr<void> guard;  // held until the response ends (the server's drain waits for it)
};

// Answers the request (an error, a JSON response or an SSE stream) and returns the HTTP
// status for the metrics.
int HandleVideoAnalysis(const nlohmann::json& body, const ParsedChatRequest& parsed,
                        const VideoAnalysisEnv& env, httplib::Response& res);

}  // namespace ocular::server
