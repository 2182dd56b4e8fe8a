// The runner: turns a step plan into one flat decoder batch (structure of arrays), runs the
// forward pass, samples, detokenizes and streams events.
#include <algorithm>
#include <string>

#include "base/clock.h"
#include "engine/engine_impl.h"
#include "model/qwen3vl/sequence.h"

namespace ocular::engine {

void Engine::Impl::Execute(const std::vector<StepItem>& items) {
  const int64_t hidden = model_.config().text.hidden_size;
  const int32_t bs = kv_.block_size();
  int64_t total = 0;
  for (const StepItem& it : items) total += it.count;

  std::vector<int32_t> ids(total);               // [T]
  std::vector<int64_t> pos(3 * total);           // [3, T]
  std::vector<int64_t> slots(total);             // [T]
  std::vector<int64_t> q_starts, logit_rows;     // [S], [R]
  std::vector<int32_t> q_counts, kv_lens;        // [S]
  std::vector<std::vector<int32_t>> tables;      // [S][blocks]
  std::vector<const int32_t*> table_ptrs;        // [S]
  std::vector<qwen3vl::EmbeddingSplice> splices;
  int64_t row = 0;
  for (const StepItem& it : items) {
    RequestState& r = *it.request;
    auto table = kv_.BlockTable(r.id);
    tables.emplace_back(table.begin(), table.end());
    for (int64_t k = 0; k < it.count; ++k) {
      const int64_t i = it.start + k;
      ids[row + k] = r.tokens[i];
      for (int axis = 0; axis < 3; ++axis) pos[axis * total + row + k] = r.Position(i, axis);
      slots[row + k] = int64_t{table[i / bs]} * bs + i % bs;
    }
    for (size_t j = 0; j < r.in.spans.size(); ++j) {
      const PromptMediaSpan& s = r.in.spans[j];
      if (s.first_token + s.num_tokens <= it.start || s.first_token >= it.start + it.count) {
        continue;  // not in this chunk (its features may be released already)
      }
      // The span's splice in prompt coordinates, clipped to this chunk.
      const features::FeatureEntry& f = *r.features[s.media_index];
      const int64_t frow = r.media_row_offset[j];
      qwen3vl::EmbeddingSplice whole;
      whole.row = s.first_token;
      whole.num_rows = s.num_tokens;
      whole.main = f.embeddings.floats() + frow * hidden;
      for (const auto& level : f.deepstack) whole.deepstack.push_back(level.floats() + frow * hidden);
      auto sp = qwen3vl::ClipSplice(whole, it.start, it.start + it.count, hidden);
      sp->row += row;  // the chunk's first row in the step batch
      splices.push_back(std::move(*sp));
    }
    q_starts.push_back(row);
    q_counts.push_back(static_cast<int32_t>(it.count));
    kv_lens.push_back(static_cast<int32_t>(it.start + it.count));
    if (it.want_logits) logit_rows.push_back(row + it.count - 1);
    row += it.count;
  }
  for (const auto& t : tables) table_ptrs.push_back(t.data());

  qwen3vl::DecoderBatch b;
  b.num_tokens = total;
  b.token_ids = ids.data();
  b.pos_t = pos.data();
  b.pos_h = pos.data() + total;
  b.pos_w = pos.data() + 2 * total;
  b.kv_slots = slots.data();
  b.num_seqs = static_cast<int>(items.size());
  b.q_starts = q_starts.data();
  b.q_counts = q_counts.data();
  b.kv_lens = kv_lens.data();
  b.block_tables = table_ptrs.data();
  b.splices = splices;
  b.logit_rows = logit_rows;
  const int64_t vocab = model_.text().vocab_size();
  std::vector<float> logits(logit_rows.size() * vocab);  // [R, vocab]
  Status st = model_.text().Forward(b, kv_storage_.views(), logits.data());
  if (!st.ok()) {
    for (const StepItem& it : items) Finish(*it.request, FinishReason::kError, st);
    return;
  }

  size_t lrow = 0;
  for (const StepItem& it : items) {
    RequestState& r = *it.request;
    r.num_computed += it.count;
    kv_.CacheFullBlocks(r.id, r.KeyInput(), r.num_computed);
    // Features are only needed until the prompt's media spans are computed.
    if (r.num_computed >= r.num_prompt && !r.features.empty()) {
      std::fill(r.features.begin(), r.features.end(), nullptr);
      for (auto& l : r.leases) l.Release();
    }
    if (!it.want_logits) continue;
    std::span<const float> row_logits(logits.data() + lrow * vocab, vocab);
    ++lrow;
    auto sampled = sampler_.Sample(row_logits, r.in.sampling, r.history,
                                   static_cast<uint64_t>(r.num_generated()));
    if (!sampled.ok()) {
      Finish(r, FinishReason::kError, sampled.status());
      continue;
    }
    const int32_t token = sampled->token;
    const int64_t now = NowNs();
    if (r.first_token_ns == 0) {
      r.first_token_ns = now;
      r.stats.ttft_ms = double(now - r.submit_ns) * 1e-6;
      r.stats.prefill_ms = double(now - r.admit_ns) * 1e-6;  // encodes finish before admission
    }
    r.tokens.push_back(token);
    r.history.AddOutput(token);
    GeneratedToken g;
    g.id = token;
    g.has_logprobs = sampled->has_logprobs;
    g.logprob = sampled->logprob;
    for (const auto& t : sampled->top_logprobs) g.top_logprobs.push_back({t.token, t.logprob});
    r.pending_tokens.push_back(std::move(g));

    const bool is_stop_id =
        std::find(r.in.stop_token_ids.begin(), r.in.stop_token_ids.end(), token) !=
            r.in.stop_token_ids.end() ||
        (!r.in.ignore_eos && std::find(eos_ids_.begin(), eos_ids_.end(), token) != eos_ids_.end());
    if (is_stop_id) {
      Finish(r, FinishReason::kStop);
      continue;
    }
    auto chunk = r.detok->Add(token);
    if (chunk.ok() && !chunk->text.empty()) {
      Event e;
      e.text = std::move(chunk->text);
      e.tokens = std::move(r.pending_tokens);
      r.pending_tokens.clear();
      r.stream->Push(std::move(e));
    }
    if (chunk.ok() && chunk->stopped) {
      Finish(r, FinishReason::kStop);
    } else if (static_cast<int64_t>(r.tokens.size()) >= r.max_total_tokens) {
      Finish(r, FinishReason::kLength);
    }
  }
}

void Engine::Impl::EmitTokens(RequestState& r, bool final) {
  std::string text;
  if (final && !r.detok->stopped()) text = r.detok->Finish().text;
  if (text.empty() && r.pending_tokens.empty()) return;
  Event e;
  e.text = std::move(text);
  e.tokens = std::move(r.pending_tokens);
  r.pending_tokens.clear();
  r.stream->Push(std::move(e));
}

}  // namespace ocular::engine
