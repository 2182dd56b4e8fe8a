// The engine's internal state of one request (engine thread only).
//
// Tokens vs positions: `tokens` holds prompt + generated ids; `num_computed` counts tokens
// whose K/V are in the cache. M-RoPE positions are not token indices: prompt positions come
// from the prompt builder, generated token i sits at (L + rope_delta + i) on all axes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cache/features/feature_cache.h"
#include "cache/kv/block_hash.h"
#include "engine/engine_types.h"
#include "engine/event_stream.h"
#include "engine/sampling/token_history.h"
#include "model/tokenizer/detokenizer.h"

namespace ocular::engine {

enum class RequestStatus { kWaiting, kRunning, kFinished };

struct RequestState {
  RequestId id = 0;
  uint64_t arrival = 0;  // FCFS order
  EngineRequest in;
  std::shared_ptr<EventStream> stream;
  RequestStatus status = RequestStatus::kWaiting;
  bool admitted_once = false;

  std::vector<int32_t> tokens;  // prompt + generated
  int64_t num_prompt = 0;
  int64_t num_computed = 0;     // tokens with K/V in the cache
  int64_t max_total_tokens = 0; // prompt + allowed generated tokens

  // Vision features of each media item (null until encoded or found in a cache). Leases pin
  // cached entries while the request needs them.
  std::vector<std::shared_ptr<const features::FeatureEntry>> features;
  std::vector<features::FeatureLease> leases;
  std::vector<char> media_encoding;         // per media item: waiting on an encode job
  std::vector<int64_t> media_row_offset;    // per span: first feature row of the span
  std::vector<kv::MediaSpanRef> span_refs;  // for prefix-cache keys

  sampling::TokenHistory history;
  std::unique_ptr<tokenizer::IncrementalDetokenizer> detok;
  std::vector<GeneratedToken> pending_tokens;  // sampled, not yet sent with text

  int64_t submit_ns = 0;
  int64_t admit_ns = 0;
  int64_t first_token_ns = 0;
  double encode_ms = 0;
  RequestStats stats;

  int64_t num_generated() const { return static_cast<int64_t>(tokens.size()) - num_prompt; }
  int64_t Position(int64_t i, int axis) const {
    return i < num_prompt ? in.positions[axis * num_prompt + i]
                          : num_prompt + in.rope_delta + (i - num_prompt);
  }
  kv::PrefixKeyInput KeyInput() const {
    return kv::PrefixKeyInput{tokens, span_refs, in.cache_salt};
  }
};

}  // namespace ocular::engine
