// Resumable vision encodes between engine steps, and the interleaving budgets.
//
// A request whose media miss the feature cache gets an encode job (shared with any other
// waiting request that needs the same features). Each engine step runs encoder chunks for a
// bounded time: while streams decode, a fraction of a decode step (minus the step's prefill
// share), so their inter-token latency stays flat; with nothing decoding, a longer slice.
// Finished features go to the feature cache and to every waiting request.
#include <algorithm>

#include "base/clock.h"
#include "engine/engine_impl.h"

namespace ocular::engine {
namespace {

constexpr double kEmaWeight = 0.2;           // weight of the newest observation
constexpr int64_t kIdleSliceNs = 100000000;  // encoder slice when nothing decodes (100 ms)
constexpr double kDefaultDecodeStepNs = 20e6;  // before the first decode step is measured

void Ema(double* avg, double x) { *avg = *avg == 0 ? x : (1 - kEmaWeight) * *avg + kEmaWeight * x; }

}  // namespace

void StepCosts::Observe(int64_t decode_tokens, int64_t prefill_tokens, int64_t step_ns) {
  if (prefill_tokens == 0) {
    if (decode_tokens > 0) Ema(&decode_step_ns, double(step_ns));
    return;
  }
  // Marginal prefill cost: what the step took beyond a decode step (or all of it).
  double extra = double(step_ns) - (decode_tokens > 0 ? decode_step_ns : 0.0);
  Ema(&prefill_token_ns, std::max(0.0, extra) / double(prefill_tokens));
}

int64_t Engine::Impl::PrefillAllowance() const {
  if (options_.interleave_fraction <= 0 || costs_.prefill_token_ns <= 0 ||
      costs_.decode_step_ns <= 0) {
    return options_.max_batch_tokens;  // nothing measured yet
  }
  const double allowed =
      options_.interleave_fraction * costs_.decode_step_ns / costs_.prefill_token_ns;
  return std::clamp<int64_t>(static_cast<int64_t>(allowed), 1, options_.max_batch_tokens);
}

void Engine::Impl::StartEncode(RequestState& r, int i, const features::FeatureQuery& q) {
  r.media_encoding[i] = 1;
  const PreparedMedia& m = r.in.media[i];
  for (auto& job : encode_jobs_) {
    if (job->key == q.key && job->grid == m.grid_thw) {
      job->waiters.emplace_back(r.id, i);
      return;
    }
  }
  auto job = std::make_unique<EncodeJob>();
  job->key = q.key;
  job->phash = m.phash;
  job->pixels = m.pixel_values;
  job->grid = m.grid_thw;
  qwen3vl::VisionInput vin{job->pixels->data(), m.grid_thw[0], m.grid_thw[1], m.grid_thw[2]};
  qwen3vl::VisionChunking chunking;
  chunking.rows = options_.encoder_chunk_rows;
  auto state = model_.vision().Begin(std::span<const qwen3vl::VisionInput>(&vin, 1), chunking);
  CHECK(state.ok()) << state.status().ToString();  // inputs were validated at Submit
  job->state = std::move(*state);
  job->waiters.emplace_back(r.id, i);
  encode_jobs_.push_back(std::move(job));
}

void Engine::Impl::DropEncodeWaiter(RequestId id) {
  for (auto it = encode_jobs_.begin(); it != encode_jobs_.end();) {
    auto& w = (*it)->waiters;
    w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& p) { return p.first == id; }),
            w.end());
    it = w.empty() ? encode_jobs_.erase(it) : it + 1;
  }
}

bool Engine::Impl::RunEncoder(bool decoding, int64_t prefill_tokens) {
  if (encode_jobs_.empty()) return false;
  const int64_t start = NowNs();
  int64_t max_chunks = -1, deadline = 0;
  if (options_.encoder_budget_patches > 0) {
    max_chunks = std::max<int64_t>(1, options_.encoder_budget_patches /
                                          std::max<int64_t>(1, options_.encoder_chunk_rows));
  } else if (decoding) {
    const double step = costs_.decode_step_ns > 0 ? costs_.decode_step_ns : kDefaultDecodeStepNs;
    const double budget = options_.interleave_fraction * step -
                          double(prefill_tokens) * costs_.prefill_token_ns;
    deadline = start + std::max<int64_t>(1, static_cast<int64_t>(budget));
  } else {
    deadline = start + kIdleSliceNs;
  }
  while (!encode_jobs_.empty()) {
    EncodeJob& job = *encode_jobs_.front();
    const int64_t t0 = NowNs();
    const bool done = model_.vision().Advance(*job.state, max_chunks, deadline);
    const int64_t t1 = NowNs();
    job.spent_ns += t1 - t0;
    if (done) {
      std::vector<qwen3vl::VisionOutput> out = model_.vision().Finish(*job.state);
      const qwen3vl::VisionOutput& vo = out[0];
      const int64_t hidden = model_.config().text.hidden_size;
      auto entry = std::make_shared<features::FeatureEntry>();
      entry->num_tokens = vo.num_tokens;
      entry->grid = {job.grid[0], job.grid[1], job.grid[2]};
      entry->encode_ns = job.spent_ns;
      entry->embeddings = features::FeatureArray::Zeros(vo.num_tokens, hidden);
      std::copy(vo.main.begin(), vo.main.end(), entry->embeddings.floats());
      for (const auto& level : vo.deepstack) {
        features::FeatureArray a = features::FeatureArray::Zeros(vo.num_tokens, hidden);
        std::copy(level.begin(), level.end(), a.floats());
        entry->deepstack.push_back(std::move(a));
      }
      features::FeatureLease lease = feature_cache_.Insert(job.key, entry, job.phash);
      const double ms = double(job.spent_ns) * 1e-6;
      for (const auto& [id, i] : job.waiters) {
        auto it = requests_.find(id);
        if (it == requests_.end() || it->second->status == RequestStatus::kFinished) continue;
        RequestState& r = *it->second;
        r.features[i] = entry;
        r.media_encoding[i] = 0;
        if (lease) r.leases[i] = std::move(lease);  // the first waiter pins the entry
        r.encode_ms += ms;
        r.stats.media[i].cache = MediaCacheResult::kMiss;
        r.stats.media[i].encode_ms += ms;
      }
      encode_jobs_.pop_front();
    }
    if (max_chunks >= 0 || (deadline > 0 && NowNs() >= deadline)) break;
  }
  return true;
}

}  // namespace ocular::engine
