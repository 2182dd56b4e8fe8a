#include "model/qwen3vl/model.h"

#include <cstdlib>

namespace ocular::qwen3vl {

Result<std::unique_ptr<Qwen3VLModel>> Qwen3VLModel::Load(const std::filesystem::path& path,
                                                         const std::filesystem::path& mmproj,
                                                         kernels::ComputeContext& ctx,
                                                         kernels::Precision precision,
                                                         WeightPlacement placement) {
  std::unique_ptr<Qwen3VLModel> m(new Qwen3VLModel(ctx));
  ASSIGN_OR_RETURN(m->checkpoint_, OpenCheckpoint(path, mmproj));
  RETURN_IF_ERROR(m->checkpoint_->weights_status);
  ASSIGN_OR_RETURN(m->weights_,
                   BuildRuntimeWeights(m->checkpoint_->config, m->checkpoint_->weights));
  const std::vector<const MappedFile*> mappings = Mappings(*m->checkpoint_);
  if (placement == WeightPlacement::kCopied) {
    // Under kBf16 the q8_0 / q4_0 / q4_k / q6_k text matrices take the int8 GEMV (text_decoder.cc), which
    // reads the packed layout several times faster on CPUs that have its kernel.
    // OCULAR_NO_PACK=1 keeps them row-major, for comparisons.
    const bool pack = precision == kernels::Precision::kBf16 && kernels::GemvPackingPays(ctx) &&
                      std::getenv("OCULAR_NO_PACK") == nullptr;
    m->text_store_ = CopyTextMatrices(ctx, mappings, &m->weights_.text, pack);
  }
  if (m->weights_.has_vision) {
    m->vision_ = std::make_unique<VisionEncoder>(m->checkpoint_->config, m->weights_, ctx,
                                                 precision, mappings);
  }
  m->text_ = std::make_unique<TextDecoder>(m->checkpoint_->config, m->weights_, ctx, precision);
  return m;
}

std::filesystem::path Qwen3VLModel::dir() const {
  const auto& p = checkpoint_->path;
  return std::filesystem::is_directory(p) ? p : p.parent_path();
}

}  // namespace ocular::qwen3vl
