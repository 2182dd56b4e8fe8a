// The shared request builder: an OpenAI chat-completions (or completions) request, already
// parsed as JSON, -> validated engine requests. `ocular serve` and `ocular run` both go through
// it, so HTTP and CLI give identical results for the same messages. Independent of HTTP.
//
// Two stages:
//  1. ParseChatRequest(body, limits): pure validation of every field (no model, no I/O; the
//     fuzz target drives it). Fails with InvalidArgument / OutOfRange / ResourceExhausted whose
//     message starts with the offending parameter path and ": " (e.g. "temperature: must be
//     in [0, 2]", "messages[1].content[0].image_url.url: ..."); ErrorParam() extracts it.
//  2. BuildChatRequest(parsed, model_context): fetches each media item (data: URLs, http(s)
//     through the SSRF-safe UrlFetcher, file:// under the media root), decodes and
//     preprocesses it (timed: fetch_ms, preprocess_ms), renders the chat template with
//     add_generation_prompt, expands media placeholders and tokenizes (BuildPrompt), resolves
//     sampling parameters against generation_config.json defaults and returns one
//     EngineRequest per choice (n choices; choice i uses seed + i when a seed is given).
//
// Accepted fields: model (ignored beyond being a string), messages (roles system, user,
// assistant, tool; content a string or a list of parts {type: text, text}, {type: image_url,
// image_url: {url, detail}}, {type: video_url, video_url: {url}}, each media part optionally
// with min_pixels / max_pixels that may only lower the server's bounds; media only in user
// turns), temperature [0, 2], top_p (0, 1], top_k (-1 or >= 0), min_p [0, 1],
// presence_penalty / frequency_penalty [-2, 2], repetition_penalty (0, 2], seed (>= 0),
// stop (string or list of <= 16 non-empty strings), max_tokens / max_completion_tokens
// (>= 1; the latter wins), logprobs (bool), top_logprobs [0, 20] (needs logprobs),
// n [1, 16], user (string), cache_salt (string), stream, stream_options.include_usage,
// ignore_eos (extension, bool).
// Unknown top-level fields are ignored (clients send many); wrong types of known fields fail.
//
// Media-id references: an image part whose url is "ocular-media:<64 hex digits>" (the id the
// server returned in usage.media[].id) is served from the vision feature cache without any
// bytes: the entry is pinned (leased) for the request and supplies the grid, so the prompt is
// built exactly as for the original image. An id that is not cached for this request's
// cache_salt (never seen, evicted, or another tenant's) fails with FailedPrecondition, which
// the HTTP server answers with 409 and error code "media_not_cached": the client then sends
// the image bytes again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/engine_types.h"
#include "engine/sampling/sampling_params.h"
#include "media/image_preprocess.h"
#include "media/video_sampling.h"

namespace ocular {
class ThreadPool;
namespace tokenizer {
class Tokenizer;
}
namespace chat {
class ChatTemplate;
}
namespace media {
class MediaRoot;
}
namespace features {
class FeatureCache;
}
}  // namespace ocular

namespace ocular::server {

class UrlFetcher;

// Server-side limits for requests (RELIABILITY.md; a request may only lower them).
struct RequestLimits {
  int max_images = 8;
  int max_videos = 1;
  int max_n = 16;
  int max_stop = 16;
  int max_stop_bytes = 1024;     // per stop string
  int max_messages = 4096;
  int64_t max_text_bytes = 16 << 20;  // all message text together
  int json_max_depth = 64;
  uint64_t max_image_bytes = 20ull << 20;
  uint64_t max_video_bytes = 256ull << 20;
  std::chrono::milliseconds image_fetch_timeout{5000};
  std::chrono::milliseconds video_fetch_timeout{30000};
};

// Parses request body text as JSON after checking its nesting depth (the parser itself has
// no depth limit). Errors: InvalidArgument "body: ...".
Result<nlohmann::json> ParseJsonBody(std::string_view text, int max_depth);

enum class MediaRefKind { kImage, kVideo };

struct MediaRef {
  MediaRefKind kind = MediaRefKind::kImage;
  std::string url;
  std::string param;  // "messages[i].content[j]" for errors
  std::optional<int64_t> min_pixels;
  std::optional<int64_t> max_pixels;
};

// Everything a request asked for, validated, before any model or I/O work.
struct ParsedChatRequest {
  bool is_chat = true;                  // false: /v1/completions (raw prompt, no template)
  nlohmann::ordered_json messages;      // template input (media parts -> {type: image|video})
  std::string prompt;                   // completions only
  std::vector<MediaRef> media;          // prompt order
  sampling::SamplingOverrides overrides;
  std::optional<int64_t> max_tokens;
  int n = 1;
  std::vector<std::string> stop;
  bool logprobs = false;
  int top_logprobs = 0;
  bool ignore_eos = false;             // extension (benchmarks): run to max_tokens
  bool stream = false;
  bool include_usage = false;
  std::string user;
  std::string cache_salt;
  std::string model;
};

Result<ParsedChatRequest> ParseChatRequest(const nlohmann::json& body, const RequestLimits& limits);
// /v1/completions: {prompt: string, ...sampling fields}; no template, no media.
Result<ParsedChatRequest> ParseCompletionRequest(const nlohmann::json& body,
                                                 const RequestLimits& limits);

// The parameter named at the front of a builder error message ("" when none).
std::string ErrorParam(const Status& status);

// What building needs from the loaded model and the server configuration. Pointers are not
// owned and must outlive the call; fetcher and media_root may be null (then http(s) or file://
// URLs are refused with 400).
struct ModelContext {
  const tokenizer::Tokenizer* tokenizer = nullptr;
  const chat::ChatTemplate* chat_template = nullptr;
  sampling::GenerationDefaults generation_defaults;
  media::ImagePreprocessConfig image_config;   // server pixel bounds for images
  media::VideoSamplingConfig video_config;     // server bounds for videos
  int64_t merge_size = 2;
  int64_t max_model_len = 32768;
  int64_t default_max_tokens = 2048;           // when the request gives none
  bool compute_phash = false;                  // near-duplicate feature cache hits enabled
  ThreadPool* pool = nullptr;                  // preprocessing threads (may be null)
  const UrlFetcher* fetcher = nullptr;
  const media::MediaRoot* media_root = nullptr;
  features::FeatureCache* feature_cache = nullptr;  // resolves ocular-media: references (may be null)
  RequestLimits limits;
};

// URL scheme of media-id references, and the error code of an unresolvable one.
inline constexpr std::string_view kMediaRefScheme = "ocular-media:";
inline constexpr std::string_view kMediaNotCachedCode = "media_not_cached";
// True for BuildChatRequest's error on an unresolvable media-id reference.
bool IsMediaNotCached(const Status& status);

struct BuiltRequest {
  std::vector<engine::EngineRequest> choices;  // [n], identical except the seed
  int64_t prompt_tokens = 0;
  double fetch_ms = 0;
  double preprocess_ms = 0;
};

// Errors: InvalidArgument / OutOfRange / PermissionDenied (blocked URL) / ResourceExhausted
// (size caps) / DeadlineExceeded (fetch too slow), messages naming the parameter.
// `cancelled` (optional) is polled while fetching and between media items: once it returns
// true the build stops with Cancelled (the client went away; nothing is left behind).
Result<BuiltRequest> BuildChatRequest(const ParsedChatRequest& request, const ModelContext& ctx,
                                      const std::function<bool()>& cancelled = {});

}  // namespace ocular::server
