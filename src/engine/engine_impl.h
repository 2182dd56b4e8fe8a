// Engine::Impl: the engine thread's state and loop. Split over engine_impl.cc (queueing,
// admission, lifecycle), scheduler.cc (step planning over the token budget) and runner.cc
// (batch building, forward pass, sampling, events).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
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
  // vision encoder). `budget` counts patches encoded this step; false when it ran out.
  bool EnsureMedia(RequestState& r, int64_t computed_prefix, int64_t* budget);
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
  int64_t preemptions_ = 0;
  int64_t steps_ = 0;
  int64_t finished_ = 0;
  std::thread thread_;
};

}  // namespace ocular::engine
