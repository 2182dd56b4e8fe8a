// The Qwen3 text decoder of Qwen3-VL (spec/qwen3-vl.md section 4): RMSNorm, per-head q/k
// norm, interleaved M-RoPE on 3-D positions, causal GQA attention over a paged KV cache,
// SwiGLU, DeepStack features added after the first layers at visual rows, tied or separate
// LM head.
//
// One Forward call runs a flat batch of new tokens from several sequences (continuous
// batching, chunked prefill and decode mixed): the batch is plain structure-of-arrays data
// built once per step by the caller (STYLE.md rule 14).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/huge_page_allocator.h"
#include "base/status.h"
#include "kernels/kernels.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/runtime_weights.h"

namespace ocular::qwen3vl {

// Rows [row, row + num_rows) of the batch take their input embeddings from `main` instead of
// the token embedding table, and get deepstack[k] added after decoder layer k.
struct EmbeddingSplice {
  int64_t row = 0;
  int64_t num_rows = 0;
  const float* main = nullptr;                // [num_rows, hidden] f32
  std::vector<const float*> deepstack;        // [levels] -> [num_rows, hidden] f32
};

struct DecoderBatch {
  int64_t num_tokens = 0;
  const int32_t* token_ids = nullptr;             // [T]
  const int64_t* pos_t = nullptr;                 // [T] M-RoPE positions, per axis
  const int64_t* pos_h = nullptr;                 // [T]
  const int64_t* pos_w = nullptr;                 // [T]
  const int64_t* kv_slots = nullptr;              // [T] cache slot of each new token
  // Sequences (see kernels::PagedAttentionArgs): rows of sequence s are
  // [q_starts[s], q_starts[s] + q_counts[s]).
  int num_seqs = 0;
  const int64_t* q_starts = nullptr;              // [S]
  const int32_t* q_counts = nullptr;              // [S]
  const int32_t* kv_lens = nullptr;               // [S] cached tokens after this step
  const int32_t* const* block_tables = nullptr;   // [S]
  std::span<const EmbeddingSplice> splices;
  std::span<const int64_t> logit_rows;            // rows whose logits are wanted, in order
};

// Per-layer KV cache views, owned by the caller (the engine's runner).
using KvViews = std::span<const kernels::PagedKvView>;

struct DecoderDump {
  std::vector<std::vector<float>> layer_out;  // [layers][T, hidden] after each layer
};

class TextDecoder {
 public:
  TextDecoder(const ModelConfig& config, const RuntimeWeights& weights,
              kernels::ComputeContext& ctx, kernels::Precision precision);

  // logits: [logit_rows.size(), vocab] f32. Validates ids, splices and sequence ranges.
  Status Forward(const DecoderBatch& batch, KvViews kv, float* logits,
                 DecoderDump* dump = nullptr);

  int64_t vocab_size() const { return w_.lm_head.rows; }

 private:
  Status Validate(const DecoderBatch& batch, KvViews kv) const;
  void Layer(int l, const DecoderBatch& batch, const kernels::PagedKvView& kv, const float* cos,
             const float* sin, float* x);

  const TextConfig& tc_;
  const TextRt& w_;
  kernels::ComputeContext& ctx_;
  kernels::Precision precision_;

  // Activation buffers reused by every layer and every call: allocating them per layer cost
  // a page fault per fresh page (the 512-token prefill touched ~1 GB of new pages, about a
  // fifth of its time). Sized for the largest batch seen; contents do not persist.
  struct Workspace {
    LargeVector<float> x;         // [T, h] residual stream
    LargeVector<float> a;         // [T, h] normed input / product output
    LargeVector<float> q, o;      // [T, H*hd]
    LargeVector<float> k, v;      // [T, K*hd]
    LargeVector<float> gate, up;  // [T, f]
    LargeVector<float> cos, sin;  // [T, hd/2]
  };
  Workspace ws_;
  int64_t attention_ns_ = 0;  // this forward's attention time (debug log)
};

}  // namespace ocular::qwen3vl
