// Engine::Impl: the engine thread's state and loop. Split over engine_impl.cc (queueing,
// admission, lifecycle), scheduler.cc (step planning over the token budget) and runner.cc
// (batch building, forward pass, sampling, events).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/kv/kv_cache_manager.h"
#include "engine/engine.h"
#include "engine/request_state.h"
#include "engine/sampling/sampler.h"
#include "model/qwen3vl/kv_storage.h"

namespace ocular::engine {

// One scheduled piece of work: tokens [start, start + count) of a request.
struct StepItem {
  RequestState* request = nullptr;
  int64_t start = 0;
  int64_t count = 0;
  bool want_logits = false;
};

// One media item being encoded by the resumable vision encoder, shared by every waiting
// request that needs the same features (same media id and cache salt).
struct EncodeJob {
  features::FeatureKey key;
  std::optional<uint64_t> phash;
  std::shared_ptr<const std::vector<float>> pixels;  // [t*h*w, 1536] f32, kept alive here
  std::array<int64_t, 3> grid = {1, 1, 1};
  qwen3vl::VisionChunking chunking;
  std::unique_ptr<qwen3vl::VisionEncodeState> state;  // null until the job's first slot
  std::vector<std::pair<RequestId, int>> waiters;  // (request, media index)
  int64_t spent_ns = 0;                            // encoder time so far
  int64_t chunk_rows = 0;     // patch rows per chunk asked of the encoder
  int64_t last_chunk_ns = 0;  // time of the latest chunk: predicts the next one's cost
};

// Online step costs (exponential moving averages) for interleaving budgets.
struct StepCosts {
  double decode_step_ns = 0;   // a step of decode tokens only
  // Marginal cost of one prefill token in a step, per regime: [0] steps of at most the GEMV
  // row limit (weights streamed per row group: each extra row costs a lot on a small host),
  // [1] larger steps (GEMM: cheap per row). One linear estimate for both under-predicted a
  // decode step carrying 7 prompt rows by 8x.
  double prefill_token_ns[2] = {0, 0};
  double prefill_extra_ns[2] = {0, 0};   // average time a prefill share added to a step
  double prefill_tokens_avg[2] = {0, 0}; // average prefill tokens of those steps
  double encoder_row_ns = 0;   // encoder time per patch row of a chunk (for chunk sizing)
  void Observe(int64_t decode_tokens, int64_t prefill_tokens, int64_t step_ns,
               int64_t gemv_max_rows);
  // Per-token prefill cost of a step with `rows` rows (falls back to the other regime).
  double PrefillTokenNs(int64_t rows, int64_t gemv_max_rows) const;
};

struct Engine::Impl {
  Impl(qwen3vl::Qwen3VLModel& model, const tokenizer::Tokenizer& tokenizer,
       const EngineOptions& options, int32_t num_blocks);
  ~Impl();

  void Start();
  void Stop();
  Result<std::pair<RequestId, std::shared_ptr<EventStream>>> Submit(EngineRequest request);
  void Cancel(RequestId id);
  EngineStats Stats() const;
  void StartDrain() { draining_.store(true); }
  bool Idle() const;
  int64_t kv_capacity_tokens() const { return kv_storage_.capacity_tokens(); }

  // --- engine thread ---
  void Loop();
  void TakeIncoming();
  void HandleCancels();
  void Admit();
  // Makes every media item of `r` that the prompt still needs available (feature cache or
  // vision encoder). False while any of them is still being encoded (resumable encode jobs
  // run between steps, see RunEncoder).
  bool EnsureMedia(RequestState& r, int64_t computed_prefix);
  // Attaches request `r` (media index i) to the encode job for its features, creating it.
  void StartEncode(RequestState& r, int i, const features::FeatureQuery& q);
  // Runs encoder chunks for this step: within the interleave budget while streams decode,
  // else for up to a fixed slice. Returns the number of chunks run.
  int64_t RunEncoder(int64_t decode_tokens, int64_t prefill_tokens);
  // Hands a finished encode's features to the feature cache and to every waiting request.
  void DeliverEncode(EncodeJob& job);
  // Encoder budget of a step that carries decode tokens (ns), given its prefill share.
  double EncoderBudgetNs(int64_t decode_tokens, int64_t prefill_tokens) const;
  // Patch rows per encoder chunk for a new encode job: sized so that one chunk fits in the
  // encoder budget of a decode step, as measured so far (`decoding`: streams decode now).
  int64_t EncoderChunkRows(bool decoding) const;
  // Counts a step in the published stats before its events are delivered.
  void CountStep(bool carries_decode);
  // Step timing: counts and logs steps that stall running streams (what produced them).
  void ObserveStep(int64_t decode_tokens, int64_t prefill_tokens, int64_t plan_ns,
                   int64_t forward_ns, int64_t encoder_ns, int64_t encoder_chunks);
  // Removes `id` from every encode job; jobs nobody waits for are dropped with their state.
  void DropEncodeWaiter(RequestId id);
  // Prefill tokens allowed in a step that also carries decode tokens.
  int64_t PrefillAllowance(int64_t decode_tokens) const;
  std::vector<StepItem> Schedule();
  void Preempt(RequestState& r);
  void Execute(const std::vector<StepItem>& items);
  void Finish(RequestState& r, FinishReason reason, Status error = OkStatus());
  void EmitTokens(RequestState& r, bool final);
  void PublishStats();
  Status ValidateRequest(const EngineRequest& req) const;

  qwen3vl::Qwen3VLModel& model_;
  const tokenizer::Tokenizer& tokenizer_;
  EngineOptions options_;
  kv::KvCacheManager kv_;
  qwen3vl::KvStorage kv_storage_;
  features::FeatureCache feature_cache_;
  sampling::Sampler sampler_;
  std::vector<int32_t> eos_ids_;

  // Shared with submitting threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<RequestState>> incoming_;
  std::vector<RequestId> cancels_;
  bool stop_ = false;
  std::atomic<bool> draining_{false};
  RequestId next_id_ = 1;
  uint64_t next_arrival_ = 0;
  int64_t queued_ = 0;  // incoming + waiting, for admission control
  EngineStats stats_;   // published snapshot (under mu_)

  // Engine thread only.
  std::unordered_map<RequestId, std::unique_ptr<RequestState>> requests_;
  std::list<RequestState*> waiting_;  // priority, then arrival
  std::list<RequestState*> running_;  // admission order
  std::deque<std::unique_ptr<EncodeJob>> encode_jobs_;  // FCFS
  StepCosts costs_;
  int64_t preemptions_ = 0;
  int64_t steps_ = 0;
  int64_t finished_ = 0;
  int64_t encodes_started_ = 0;
  int64_t encodes_finished_ = 0;
  int64_t decode_steps_ = 0;
  int64_t slow_decode_steps_ = 0;
  int64_t slow_logged_ns_ = 0;    // last slow-step log line (rate limit)
  int64_t slow_unlogged_ = 0;     // slow steps since then
  std::thread thread_;
};

}  // namespace ocular::engine
