// Engine: continuous batching over a paged KV cache with multimodal prefix caching, chunked
// prefill, a vision feature cache and per-request stage timings (issue: serving engine).
//
// One engine thread owns the model, the KV cache manager and the scheduler state; callers on
// any thread Submit() requests and read their events from an EventStream. Each step mixes the
// decode tokens of running requests and chunks of prompts up to one token budget, so a long
// prompt or a large image never freezes other users' streams.
//
// Thread-safety: Submit, Cancel, Stats, StartDrain and the RequestHandle are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "cache/features/feature_cache.h"
#include "engine/engine_types.h"
#include "engine/event_stream.h"
#include "model/qwen3vl/model.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::engine {

struct EngineOptions {
  int64_t kv_cache_bytes = 0;          // KV budget (K and V, all layers); > 0
  int block_size = 16;                 // tokens per KV block
  bool enable_prefix_caching = true;
  int64_t max_batch_tokens = 256;      // token budget of one step (decode + prefill chunks)
  int64_t max_running = 16;            // requests decoding/prefilling at once
  int64_t max_waiting = 256;           // admission queue; beyond it Submit is refused
  // Interleaving vision and prefill work with running streams: while any request decodes,
  // one step adds at most this fraction of a decode step's time of prefill chunks and vision
  // encoder chunks (measured online), so inter-token latency stays within (1 + fraction) of
  // a pure decode step. With nothing decoding, both run at full speed. <= 0: no cap on
  // prefill (the whole token budget) and one encoder chunk per step while streams decode.
  double interleave_fraction = 0.3;
  int64_t encoder_chunk_rows = 256;    // ViT patch rows per encoder chunk (resumable encode)
  // > 0: a fixed encoder budget instead: patch rows of encoder chunks per step.
  int64_t encoder_budget_patches = 0;
  int64_t max_model_len = 32768;       // prompt + generated tokens per request
  features::FeatureCacheOptions feature_cache;  // budget 0 disables the feature cache
  // Optional second tier shared by replicas (Redis); read on Submit's thread, written async.
  std::shared_ptr<features::SharedFeatureTier> shared_feature_tier;
  // KV cache element type: f32 (exact), or bf16 / f16 (half the bytes per token, so twice
  // the tokens in the same budget; each row is widened to f32 as attention reads it).
  DType kv_dtype = DType::kF32;
};

struct EngineStats {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_capacity_tokens = 0;
  int64_t prefix_cache_hit_tokens = 0;   // cumulative
  int64_t preemptions = 0;               // cumulative
  int64_t steps = 0;
  int64_t finished = 0;
  int64_t encoding = 0;             // media items being encoded (resumable encodes in flight)
  int64_t encoder_state_bytes = 0;  // memory held by partial encodes
  int64_t encode_waiters = 0;       // requests' media items waiting on an in-flight encode
  int64_t encodes_started = 0;      // cumulative vision encode jobs begun (one per media
                                    // item in flight, shared by every request that needs it)
  int64_t encodes_finished = 0;     // cumulative encode jobs completed
  // Steps that carried decode tokens, and those of them longer than 1.5x the average
  // decode-only step (what a running stream sees as an inter-token latency spike).
  int64_t decode_steps = 0;
  int64_t slow_decode_steps = 0;
  features::FeatureCacheStats feature_cache;
  features::SharedTierStats shared_feature_tier;  // enabled == false without one
};

class Engine;

// The caller's side of one request. Destroying it (or Cancel()) cancels the request if it is
// still running; everything it holds is released by the engine thread.
class RequestHandle {
 public:
  RequestHandle(Engine* engine, RequestId id, std::shared_ptr<EventStream> stream)
      : engine_(engine), id_(id), stream_(std::move(stream)) {}
  ~RequestHandle();
  RequestHandle(const RequestHandle&) = delete;
  RequestHandle& operator=(const RequestHandle&) = delete;

  RequestId id() const { return id_; }
  EventStream& events() { return *stream_; }
  void Cancel();

 private:
  Engine* engine_;
  RequestId id_;
  std::shared_ptr<EventStream> stream_;
};

class Engine {
 public:
  // `model` and `tokenizer` must outlive the engine. Starts the engine thread.
  static Result<std::unique_ptr<Engine>> Create(qwen3vl::Qwen3VLModel& model,
                                                const tokenizer::Tokenizer& tokenizer,
                                                const EngineOptions& options);
  ~Engine();  // stops the thread; unfinished requests end with kCancelled

  // Validates and queues a request. Errors: InvalidArgument (bad request), OutOfRange
  // (longer than the cache or max_model_len), ResourceExhausted (queue full),
  // Unavailable (draining).
  Result<std::unique_ptr<RequestHandle>> Submit(EngineRequest request);
  void Cancel(RequestId id);
  EngineStats Stats() const;
  // Refuse new requests from now on; running ones continue.
  void StartDrain();
  // True when nothing is running or waiting.
  bool Idle() const;

  int64_t kv_capacity_tokens() const;

  // The vision feature cache (thread-safe): the server resolves media-id references in it.
  features::FeatureCache& feature_cache();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocular::engine
