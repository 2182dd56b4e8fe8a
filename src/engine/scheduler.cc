// Admission and step planning: one token budget per step shared by decode tokens and chunks
// of prefill; preemption (recompute) of the newest request when KV blocks run out.
#include <algorithm>

#include "base/clock.h"
#include "engine/engine_impl.h"

namespace ocular::engine {

bool Engine::Impl::EnsureMedia(RequestState& r, int64_t computed_prefix, int64_t* budget) {
  const int64_t hidden = model_.config().text.hidden_size;
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
    const int64_t patches = m.grid_thw[0] * m.grid_thw[1] * m.grid_thw[2];
    if (*budget <= 0) return false;
    *budget -= options_.encoder_budget_patches > 0 ? patches : *budget;
    qwen3vl::VisionInput vin{m.pixel_values->data(), m.grid_thw[0], m.grid_thw[1], m.grid_thw[2]};
    const int64_t t0 = NowNs();
    auto out = model_.vision().Encode(std::span<const qwen3vl::VisionInput>(&vin, 1));
    const int64_t dt = NowNs() - t0;
    CHECK(out.ok()) << out.status().ToString();  // inputs were validated at Submit
    qwen3vl::VisionOutput& vo = (*out)[0];
    auto entry = std::make_shared<features::FeatureEntry>();
    entry->num_tokens = vo.num_tokens;
    entry->grid = q.grid;
    entry->encode_ns = dt;
    entry->embeddings = features::FeatureArray::Zeros(vo.num_tokens, hidden);
    std::copy(vo.main.begin(), vo.main.end(), entry->embeddings.floats());
    for (const auto& level : vo.deepstack) {
      features::FeatureArray a = features::FeatureArray::Zeros(vo.num_tokens, hidden);
      std::copy(level.begin(), level.end(), a.floats());
      entry->deepstack.push_back(std::move(a));
    }
    r.features[i] = entry;
    r.leases[i] = feature_cache_.Insert(q.key, entry, m.phash);
    r.encode_ms += double(dt) * 1e-6;
    ms.cache = MediaCacheResult::kMiss;
    ms.encode_ms += double(dt) * 1e-6;
  }
  return true;
}

void Engine::Impl::Admit() {
  int64_t budget = options_.encoder_budget_patches > 0 ? options_.encoder_budget_patches : 1;
  while (!waiting_.empty() && static_cast<int64_t>(running_.size()) < options_.max_running) {
    RequestState& r = *waiting_.front();
    kv::CachedPrefix prefix = kv_.FindCachedPrefix(r.KeyInput());
    if (!EnsureMedia(r, prefix.num_tokens, &budget)) break;
    if (!kv_.AllocateSlots(r.id, 0, &prefix)) break;  // wait for blocks
    r.num_computed = prefix.num_tokens;
    if (!r.admitted_once) {
      r.admitted_once = true;
      r.admit_ns = NowNs();
      r.stats.queue_ms = double(r.admit_ns - r.submit_ns) * 1e-6;
      r.stats.cached_tokens = std::min(prefix.num_tokens, r.num_prompt);
    }
    r.status = RequestStatus::kRunning;
    waiting_.pop_front();
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
  // of prefill with what is left of the budget.
  for (int pass = 0; pass < 2 && budget > 0; ++pass) {
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
