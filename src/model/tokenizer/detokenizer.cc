#include "model/tokenizer/detokenizer.h"

#include <algorithm>
#include <span>
#include <utility>

#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, DetokenizerOptions options)
    : tokenizer_(&tokenizer), options_(std::move(options)) {
  // Ill-formed stop strings could never match the (always well-formed) decoded text, and a
  // partial match of one could split a character; they are dropped like empty ones.
  std::erase_if(options_.stop_strings,
                [](const std::string& s) { return s.empty() || !IsValidUtf8(s); });
}

Result<StreamChunk> IncrementalDetokenizer::Add(int32_t id) {
  StreamChunk chunk;
  if (stopped_) return chunk;
  RETURN_IF_ERROR(tokenizer_->AppendBytes(std::span<const int32_t>(&id, 1),
                                          options_.skip_special_tokens, &pending_bytes_));
  const size_t used = AppendLossyUtf8Prefix(pending_bytes_, &held_);
  pending_bytes_.erase(0, used);
  Release(/*final=*/false, &chunk);
  return chunk;
}

StreamChunk IncrementalDetokenizer::Finish() {
  StreamChunk chunk;
  if (stopped_) return chunk;
  AppendLossyUtf8(pending_bytes_, &held_);
  pending_bytes_.clear();
  Release(/*final=*/true, &chunk);
  return chunk;
}

void IncrementalDetokenizer::Release(bool final, StreamChunk* chunk) {
  // Earliest stop string occurrence (ties: the first listed). Occurrences can only start in
  // held_: anything that could begin one was held back.
  size_t best_pos = std::string::npos;
  int best_index = -1;
  for (size_t i = 0; i < options_.stop_strings.size(); ++i) {
    const size_t pos = held_.find(options_.stop_strings[i]);
    if (pos < best_pos) {
      best_pos = pos;
      best_index = static_cast<int>(i);
    }
  }
  if (best_index >= 0) {
    chunk->text.append(held_, 0, best_pos);
    chunk->stopped = true;
    chunk->stop_index = best_index;
    stopped_ = true;
    held_.clear();
    pending_bytes_.clear();
    return;
  }
  const size_t keep = final ? 0 : HeldStopPrefixLength();
  chunk->text.append(held_, 0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
}

size_t IncrementalDetokenizer::HeldStopPrefixLength() const {
  size_t best = 0;
  const std::string_view held(held_);
  for (const std::string& stop : options_.stop_strings) {
    for (size_t k = std::min(stop.size() - 1, held.size()); k > best; --k) {
      if (held.substr(held.size() - k) == std::string_view(stop).substr(0, k)) {
        best = k;
        break;
      }
    }
  }
  return best;
}

}  // namespace ocular::tokenizer
