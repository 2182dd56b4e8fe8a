#include "model/qwen3vl/sequence.h"

#include <algorithm>
#include <numeric>
#include <string>

namespace ocular::qwen3vl {

Result<std::vector<EmbeddingSplice>> BuildSplices(const ModelConfig& config,
                                                  std::span<const int32_t> ids,
                                                  std::span<const VisionOutput> media) {
  const int64_t image = config.tokens.image_token_id, video = config.tokens.video_token_id;
  const int64_t hidden = config.text.hidden_size;
  std::vector<EmbeddingSplice> splices;
  size_t item = 0;
  int64_t offset = 0;  // rows of media[item] already used
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != image && ids[i] != video) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < ids.size() && ids[end] == ids[i]) ++end;
    int64_t run = static_cast<int64_t>(end - i);
    while (run > 0) {
      if (item >= media.size()) {
        return InvalidArgument("prompt has more media placeholder tokens than media features");
      }
      const VisionOutput& m = media[item];
      int64_t take = std::min(run, m.num_tokens - offset);
      EmbeddingSplice sp;
      sp.row = static_cast<int64_t>(i);
      sp.num_rows = take;
      sp.main = m.main.data() + offset * hidden;
      for (const auto& level : m.deepstack) sp.deepstack.push_back(level.data() + offset * hidden);
      splices.push_back(std::move(sp));
      i += static_cast<size_t>(take);
      run -= take;
      offset += take;
      if (offset == m.num_tokens) {
        ++item;
        offset = 0;
      }
    }
  }
  if (item != media.size() || offset != 0) {
    return InvalidArgument("media features (" + std::to_string(media.size()) +
                           " items) do not match the prompt's placeholder tokens");
  }
  return splices;
}

std::optional<EmbeddingSplice> ClipSplice(const EmbeddingSplice& splice, int64_t begin,
                                          int64_t end, int64_t hidden) {
  const int64_t lo = std::max(splice.row, begin);
  const int64_t hi = std::min(splice.row + splice.num_rows, end);
  if (lo >= hi) return std::nullopt;
  const int64_t skip = (lo - splice.row) * hidden;  // feature values before the clipped rows
  EmbeddingSplice c;
  c.row = lo - begin;
  c.num_rows = hi - lo;
  c.main = splice.main + skip;
  for (const float* d : splice.deepstack) c.deepstack.push_back(d + skip);
  return c;
}

SequenceRunner::SequenceRunner(Qwen3VLModel& model, int64_t max_tokens, DType kv_dtype,
                               int block_size)
    : model_(model),
      kv_(model.config().text.num_layers, (max_tokens + block_size - 1) / block_size + 1,
          block_size, static_cast<int>(model.config().text.num_kv_heads),
          static_cast<int>(model.config().text.head_dim), kv_dtype) {
  block_table_.resize(static_cast<size_t>(kv_.num_blocks()));
  std::iota(block_table_.begin(), block_table_.end(), 0);
}

Status SequenceRunner::Run(std::span<const int32_t> ids, const int64_t* pos_t,
                           const int64_t* pos_h, const int64_t* pos_w,
                           std::span<const EmbeddingSplice> splices, bool want_logits,
                           std::vector<float>* logits) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (num_cached_ + n > kv_.capacity_tokens()) {
    return ResourceExhausted("sequence longer than its KV cache (" +
                             std::to_string(kv_.capacity_tokens()) + " tokens)");
  }
  std::vector<int64_t> slots(static_cast<size_t>(n));
  std::iota(slots.begin(), slots.end(), num_cached_);  // contiguous blocks 0, 1, 2, ...
  const int64_t q_start = 0;
  const int32_t q_count = static_cast<int32_t>(n);
  const int32_t kv_len = static_cast<int32_t>(num_cached_ + n);
  const int32_t* table = block_table_.data();
  int64_t last_row = n - 1;
  DecoderBatch b;
  b.num_tokens = n;
  b.token_ids = ids.data();
  b.pos_t = pos_t;
  b.pos_h = pos_h;
  b.pos_w = pos_w;
  b.kv_slots = slots.data();
  b.num_seqs = 1;
  b.q_starts = &q_start;
  b.q_counts = &q_count;
  b.kv_lens = &kv_len;
  b.block_tables = &table;
  b.splices = splices;
  if (want_logits) {
    b.logit_rows = std::span<const int64_t>(&last_row, 1);
    logits->resize(static_cast<size_t>(model_.text().vocab_size()));
  }
  RETURN_IF_ERROR(model_.text().Forward(b, kv_.views(), want_logits ? logits->data() : nullptr));
  num_cached_ += n;
  return OkStatus();
}

Status SequenceRunner::Prefill(std::span<const int32_t> ids, const int64_t* pos_t,
                               const int64_t* pos_h, const int64_t* pos_w,
                               std::span<const EmbeddingSplice> splices,
                               std::vector<float>* logits, int64_t chunk_tokens) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return InvalidArgument("empty prompt");
  if (chunk_tokens <= 0) chunk_tokens = n;
  for (int64_t begin = 0; begin < n; begin += chunk_tokens) {
    const int64_t end = std::min(n, begin + chunk_tokens);
    // Clip the splices to this chunk, rebasing rows to the chunk start.
    std::vector<EmbeddingSplice> local;
    const int64_t hidden = model_.config().text.hidden_size;
    for (const EmbeddingSplice& sp : splices) {
      if (auto c = ClipSplice(sp, begin, end, hidden)) local.push_back(std::move(*c));
    }
    RETURN_IF_ERROR(Run(ids.subspan(begin, end - begin), pos_t + begin, pos_h + begin,
                        pos_w + begin, local, end == n, logits));
  }
  return OkStatus();
}

Status SequenceRunner::Step(int32_t token, int64_t position, std::vector<float>* logits) {
  return Run(std::span<const int32_t>(&token, 1), &position, &position, &position, {}, true,
             logits);
}

}  // namespace ocular::qwen3vl
