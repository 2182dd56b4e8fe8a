// Public types of the serving engine: what a caller submits and what it gets back.
// The server (transport) and `ocular run` build EngineRequests; the engine streams Events.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "cache/features/feature_cache.h"
#include "engine/sampling/sampling_params.h"

namespace ocular::engine {

using RequestId = uint64_t;

enum class MediaKind { kImage, kVideo };

// One image or video, already decoded and preprocessed by the media pipeline (the caller
// measures fetch and preprocess time and passes them in for the stage timings).
struct PreparedMedia {
  MediaKind kind = MediaKind::kImage;
  Sha256Digest media_id{};                       // content id (media::MediaId)
  std::shared_ptr<const std::vector<float>> pixel_values;  // [t*h*w, 1536] f32
  std::array<int64_t, 3> grid_thw = {1, 1, 1};
  std::optional<uint64_t> phash;                 // perceptual hash (images), for near hits
  // A media-id reference already resolved in the feature cache (no pixels): the lease pins the
  // entry until the request ends; pixel_values is null and grid_thw equals the entry's grid.
  std::shared_ptr<const features::FeatureLease> cached;
};

// Where a media item's visual tokens sit in the prompt (a video has one span per group).
struct PromptMediaSpan {
  int media_index = 0;
  int64_t first_token = 0;
  int64_t num_tokens = 0;
};

struct EngineRequest {
  std::vector<int32_t> prompt_ids;                // [L]
  std::vector<int64_t> positions;                 // [3, L] rows t, h, w (M-RoPE)
  int64_t rope_delta = 0;                         // first generated position = L + rope_delta
  std::vector<PreparedMedia> media;               // prompt order
  std::vector<PromptMediaSpan> spans;             // token order
  sampling::SamplingParams sampling;
  int64_t max_tokens = 256;                       // generated tokens, > 0
  std::vector<int32_t> stop_token_ids;            // finish (not emitted as text)
  std::vector<std::string> stop_strings;          // finish; the stop text is not emitted
  bool ignore_eos = false;                        // benchmarks: fixed output lengths
  bool skip_special_tokens = true;
  std::string cache_salt;                         // tenant isolation for both caches
  int priority = 0;                               // higher first; FCFS within a priority
  double fetch_ms = 0.0;                          // measured by the caller
  double preprocess_ms = 0.0;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
std::string_view FinishReasonName(FinishReason r);  // "stop", "length", "cancelled", "error"

struct TokenLogprobInfo {
  int32_t token = 0;
  float logprob = 0.0f;
};

struct GeneratedToken {
  int32_t id = 0;
  bool has_logprobs = false;
  float logprob = 0.0f;
  std::vector<TokenLogprobInfo> top_logprobs;
};

enum class MediaCacheResult { kMiss, kHit, kSimilar, kPrefix };

struct MediaStats {
  Sha256Digest media_id{};
  int64_t tokens = 0;
  MediaCacheResult cache = MediaCacheResult::kMiss;
  int distance = 0;      // kSimilar: Hamming distance
  double encode_ms = 0;  // 0 unless encoded for this request
};

// Stage timings and counts of one request (usage.timings over HTTP).
struct RequestStats {
  double queue_ms = 0;       // submit -> admitted
  double fetch_ms = 0;
  double preprocess_ms = 0;
  double encode_ms = 0;      // vision encoder time spent for this request
  double prefill_ms = 0;     // admitted -> first token, excluding encode
  double decode_ms = 0;      // first token -> finish
  double ttft_ms = 0;        // submit -> first token
  double total_ms = 0;       // submit -> finish
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;     // prompt tokens served from the prefix cache
  int64_t completion_tokens = 0;
  int64_t preemptions = 0;
  std::vector<MediaStats> media;
};

struct Event {
  enum class Type { kTokens, kFinish };
  Type type = Type::kTokens;
  std::string text;                     // text delta (complete UTF-8; may be empty)
  std::vector<GeneratedToken> tokens;   // the tokens behind this delta
  // kFinish only:
  FinishReason finish_reason = FinishReason::kStop;
  Status error;                         // kError: why
  RequestStats stats;
};

}  // namespace ocular::engine
