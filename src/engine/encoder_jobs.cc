// Resumable vision encodes between engine steps, and the interleaving budgets.
//
// A request whose media miss the feature cache gets an encode job (shared with any other
// waiting request that needs the same features). Each engine step runs encoder chunks for a
// bounded time: while streams decode, a fraction of a decode step (minus the step's prefill
// share), so their inter-token latency stays flat; with nothing decoding, a longer slice.
// Finished features go to the feature cache and to every waiting request.
#include <algorithm>

#include "base/clock.h"
#include "base/log.h"
#include "engine/engine_impl.h"

namespace ocular::engine {
namespace {

constexpr double kEmaWeight = 0.2;           // weight of the newest observation
constexpr int64_t kIdleSliceNs = 100000000;  // encoder slice when nothing decodes (100 ms)
constexpr double kDefaultDecodeStepNs = 20e6;
constexpr int64_t kFirstChunkRows = 64;  // encoder chunk rows before any chunk was measured  //
                                         // before the first decode step is measured

void Ema(double* avg, double x) { *avg = *avg == 0 ? x : (1 - kEmaWeight) * *avg + kEmaWeight * x; }

}  // namespace

void StepCosts::Observe(int64_t decode_tokens, int64_t prefill_tokens, int64_t step_ns,
                        int64_t gemv_max_rows) {
  if (prefill_tokens == 0) {
    if (decode_tokens > 0) Ema(&decode_step_ns, double(step_ns));
    return;
  }
  // Marginal prefill cost: what the step took beyond a decode step (which reads the weights
  // anyway). A ratio of averages, not an average of ratios: a noisy step carrying one or two
  // prefill tokens would otherwise read as a huge per-token cost and shrink the allowance to
  // a token per step (a prompt then takes hundreds of steps, each of them a mixed step).
  const int g = decode_tokens + prefill_tokens <= gemv_max_rows ? 0 : 1;
  const double extra = std::max(0.0, double(step_ns) - decode_step_ns);
  Ema(&prefill_extra_ns[g], extra);
  Ema(&prefill_tokens_avg[g], double(prefill_tokens));
  prefill_token_ns[g] = prefill_extra_ns[g] / prefill_tokens_avg[g];
}

double StepCosts::PrefillTokenNs(int64_t rows, int64_t gemv_max_rows) const {
  const int g = rows <= gemv_max_rows ? 0 : 1;
  return prefill_token_ns[g] > 0 ? prefill_token_ns[g] : prefill_token_ns[1 - g];
}

int64_t Engine::Impl::PrefillAllowance(int64_t decode_tokens) const {
  const int64_t gemv = model_.ctx().options().gemv_max_rows;
  const double gemv_cost = costs_.PrefillTokenNs(gemv, gemv);
  const double gemm_cost = costs_.PrefillTokenNs(gemv + 1, gemv);
  if (options_.interleave_fraction <= 0 || gemv_cost <= 0 || costs_.decode_step_ns <= 0) {
    return options_.max_batch_tokens;  // nothing measured yet
  }
  // No floor above one token: on the 2-core development host a decode step carrying 7
  // prefill rows through the GEMV took 2.5x a decode step (the q8_0 GEMV is not purely
  // bandwidth-bound there), so "a few rows ride for free" does not hold in general.
  const double budget = options_.interleave_fraction * costs_.decode_step_ns;
  int64_t best = 0;
  if (decode_tokens < gemv) {  // prompt rows that keep the step on the GEMV path
    best = std::min<int64_t>(gemv - decode_tokens, static_cast<int64_t>(budget / gemv_cost));
  }
  // Enough rows to leave the GEMV path, if that many fit.
  const int64_t gemm_tokens = static_cast<int64_t>(budget / gemm_cost);
  if (decode_tokens + gemm_tokens > gemv) best = std::max(best, gemm_tokens);
  return std::clamp<int64_t>(best, 1, options_.max_batch_tokens);
}

double Engine::Impl::EncoderBudgetNs(int64_t decode_tokens, int64_t prefill_tokens) const {
  const double step = costs_.decode_step_ns > 0 ? costs_.decode_step_ns : kDefaultDecodeStepNs;
  const int64_t gemv = model_.ctx().options().gemv_max_rows;
  return options_.interleave_fraction * step -
         double(prefill_tokens) * costs_.PrefillTokenNs(decode_tokens + prefill_tokens, gemv);
}

int64_t Engine::Impl::EncoderChunkRows(bool decoding) const {
  // Tests ask for fixed plans (encoder_budget_patches).
  if (options_.encoder_budget_patches > 0 || options_.interleave_fraction <= 0) {
    return options_.encoder_chunk_rows;
  }
  if (costs_.encoder_row_ns <= 0 || costs_.decode_step_ns <= 0) {
    // Nothing measured yet. With streams decoding, small chunks: a first 256-row chunk
    // (~4 GFLOP for the 2B model's ViT MLP) took over a second on a loaded 2-core host, longer
    // than the decode step itself. With nobody decoding, the option.
    return decoding ? std::min<int64_t>(options_.encoder_chunk_rows, kFirstChunkRows)
                    : options_.encoder_chunk_rows;
  }
  // The largest chunk (an MLP chunk) should fit in a decode step's encoder budget: a chunk
  // always runs to its end, so a chunk larger than the budget is an inter-token latency
  // spike on every step that runs one. The vision encoder rounds up to its minimum (whole
  // merge windows above the GEMV threshold).
  const double rows = EncoderBudgetNs(1, 0) / costs_.encoder_row_ns;
  return std::clamp<int64_t>(static_cast<int64_t>(rows), 1, options_.encoder_chunk_rows);
}

void Engine::Impl::StartEncode(RequestState& r, int i, const features::FeatureQuery& q) {
  r.media_encoding[i] = 1;
  const PreparedMedia& m = r.in.media[i];
  // In-flight encodes are merged: a request that needs features another request is already
  // encoding joins that job (same media id, salt and grid) instead of encoding them again.
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
  // The encoder state (its buffers are ~100 MB for a 1280x720 image) is set up by the
  // encoder's first slot in RunEncoder, not here: admission runs inside a step that streams
  // wait on, and the encoder slots are the budgeted part of a step.
  job->waiters.emplace_back(r.id, i);
  encode_jobs_.push_back(std::move(job));
  ++encodes_started_;
}

void Engine::Impl::DropEncodeWaiter(RequestId id) {
  for (auto it = encode_jobs_.begin(); it != encode_jobs_.end();) {
    auto& w = (*it)->waiters;
    w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& p) { return p.first == id; }),
            w.end());
    it = w.empty() ? encode_jobs_.erase(it) : it + 1;
  }
}

void Engine::Impl::DeliverEncode(EncodeJob& job) {
  // The encoder's output buffers become the entry's arrays: no copy (a copy of a 1280x720
  // image's ~29 MB into fresh pages cost 100+ ms on a virtual machine).
  qwen3vl::VisionOutputBuffers vo = model_.vision().TakeOutputs(*job.state);
  const int64_t hidden = model_.config().text.hidden_size;
  CHECK_EQ(vo.main.size(), static_cast<size_t>(vo.num_tokens * hidden) * sizeof(float));
  auto entry = std::make_shared<features::FeatureEntry>();
  entry->num_tokens = vo.num_tokens;
  entry->grid = {job.grid[0], job.grid[1], job.grid[2]};
  entry->encode_ns = job.spent_ns;
  entry->embeddings = features::FeatureArray{vo.num_tokens, hidden, std::move(vo.main)};
  for (AlignedBuffer& level : vo.deepstack) {
    entry->deepstack.push_back(features::FeatureArray{vo.num_tokens, hidden, std::move(level)});
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
}

int64_t Engine::Impl::RunEncoder(int64_t decode_tokens, int64_t prefill_tokens) {
  const bool decoding = decode_tokens > 0;
  if (encode_jobs_.empty()) return 0;
  const int64_t start = NowNs();
  int64_t max_chunks = -1, deadline = 0;
  if (options_.encoder_budget_patches > 0) {
    max_chunks = std::max<int64_t>(
        1, options_.encoder_budget_patches / std::max<int64_t>(1, options_.encoder_chunk_rows));
  } else if (decoding) {
    deadline = start + std::max<int64_t>(
                           1, static_cast<int64_t>(EncoderBudgetNs(decode_tokens, prefill_tokens)));
  } else {
    deadline = start + kIdleSliceNs;
  }
  int64_t chunks = 0;
  while (!encode_jobs_.empty()) {
    EncodeJob& job = *encode_jobs_.front();
    // A chunk runs to its end: do not start one that is expected to overshoot the deadline
    // (its cost is predicted by the job's previous chunk), except the step's first chunk,
    // which keeps the encode moving.
    if (chunks > 0 && deadline > 0 && NowNs() + job.last_chunk_ns > deadline) break;
    const int64_t t0 = NowNs();
    bool began = false, computed = false;
    if (!job.state) {
      // First slot: set up the state (allocations, no compute), with chunks sized for what
      // runs now.
      job.chunking.rows = EncoderChunkRows(decoding);
      // The rows the encoder will really use (it rounds up the same way, see VisionChunking).
      const int64_t mm =
          model_.config().vision.spatial_merge_size * model_.config().vision.spatial_merge_size;
      job.chunk_rows =
          (std::max(job.chunking.rows, mm * (model_.ctx().options().gemv_max_rows + 1)) + mm - 1) /
          mm * mm;
      qwen3vl::VisionInput vin{job.pixels->data(), job.grid[0], job.grid[1], job.grid[2]};
      auto state =
          model_.vision().Begin(std::span<const qwen3vl::VisionInput>(&vin, 1), job.chunking);
      CHECK(state.ok()) << state.status().ToString();  // inputs were validated at Submit
      job.state = std::move(*state);
      began = true;
    }
    std::string cursor;
    if (!job.state->done() && (max_chunks >= 0 || !began)) {
      if (spdlog::should_log(spdlog::level::debug)) cursor = job.state->cursor();
      model_.vision().Advance(*job.state, max_chunks >= 0 ? max_chunks : 1);
      computed = true;
    }
    // The outputs are handed over in a slot of their own (copies and the cache insert:
    // ~100 MB of memory traffic for a 1280x720 image), except under a fixed per-step budget
    // (tests), where plans stay as before.
    const bool finished = job.state->done() && (max_chunks >= 0 || (!began && !computed));
    if (finished) DeliverEncode(job);
    const int64_t t1 = NowNs();
    LOG_DEBUG("engine: encoder slot {:.1f} ms: {}{}{}", double(t1 - t0) * 1e-6,
              began ? "begin " : "", computed ? cursor : std::string(),
              finished ? " deliver" : "");
    ++chunks;
    job.spent_ns += t1 - t0;
    job.last_chunk_ns = t1 - t0;
    if (computed && max_chunks < 0) {
      // Per-row cost of the job's chunks, following the largest ones (MLP chunks cost about
      // three times a QKV chunk): rises at once, decays slowly.
      const double x = double(t1 - t0) / double(std::max<int64_t>(1, job.chunk_rows));
      costs_.encoder_row_ns = std::max(x, 0.95 * costs_.encoder_row_ns + 0.05 * x);
    }
    if (finished) {
      encode_jobs_.pop_front();
      ++encodes_finished_;
    }
    if (max_chunks >= 0 || (deadline > 0 && NowNs() >= deadline)) break;
  }
  return chunks;
}

}  // namespace ocular::engine
