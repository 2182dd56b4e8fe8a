#include "engine/engine.h"

#include <algorithm>
#include <string>

#include "base/clock.h"
#include "base/log.h"
#include "cache/kv/kv_capacity.h"
#include "engine/engine_impl.h"
#include "model/qwen3vl/kv_storage.h"

namespace ocular::engine {

std::string_view FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "error";
}

RequestHandle::~RequestHandle() {
  if (!stream_->finished()) engine_->Cancel(id_);
}

void RequestHandle::Cancel() { engine_->Cancel(id_); }

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { impl_->Stop(); }

Result<std::unique_ptr<Engine>> Engine::Create(qwen3vl::Qwen3VLModel& model,
                                               const tokenizer::Tokenizer& tokenizer,
                                               const EngineOptions& options) {
  const auto& tc = model.config().text;
  if (options.block_size < 1 || options.block_size > 1024) {
    return InvalidArgument("--block-size must be in [1, 1024]");
  }
  if (options.max_batch_tokens < 1) return InvalidArgument("--max-batch-tokens must be >= 1");
  if (options.max_running < 1) return InvalidArgument("--max-running must be >= 1");
  RETURN_IF_ERROR(features::ValidateFeatureCacheOptions(options.feature_cache));
  if (!qwen3vl::KvStorage::HoldsDtype(options.kv_dtype)) {
    return InvalidArgument("--kv-dtype must be f32, bf16 or f16");
  }
  ASSIGN_OR_RETURN(uint64_t per_token,
                   kv::KvBytesPerToken(tc.num_layers, tc.num_kv_heads, tc.head_dim,
                                       GetDTypeInfo(options.kv_dtype).block_bytes));
  if (options.kv_cache_bytes <= 0) return InvalidArgument("--kv-cache-bytes must be > 0");
  ASSIGN_OR_RETURN(int32_t blocks, kv::KvNumBlocksForBudget(options.kv_cache_bytes, per_token,
                                                            options.block_size));
  auto impl = std::make_unique<Impl>(model, tokenizer, options, blocks);
  std::unique_ptr<Engine> engine(new Engine(std::move(impl)));
  engine->impl_->Start();
  return engine;
}

Result<std::unique_ptr<RequestHandle>> Engine::Submit(EngineRequest request) {
  // The shared feature tier is read here, on the caller's thread (network, short timeouts), so
  // the engine thread's lookup finds the entry in memory and never waits on Redis.
  if (impl_->options_.shared_feature_tier && impl_->options_.feature_cache.budget_bytes > 0) {
    for (const PreparedMedia& m : request.media) {
      impl_->feature_cache_.PrefetchShared(features::MakeFeatureKey(m.media_id, request.cache_salt));
    }
  }
  ASSIGN_OR_RETURN(auto submitted, impl_->Submit(std::move(request)));
  return std::make_unique<RequestHandle>(this, submitted.first, std::move(submitted.second));
}

void Engine::Cancel(RequestId id) { impl_->Cancel(id); }
EngineStats Engine::Stats() const { return impl_->Stats(); }
void Engine::StartDrain() { impl_->StartDrain(); }
bool Engine::Idle() const { return impl_->Idle(); }
int64_t Engine::kv_capacity_tokens() const { return impl_->kv_capacity_tokens(); }
features::FeatureCache& Engine::feature_cache() { return impl_->feature_cache_; }

}  // namespace ocular::engine
