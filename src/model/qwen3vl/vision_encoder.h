// The Qwen3-VL vision tower: patch embedding, learned position embedding (bilinear,
// align-corners, merge-window order), 2-D rotary, ViT blocks with per-temporal-group attention,
// the patch merger and the DeepStack mergers (spec/qwen3-vl.md section 3).
//
// Several images and videos are encoded in one call: their patches are concatenated so the
// matrix products run once over all of them, while attention stays inside each temporal
// group of each item (no cross-item attention).
//
// Encoding is resumable: Begin() lays out the work, Advance() runs it in chunks (rows of
// patches for the matrix products, heads for attention) and can stop after any chunk, so a
// server can interleave a large image's encode with other users' decode steps. Chunk
// boundaries never change the result: every row (and every attention head) goes through the
// same kernels with the same operands whatever the chunking, so a chunked encode is
// bit-identical to a one-shot Encode() (tested).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/huge_page_allocator.h"
#include "base/mapped_file.h"
#include "base/status.h"
#include "kernels/kernels.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/runtime_weights.h"

namespace ocular::qwen3vl {

struct VisionInput {
  // [t*h*w, C*T*P*P] f32 in HF patch order (rows in merge-window order, spec 3.1).
  const float* pixel_values = nullptr;
  int64_t grid_t = 0, grid_h = 0, grid_w = 0;  // in patches; h, w multiples of the merge size
};

struct VisionOutput {
  int64_t num_tokens = 0;                   // t*h*w / merge^2
  std::vector<float> main;                  // [num_tokens, out_hidden] f32
  std::vector<std::vector<float>> deepstack;  // [levels][num_tokens, out_hidden] f32
};

// One item's encoder outputs as owned buffers (VisionEncoder::TakeOutputs).
struct VisionOutputBuffers {
  int64_t num_tokens = 0;
  AlignedBuffer main;                   // [num_tokens, out_hidden] f32
  std::vector<AlignedBuffer> deepstack;  // [levels][num_tokens, out_hidden] f32
};

// Optional per-stage dumps (golden formats) for locating a mismatch.
struct VisionDump {
  std::vector<float> patch_embed;               // [N, D] after patch embedding + position
  std::vector<std::vector<float>> block_out;    // [depth][N, D]
};

// How an encode is cut into chunks. Rows are rounded up to whole merge windows and to more
// than the kernels' GEMV threshold, so every chunk's matrix products take the same path as
// the one-shot encode; the last chunk of a phase absorbs a remainder below `rows`.
struct VisionChunking {
  int64_t rows = 256;  // patch rows per matrix-product chunk (0: whole phase at once)
  int heads = 0;       // attention heads per chunk (0: about the work of a row chunk)
  // Attention query rows per chunk, one head at a time (0: whole heads, unless one head is
  // more work than a row chunk, then about a row chunk's work). Large images: one head over
  // all 3,520 patches of a 1280x720 image is ~8x a 64-row chunk of the products.
  int64_t query_rows = 0;
};

// The progress of one resumable encode: activations of every item so far and a cursor
// (phase, layer, row or head). Owns all its buffers; the items' pixel values must stay alive
// until the encode finishes or the state is dropped.
class VisionEncodeState {
 public:
  bool done() const { return phase_ == Phase::kDone; }
  int64_t num_patches() const { return n_; }
  size_t bytes() const;  // memory held by the partial encode
  // Fraction of the work done, in [0, 1] (by estimated FLOPs).
  double progress() const;
  // Where the next chunk runs, for logs: "embed", "qkv 3", "attention 3", "mlp 3", "done".
  std::string cursor() const;

 private:
  friend class VisionEncoder;
  enum class Phase { kEmbed, kQkv, kAttention, kMlp, kDone };

  std::vector<VisionInput> items_;
  std::vector<int64_t> item_begin_;  // first patch row of each item
  std::vector<int64_t> cu_;          // attention segments: one per temporal group
  int64_t n_ = 0;
  int64_t chunk_rows_ = 0;
  int chunk_heads_ = 0;
  int64_t chunk_query_rows_ = 0;  // attention query rows per chunk (0: all)
  VisionDump* dump_ = nullptr;

  LargeVector<float> x_;                      // [N, D] f32 residual stream
  LargeVector<float> cos_, sin_;              // [N, head_dim/2] f32
  LargeVector<float> qkv_;                    // [N, 3D] f32 of the current layer: q | k | v
  LargeVector<float> attn_;                   // [N, D] f32 attention output of the layer
  // Per-chunk temporaries kept across layers: a fresh multi-MB vector per call cost a page
  // fault and zeroing per 4 KiB page, which took more time than the products it fed.
  LargeVector<float> h_;                      // [chunk rows, D] f32
  LargeVector<float> mid_;                    // [chunk rows, F] f32
  // The outputs, in buffers of their own (Large: huge pages) that TakeOutputs hands over.
  std::vector<AlignedBuffer> deepstack_;      // [levels][N/4, out_hidden] f32
  AlignedBuffer main_;                        // [N/4, out_hidden] f32

  Phase phase_ = Phase::kEmbed;
  size_t layer_ = 0;
  size_t item_ = 0;   // kEmbed: current item
  int64_t pos_ = 0;   // row (kEmbed: within the item) or head cursor of the phase
  int64_t qpos_ = 0;  // kAttention: first query row of the next chunk
  double work_done_ = 0, work_total_ = 0;  // estimated FLOPs
};

class VisionEncoder {
 public:
  // `weights` and `ctx` must outlive the encoder. Thread-compatible: one Encode at a time.
  // `mappings`: the checkpoint's file mappings, which the bf16 copies are read from.
  VisionEncoder(const ModelConfig& config, const RuntimeWeights& weights,
                kernels::ComputeContext& ctx, kernels::Precision precision,
                const std::vector<const MappedFile*>& mappings = {});

  // Validates every item's grid against its size and the config, then encodes them all.
  // One shot: Begin with whole-phase chunks, Advance to the end, Finish.
  Result<std::vector<VisionOutput>> Encode(std::span<const VisionInput> items,
                                           VisionDump* dump = nullptr);

  // Resumable encode. Begin validates like Encode and allocates the state (no compute).
  Result<std::unique_ptr<VisionEncodeState>> Begin(std::span<const VisionInput> items,
                                                   const VisionChunking& chunking = {},
                                                   VisionDump* dump = nullptr);
  // Runs chunks until the encode is done, `max_chunks` chunks ran (< 0: no limit) or the
  // monotonic clock (base/clock.h NowNs) passed `deadline_ns` (0: none). At least one chunk
  // runs when work is left. Returns state.done().
  bool Advance(VisionEncodeState& state, int64_t max_chunks, int64_t deadline_ns = 0);
  // The outputs of a finished encode, copied out; the state's buffers go back for reuse.
  std::vector<VisionOutput> Finish(VisionEncodeState& state);
  // The outputs of a finished encode of one item, handed over without a copy (a 1280x720
  // image's are ~29 MB: a copy into fresh pages cost 100+ ms on a virtual machine).
  VisionOutputBuffers TakeOutputs(VisionEncodeState& state) const;

 private:
  // Position embedding and rotary angles of rows [r0, r1) of one item (rows in merge order,
  // temporal groups one after another); x, cos, sin point at row r0.
  void AddPositionEmbedding(int64_t gh, int64_t gw, int64_t r0, int64_t r1, float* x) const;
  void RotaryCosSin(int64_t gh, int64_t gw, int64_t r0, int64_t r1, float* cos,
                    float* sin) const;
  // One chunk of the current phase; advances the cursor.
  void RunChunk(VisionEncodeState& s);
  void QkvRows(const VisionBlockRt& b, VisionEncodeState& s, int64_t r0, int64_t r1);
  // Heads [h0, h1), query rows [q0, q1) of the layer's attention.
  void AttentionHeads(VisionEncodeState& s, int h0, int h1, int64_t q0, int64_t q1);
  // Estimated FLOPs of one head's attention for query rows [q0, q1).
  double AttentionWork(const VisionEncodeState& s, int64_t q0, int64_t q1) const;
  void MlpRows(const VisionBlockRt& b, VisionEncodeState& s, int64_t r0, int64_t r1);
  void Merge(const MergerRt& m, bool norm_before_shuffle, const float* x, int64_t n,
             float* out, VisionEncodeState& s);
  int64_t ChunkEnd(const VisionEncodeState& s, int64_t pos, int64_t total) const;
  double ChunkWork(const VisionEncodeState& s, int64_t rows) const;

  // The weight the products use: its bf16 copy when one was made at construction.
  const kernels::WeightMatrix& W(const kernels::WeightMatrix& w) const;
  // An array of n floats (contents unspecified) for a new encode: the best-fitting spare one
  // left by a finished encode, else a fresh one.
  LargeVector<float> TakeSpare(int64_t n);
  // Keeps a finished encode's array for the next one (up to kMaxSpareBytes in all).
  void GiveSpare(LargeVector<float>&& v);

  const ModelConfig& config_;
  const VisionConfig& vc_;
  const VisionRt& w_;
  kernels::ComputeContext& ctx_;
  kernels::Precision precision_;
  // Under bf16 precision, every vision weight not stored in bf16 (f16 / f32 / quantized)
  // converted to bf16 once here: oneDNN multiplies bf16 weights in place, while any other
  // dtype is converted again on every call (the whole tower per encode). Costs one bf16 copy
  // of the tower (~0.8 GB for the 2B model's f16 mmproj).
  AlignedBuffer bf16_store_;                                      // all copies, bf16
  std::unordered_map<const void*, kernels::WeightMatrix> bf16_;  // source data -> bf16 view
  // The large per-encode arrays of finished encodes (residual stream, q/k/v, temporaries),
  // reused by the next Begin: first touch of fresh memory cost ~20 us per 4 KiB page on the
  // benchmark host, ~0.8 s of a 1280x720 encode's ~170 MB. Held while idle, capped.
  static constexpr size_t kMaxSpareBytes = size_t{384} << 20;
  std::vector<LargeVector<float>> spare_;
};

}  // namespace ocular::qwen3vl
