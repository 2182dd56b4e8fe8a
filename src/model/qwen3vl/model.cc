#include "model/qwen3vl/model.h"

namespace ocular::qwen3vl {

Result<std::unique_ptr<Qwen3VLModel>> Qwen3VLModel::Load(const std::filesystem::path& path,
                                                         const std::filesystem::path& mmproj,
                                                         kernels::ComputeContext& ctx,
                                                         kernels::Precision precision) {
  std::unique_ptr<Qwen3VLModel> m(new Qwen3VLModel(ctx));
  ASSIGN_OR_RETURN(m->source_, OpenModelSource(path, mmproj));
  ASSIGN_OR_RETURN(m->weights_, BuildRuntimeWeights(m->source_->config, m->source_->weights));
  if (m->weights_.has_vision) {
    m->vision_ = std::make_unique<VisionEncoder>(m->source_->config, m->weights_, ctx, precision);
  }
  m->text_ = std::make_unique<TextDecoder>(m->source_->config, m->weights_, ctx, precision);
  return m;
}

}  // namespace ocular::qwen3vl
