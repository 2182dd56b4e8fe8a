#include <algorithm>
#include <string>

#include "base/clock.h"
#include "base/log.h"
#include "engine/engine_impl.h"

namespace ocular::engine {

Engine::Impl::Impl(qwen3vl::Qwen3VLModel& model, const tokenizer::Tokenizer& tokenizer,
                   const EngineOptions& options, int32_t num_blocks)
    : model_(model),
      tokenizer_(tokenizer),
      options_(options),
      kv_(kv::KvCacheConfig{num_blocks, options.block_size, options.enable_prefix_caching,
                            static_cast<uint64_t>(NowNs())}),
      kv_storage_(model.config().text.num_layers, num_blocks, options.block_size,
                  static_cast<int>(model.config().text.num_kv_heads),
                  static_cast<int>(model.config().text.head_dim), options.kv_dtype),
      feature_cache_(options.feature_cache, options.shared_feature_tier) {
  for (int64_t id : model.config().text.eos_token_ids) eos_ids_.push_back(static_cast<int32_t>(id));
  if (tokenizer.eos_id()) eos_ids_.push_back(*tokenizer.eos_id());
}

Engine::Impl::~Impl() { Stop(); }

void Engine::Impl::Start() {
  PublishStats();  // the cache's size is known before the first step (metrics read it at once)
  thread_ = std::thread([this] { Loop(); });
}

void Engine::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Engine::Impl::ValidateRequest(const EngineRequest& req) const {
  const int64_t n = static_cast<int64_t>(req.prompt_ids.size());
  if (n == 0) return InvalidArgument("the prompt is empty");
  if (static_cast<int64_t>(req.positions.size()) != 3 * n) {
    return InvalidArgument("positions must hold 3 rows of prompt length");
  }
  const int64_t vocab = model_.text().vocab_size();
  for (int32_t id : req.prompt_ids) {
    if (id < 0 || id >= vocab) return InvalidArgument("prompt token id out of range");
  }
  if (req.max_tokens < 1) return InvalidArgument("max_tokens must be >= 1");
  RETURN_IF_ERROR(sampling::ValidateSamplingParams(req.sampling));
  if (n + 1 > options_.max_model_len) {
    return OutOfRange("the prompt has " + std::to_string(n) + " tokens; this server's limit is " +
                      std::to_string(options_.max_model_len - 1));
  }
  if (kv_.NumBlocksFor(n + 1) > kv_storage_.num_blocks()) {
    return OutOfRange("the prompt (" + std::to_string(n) + " tokens) does not fit in the KV cache (" +
                      std::to_string(kv_storage_.capacity_tokens()) + " tokens)");
  }
  // Media: every span inside the prompt, in order, on placeholder tokens, and each item's
  // spans add up to its token count.
  const int64_t merge = model_.config().vision.spatial_merge_size;
  std::vector<int64_t> covered(req.media.size(), 0);
  int64_t prev_end = 0;
  for (const PromptMediaSpan& s : req.spans) {
    if (s.media_index < 0 || s.media_index >= static_cast<int>(req.media.size()) ||
        s.first_token < prev_end || s.num_tokens <= 0 || s.first_token + s.num_tokens > n) {
      return InvalidArgument("media spans do not match the prompt");
    }
    prev_end = s.first_token + s.num_tokens;
    covered[s.media_index] += s.num_tokens;
  }
  for (size_t i = 0; i < req.media.size(); ++i) {
    const PreparedMedia& m = req.media[i];
    const auto& g = m.grid_thw;
    if (!model_.has_vision()) return InvalidArgument("this model has no vision encoder (mmproj)");
    const bool pixels_ok =
        m.cached ? (*m.cached && m.cached->entry().grid == features::GridThw{g[0], g[1], g[2]})
                 : (m.pixel_values &&
                    static_cast<int64_t>(m.pixel_values->size()) == g[0] * g[1] * g[2] * 1536);
    if (g[0] < 1 || g[1] < merge || g[2] < merge || g[1] % merge || g[2] % merge || !pixels_ok) {
      return InvalidArgument("media item " + std::to_string(i) + ": invalid pixel values");
    }
    if (covered[i] != g[0] * g[1] * g[2] / (merge * merge)) {
      return InvalidArgument("media item " + std::to_string(i) + ": token count does not match");
    }
  }
  return OkStatus();
}

Result<std::pair<RequestId, std::shared_ptr<EventStream>>> Engine::Impl::Submit(
    EngineRequest request) {
  if (draining_.load()) return Unavailable("the server is shutting down");
  RETURN_IF_ERROR(ValidateRequest(request));
  auto r = std::make_unique<RequestState>();
  r->stream = std::make_shared<EventStream>();
  r->submit_ns = NowNs();
  r->num_prompt = static_cast<int64_t>(request.prompt_ids.size());
  r->tokens = request.prompt_ids;
  r->max_total_tokens = std::min(r->num_prompt + request.max_tokens, options_.max_model_len);
  r->history = sampling::TokenHistory(request.prompt_ids);
  tokenizer::DetokenizerOptions dopt;
  dopt.skip_special_tokens = request.skip_special_tokens;
  dopt.stop_strings = request.stop_strings;
  r->detok = std::make_unique<tokenizer::IncrementalDetokenizer>(tokenizer_, dopt);
  r->features.resize(request.media.size());
  r->leases.resize(request.media.size());
  std::vector<int64_t> rows(request.media.size(), 0);
  for (const PromptMediaSpan& s : request.spans) {
    r->media_row_offset.push_back(rows[s.media_index]);
    rows[s.media_index] += s.num_tokens;
    r->span_refs.push_back(
        kv::MediaSpanRef{s.first_token, s.num_tokens, request.media[s.media_index].media_id});
  }
  r->stats.prompt_tokens = r->num_prompt;
  r->stats.fetch_ms = request.fetch_ms;
  r->stats.preprocess_ms = request.preprocess_ms;
  r->in = std::move(request);
  auto stream = r->stream;
  RequestId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_ >= options_.max_waiting) {
      return ResourceExhausted("too many requests are waiting; retry later");
    }
    id = next_id_++;
    r->id = id;
    r->arrival = next_arrival_++;
    ++queued_;
    incoming_.push_back(std::move(r));
  }
  cv_.notify_all();
  return std::make_pair(id, stream);
}

void Engine::Impl::Cancel(RequestId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.push_back(id);
  }
  cv_.notify_all();
}

EngineStats Engine::Impl::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineStats s = stats_;
  s.feature_cache = feature_cache_.Stats();
  if (options_.shared_feature_tier) s.shared_feature_tier = options_.shared_feature_tier->Stats();
  return s;
}

bool Engine::Impl::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_ == 0 && stats_.running == 0;
}

void Engine::Impl::TakeIncoming() {
  std::deque<std::unique_ptr<RequestState>> in;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in.swap(incoming_);
  }
  for (auto& r : in) {
    RequestState* p = r.get();
    requests_[p->id] = std::move(r);
    // Insert by priority (higher first), FCFS within a priority.
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](RequestState* w) {
      return w->in.priority < p->in.priority;
    });
    waiting_.insert(it, p);
  }
}

void Engine::Impl::HandleCancels() {
  std::vector<RequestId> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids.swap(cancels_);
  }
  for (RequestId id : ids) {
    auto it = requests_.find(id);
    if (it == requests_.end() || it->second->status == RequestStatus::kFinished) continue;
    Finish(*it->second, FinishReason::kCancelled);
  }
}

void Engine::Impl::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || !incoming_.empty() || !cancels_.empty() || !waiting_.empty() ||
               !running_.empty();
      });
      if (stop_) break;
    }
    const int64_t plan_start = NowNs();
    TakeIncoming();
    HandleCancels();
    Admit();
    std::vector<StepItem> items = Schedule();
    int64_t decode_tokens = 0, prefill_tokens = 0;
    for (const StepItem& it : items) {
      (it.start >= it.request->num_prompt ? decode_tokens : prefill_tokens) += it.count;
    }
    const int64_t t0 = NowNs();
    if (!items.empty()) {
      CountStep(decode_tokens > 0);  // before its tokens reach anyone (a client may read /metrics next)
      Execute(items);
      costs_.Observe(decode_tokens, prefill_tokens, NowNs() - t0,
                     model_.ctx().options().gemv_max_rows);
    }
    // Vision encoder chunks between forward passes (resumable encodes).
    const int64_t t1 = NowNs();
    const int64_t chunks = RunEncoder(decode_tokens, prefill_tokens);
    const bool encoded = chunks > 0;
    ObserveStep(decode_tokens, prefill_tokens, t0 - plan_start, t1 - t0, NowNs() - t1, chunks);
    PublishStats();
    if (items.empty() && !encoded && !waiting_.empty() && running_.empty()) {
      // Nothing fits (should not happen: admission refuses oversize prompts). Avoid a spin.
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
  }
  // Shutdown: everything still known ends as cancelled.
  TakeIncoming();
  for (auto& [id, r] : requests_) {
    if (r->status != RequestStatus::kFinished) Finish(*r, FinishReason::kCancelled);
  }
  PublishStats();
}

void Engine::Impl::PublishStats() {
  // Drop finished requests (their streams live on in the handles).
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second->status == RequestStatus::kFinished) {
      it = requests_.erase(it);
    } else {
      ++it;
    }
  }
  kv::KvCacheStats ks = kv_.Stats();
  std::lock_guard<std::mutex> lock(mu_);
  queued_ = static_cast<int64_t>(incoming_.size() + waiting_.size());
  stats_.running = static_cast<int64_t>(running_.size());
  stats_.waiting = queued_;
  stats_.kv_blocks_total = ks.num_blocks;
  stats_.kv_blocks_used = ks.num_used_blocks;
  stats_.kv_capacity_tokens = ks.capacity_tokens;
  stats_.prefix_cache_hit_tokens = ks.prefix_hit_tokens;
  stats_.preemptions = preemptions_;
  stats_.steps = steps_;
  stats_.finished = finished_;
  stats_.encoding = static_cast<int64_t>(encode_jobs_.size());
  stats_.encodes_started = encodes_started_;
  stats_.encodes_finished = encodes_finished_;
  stats_.decode_steps = decode_steps_;
  stats_.slow_decode_steps = slow_decode_steps_;
  stats_.encoder_state_bytes = 0;
  stats_.encode_waiters = 0;
  for (const auto& job : encode_jobs_) {
    if (job->state) stats_.encoder_state_bytes += static_cast<int64_t>(job->state->bytes());
    stats_.encode_waiters += static_cast<int64_t>(job->waiters.size());
  }
}

void Engine::Impl::CountStep(bool carries_decode) {
  ++steps_;
  if (carries_decode) ++decode_steps_;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.steps = steps_;
  stats_.decode_steps = decode_steps_;
}

void Engine::Impl::ObserveStep(int64_t decode_tokens, int64_t prefill_tokens, int64_t plan_ns,
                               int64_t forward_ns, int64_t encoder_ns, int64_t encoder_chunks) {
  const int64_t total = plan_ns + forward_ns + encoder_ns;
  LOG_DEBUG("engine: step {:.1f} ms: {} decode + {} prefill tokens, planning {:.1f} ms, forward "
            "{:.1f} ms, vision encoder {:.1f} ms in {} slots",
            double(total) * 1e-6, decode_tokens, prefill_tokens, double(plan_ns) * 1e-6,
            double(forward_ns) * 1e-6, double(encoder_ns) * 1e-6, encoder_chunks);
  if (decode_tokens == 0) return;  // nobody waits for a token in this step
  const double base = costs_.decode_step_ns;
  if (base <= 0 || double(total) <= 1.5 * base) return;
  ++slow_decode_steps_;
  // What stalled the streams, at most once a second (a loaded host can make many steps slow).
  const int64_t now = NowNs();
  if (now - slow_logged_ns_ < 1000000000) {
    ++slow_unlogged_;
    return;
  }
  LOG_INFO(
      "engine: slow step {:.0f} ms ({:.1f}x the {:.0f} ms decode step; {} decode + {} prefill "
      "tokens): planning {:.0f} ms, forward {:.0f} ms, vision encoder {:.0f} ms in {} chunks; "
      "{} more slow steps since the last report",
      double(total) * 1e-6, double(total) / base, base * 1e-6, decode_tokens, prefill_tokens,
      double(plan_ns) * 1e-6, double(forward_ns) * 1e-6, double(encoder_ns) * 1e-6,
      encoder_chunks, slow_unlogged_);
  slow_logged_ns_ = now;
  slow_unlogged_ = 0;
}

void Engine::Impl::Finish(RequestState& r, FinishReason reason, Status error) {
  if (r.status == RequestStatus::kFinished) return;
  const bool was_running = r.status == RequestStatus::kRunning;
  if (was_running) {
    running_.remove(&r);
  } else {
    waiting_.remove(&r);
  }
  kv_.Free(r.id);
  DropEncodeWaiter(r.id);  // a partial encode nobody else waits for is dropped here
  r.leases.clear();
  r.features.clear();
  r.status = RequestStatus::kFinished;
  {
    // Published before the finish event: whoever sees the end of a stream sees it counted.
    std::lock_guard<std::mutex> lock(mu_);
    stats_.finished = ++finished_;
  }
  if (reason != FinishReason::kCancelled && reason != FinishReason::kError) {
    EmitTokens(r, /*final=*/true);
  }
  const int64_t now = NowNs();
  RequestStats& s = r.stats;
  s.completion_tokens = r.num_generated();
  s.encode_ms = r.encode_ms;
  s.total_ms = double(now - r.submit_ns) * 1e-6;
  if (r.first_token_ns) s.decode_ms = double(now - r.first_token_ns) * 1e-6;
  Event e;
  e.type = Event::Type::kFinish;
  e.finish_reason = reason;
  e.error = std::move(error);
  e.stats = s;
  r.stream->Push(std::move(e));
}

}  // namespace ocular::engine
