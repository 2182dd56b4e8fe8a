// SequenceRunner: runs one sequence through the decoder with its own small paged KV cache
// (contiguous blocks). Used by `ocular run`, the golden tests and benchmarks; the serving
// engine batches many sequences through TextDecoder directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/qwen3vl/kv_storage.h"
#include "model/qwen3vl/model.h"

namespace ocular::qwen3vl {

// Splices for a prompt: each run of image/video placeholder tokens takes the next rows of the
// media outputs, in order of appearance (`media` in prompt order). Every placeholder must be
// covered exactly: a count mismatch is InvalidArgument.
Result<std::vector<EmbeddingSplice>> BuildSplices(const ModelConfig& config,
                                                  std::span<const int32_t> ids,
                                                  std::span<const VisionOutput> media);

// The part of `splice` (rows in prompt token coordinates) inside tokens [begin, end), with
// its row rebased to `begin` and its feature pointers advanced to match; nullopt when they do
// not overlap. Used wherever a prompt is run in chunks (SequenceRunner, the engine's runner).
std::optional<EmbeddingSplice> ClipSplice(const EmbeddingSplice& splice, int64_t begin,
                                          int64_t end, int64_t hidden);

class SequenceRunner {
 public:
  // Room for `max_tokens` tokens (prompt + generated), rounded up to whole blocks.
  SequenceRunner(Qwen3VLModel& model, int64_t max_tokens, DType kv_dtype = DType::kF32,
                 int block_size = 16);

  // Runs the prompt (ids [L], positions [3][L] as three arrays) in chunks of `chunk_tokens`
  // (0: one chunk) and returns the logits of the last prompt token ([vocab]).
  Status Prefill(std::span<const int32_t> ids, const int64_t* pos_t, const int64_t* pos_h,
                 const int64_t* pos_w, std::span<const EmbeddingSplice> splices,
                 std::vector<float>* logits, int64_t chunk_tokens = 0);
  // Appends one generated token at M-RoPE position (p, p, p) and returns its logits.
  Status Step(int32_t token, int64_t position, std::vector<float>* logits);

  int64_t num_cached() const { return num_cached_; }

 private:
  Status Run(std::span<const int32_t> ids, const int64_t* pos_t, const int64_t* pos_h,
             const int64_t* pos_w, std::span<const EmbeddingSplice> splices, bool want_logits,
             std::vector<float>* logits);

  Qwen3VLModel& model_;
  KvStorage kv_;
  std::vector<int32_t> block_table_;  // [num_blocks] = 0, 1, 2, ...
  int64_t num_cached_ = 0;
};

}  // namespace ocular::qwen3vl
