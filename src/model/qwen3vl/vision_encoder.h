// The Qwen3-VL vision tower: patch embedding, learned position embedding (bilinear,
// align-corners, merge-window order), 2-D rotary, ViT blocks with per-temporal-group attention,
// the patch merger and the DeepStack mergers (spec/qwen3-vl.md section 3).
//
// Several images and videos are encoded in one call: their patches are concatenated so the
// matrix products run once over all of them, while attention stays inside each temporal
// group of each item (no cross-item attention).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

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

// Optional per-stage dumps (golden formats) for locating a mismatch.
struct VisionDump {
  std::vector<float> patch_embed;               // [N, D] after patch embedding + position
  std::vector<std::vector<float>> block_out;    // [depth][N, D]
};

class VisionEncoder {
 public:
  // `weights` and `ctx` must outlive the encoder. Thread-compatible: one Encode at a time.
  VisionEncoder(const ModelConfig& config, const RuntimeWeights& weights,
                kernels::ComputeContext& ctx, kernels::Precision precision);

  // Validates every item's grid against its size and the config, then encodes them all.
  Result<std::vector<VisionOutput>> Encode(std::span<const VisionInput> items,
                                           VisionDump* dump = nullptr);

 private:
  void AddPositionEmbedding(int64_t gt, int64_t gh, int64_t gw, float* x) const;
  void RotaryCosSin(int64_t gt, int64_t gh, int64_t gw, float* cos, float* sin) const;
  void Block(const VisionBlockRt& b, int64_t n, const std::vector<int64_t>& cu_seqlens,
             const float* cos, const float* sin, float* x);
  void Merge(const MergerRt& m, bool norm_before_shuffle, const float* x, int64_t n,
             float* out);

  const ModelConfig& config_;
  const VisionConfig& vc_;
  const VisionRt& w_;
  kernels::ComputeContext& ctx_;
  kernels::Precision precision_;
};

}  // namespace ocular::qwen3vl
