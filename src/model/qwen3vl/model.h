// Qwen3VLModel: a loaded checkpoint ready to run: its files, runtime weight views, the vision
// encoder and the text decoder.
#pragma once

#include <filesystem>
#include <memory>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "kernels/kernels.h"
#include "model/qwen3vl/checkpoint.h"
#include "model/qwen3vl/resident_weights.h"
#include "model/qwen3vl/runtime_weights.h"
#include "model/qwen3vl/text_decoder.h"
#include "model/qwen3vl/vision_encoder.h"

namespace ocular::qwen3vl {

class Qwen3VLModel {
 public:
  // Opens `path` (see OpenCheckpoint) and prepares it for `ctx` (which must outlive it).
  // `placement`: see resident_weights.h (copied: faster decode; mapped: shared, faster load).
  static Result<std::unique_ptr<Qwen3VLModel>> Load(
      const std::filesystem::path& path, const std::filesystem::path& mmproj,
      kernels::ComputeContext& ctx, kernels::Precision precision,
      WeightPlacement placement = WeightPlacement::kCopied);

  const ModelConfig& config() const { return checkpoint_->config; }
  const Checkpoint& checkpoint() const { return *checkpoint_; }
  // Folder holding the tokenizer, chat template and preprocessor files (for GGUF: the GGUF's
  // folder; its metadata carries the tokenizer and template too).
  std::filesystem::path dir() const;
  bool has_vision() const { return vision_ != nullptr; }
  // Whether the text matrices were packed for the int8 GEMV at load (resident_weights.h).
  bool text_packed() const {
    return !weights_.text.layers.empty() && weights_.text.layers[0].q.packed();
  }
  VisionEncoder& vision() { return *vision_; }
  TextDecoder& text() { return *text_; }
  kernels::ComputeContext& ctx() { return ctx_; }

 private:
  Qwen3VLModel(kernels::ComputeContext& ctx) : ctx_(ctx) {}
  kernels::ComputeContext& ctx_;
  std::unique_ptr<Checkpoint> checkpoint_;
  RuntimeWeights weights_;
  AlignedBuffer text_store_;  // the text matrices under WeightPlacement::kCopied
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<TextDecoder> text_;
};

}  // namespace ocular::qwen3vl
