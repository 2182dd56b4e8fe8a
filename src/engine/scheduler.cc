// Admission and step planning: one token budget per step shared by decode tokens and chunks
// of prefill; preemption (recompute) of the newest request when KV blocks run out.
#include <algorithm>

#include "base/clock.h"
#include "engine/engine_impl.h"

namespace ocular::engine {

bool Engine::Impl::EnsureMedia(RequestState& r, int64_t computed_prefix) {
  bool ready = true;
  r.media_encoding.resize(r.in.media.size(), 0);
  if (r.stats.media.size() != r.in.media.size()) {
    r.stats.media.resize(r.in.media.size());
    for (size_t i = 0; i < r.in.media.size(); ++i) {
      const auto& g = r.in.media[i].grid_thw;
      const int64_t mm = model_.config().vision.spatial_merge_size *
                         model_.config().vision.spatial_merge_size;
      r.stats.media[i].media_id = r.in.media[i].media_id;
      r.stats.media[i].tokens = g[0] * g[1] * g[2] / mm;
      r.stats.media[i].cache = MediaCacheResult::kPrefix;
    }
  }
  for (size_t j = 0; j < r.in.spans.size(); ++j) {
    const PromptMediaSpan& s = r.in.spans[j];
    if (s.first_token + s.num_tokens <= computed_prefix) continue;  // KV already cached
    const int i = s.media_index;
    if (r.features[i]) continue;
    if (r.media_encoding[i]) {  // an encode job delivers it
      ready = false;
      continue;
    }
    const PreparedMedia& m = r.in.media[i];
    MediaStats& ms = r.stats.media[i];
    if (m.cached) {  // a media-id reference, pinned by the request since the server resolved it
      r.features[i] = m.cached->shared_entry();
      if (ms.cache == MediaCacheResult::kPrefix) ms.cache = MediaCacheResult::kHit;
      continue;
    }
    features::FeatureQuery q;
    q.key = features::MakeFeatureKey(m.media_id, r.in.cache_salt);
    q.grid = {m.grid_thw[0], m.grid_thw[1], m.grid_thw[2]};
    q.phash = m.phash;
    if (auto hit = feature_cache_.Lookup(q)) {
      r.features[i] = hit->lease.shared_entry();
      r.leases[i] = std::move(hit->lease);
      if (ms.cache == MediaCacheResult::kPrefix) {  // first time seen by this request
        ms.cache = hit->similar ? MediaCacheResult::kSimilar : MediaCacheResult::kHit;
        ms.distance = hit->distance;
      }
      continue;
    }
    StartEncode(r, i, q);
    ready = false;
  }
  return ready;
}

void Engine::Impl::Admit() {
  // FCFS by priority, except that a request whose media are still being encoded lets later
  // ones pass (its encode runs between steps; it needs no KV blocks until then).
  for (auto it = waiting_.begin();
       it != waiting_.end() && static_cast<int64_t>(running_.size()) < options_.max_running;) {
    RequestState& r = **it;
    kv::CachedPrefix prefix = kv_.FindCachedPrefix(r.KeyInput());
    if (!EnsureMedia(r, prefix.num_tokens)) {
      ++it;
      continue;
    }
    if (!kv_.AllocateSlots(r.id, 0, &prefix)) break;  // wait for blocks
    r.num_computed = prefix.num_tokens;
    if (!r.admitted_once) {
      r.admitted_once = true;
      r.admit_ns = NowNs();
      // Waiting time; encoder time (spent before admission) is reported apart.
      r.stats.queue_ms = std::max(0.0, double(r.admit_ns - r.submit_ns) * 1e-6 - r.encode_ms);
      r.stats.cached_tokens = std::min(prefix.num_tokens, r.num_prompt);
    }
    r.status = RequestStatus::kRunning;
    it = waiting_.erase(it);
    running_.push_back(&r);
  }
}

void Engine::Impl::Preempt(RequestState& r) {
  kv_.Free(r.id);
  r.num_computed = 0;
  r.status = RequestStatus::kWaiting;
  running_.remove(&r);
  waiting_.push_front(&r);
  ++r.stats.preemptions;
  ++preemptions_;
}

std::vector<StepItem> Engine::Impl::Schedule() {
  std::vector<StepItem> items;
  int64_t budget = options_.max_batch_tokens;
  // Two passes: decode tokens first (one each, keeps inter-token latency flat), then chunks
  // of prefill with what is left of the budget, capped while streams decode so that a long
  // prompt (e.g. a large image's tokens) is spread over steps instead of stalling them.
  for (int pass = 0; pass < 2 && budget > 0; ++pass) {
    if (pass == 1 && !items.empty()) {
      budget = std::min(budget, PrefillAllowance(static_cast<int64_t>(items.size())));
    }
    std::vector<RequestState*> order(running_.begin(), running_.end());
    for (RequestState* r : order) {
      if (budget <= 0) break;
      if (r->status != RequestStatus::kRunning) continue;  // preempted earlier in this step
      const int64_t pending = static_cast<int64_t>(r->tokens.size()) - r->num_computed;
      const bool decoding = r->num_computed >= r->num_prompt;
      if (pending <= 0 || (pass == 0) != decoding) continue;
      const int64_t n = std::min(pending, budget);
      bool ok = true;
      while (!kv_.AllocateSlots(r->id, n)) {
        // Out of blocks: preempt the newest running request not already in this step.
        RequestState* victim = running_.back();
        bool scheduled = std::any_of(items.begin(), items.end(),
                                     [&](const StepItem& it) { return it.request == victim; });
        if (victim == r || scheduled) {
          Preempt(*r);
          ok = false;
          break;
        }
        Preempt(*victim);
      }
      if (!ok) continue;
      items.push_back({r, r->num_computed, n,
                       r->num_computed + n == static_cast<int64_t>(r->tokens.size())});
      budget -= n;
    }
  }
  return items;
}

}  // namespace ocular::engine
