#include "model/qwen3vl/runtime_weights.h"

#include <cmath>
#include <string>

#include "tensor/quant.h"

namespace ocular::qwen3vl {
namespace {

Result<std::vector<float>> ToF32(TensorRef t) {
  if (t == nullptr) return std::vector<float>();
  const DTypeInfo& info = GetDTypeInfo(t->dtype);
  if (!t->supported || !info.supported || t->num_elements % info.block_elems != 0) {
    return Unimplemented(t->name + ": dtype " + t->file_dtype + " is not supported here");
  }
  std::vector<float> v(t->num_elements);
  ref::DequantizeRow(t->dtype, t->data, v.data(), static_cast<int64_t>(t->num_elements));
  return v;
}

Result<kernels::WeightMatrix> ToMatrix(TensorRef t) {
  if (t == nullptr || t->rank() < 2 || t->shape[0] <= 0) {
    return InvalidArgument(std::string(t ? t->name : "weight") + ": expected a matrix");
  }
  kernels::WeightMatrix m;
  m.dtype = t->dtype;
  m.rows = t->shape[0];
  m.cols = static_cast<int64_t>(t->num_elements) / m.rows;
  m.data = t->data;
  if (!t->supported || !GetDTypeInfo(t->dtype).supported) {
    return Unimplemented(t->name + ": dtype " + t->file_dtype + " is not supported here");
  }
  return m;
}

Result<Linear> ToLinear(TensorRef w, TensorRef b) {
  Linear l;
  ASSIGN_OR_RETURN(l.w, ToMatrix(w));
  ASSIGN_OR_RETURN(l.b, ToF32(b));
  return l;
}

Result<MergerRt> ToMerger(const MergerWeights& m) {
  MergerRt r;
  ASSIGN_OR_RETURN(r.norm_w, ToF32(m.norm_w));
  ASSIGN_OR_RETURN(r.norm_b, ToF32(m.norm_b));
  ASSIGN_OR_RETURN(r.fc1, ToLinear(m.fc1_w, m.fc1_b));
  ASSIGN_OR_RETURN(r.fc2, ToLinear(m.fc2_w, m.fc2_b));
  return r;
}

// GGUF stores the Conv3d kernel as two per-frame kernels [D, C, P, P]; rebuild the HF
// [D, C, T=2, P, P] row layout so a pixel_values row (c, t, py, px) multiplies it directly.
Status RebuildPatchEmbed(const VisionConfig& vc, const VisionWeights& w, VisionRt* rt) {
  ASSIGN_OR_RETURN(std::vector<float> f0, ToF32(w.patch_embed_w));
  ASSIGN_OR_RETURN(std::vector<float> f1, ToF32(w.patch_embed_w1));
  const int64_t d = vc.hidden_size, c = vc.in_channels, pp = vc.patch_size * vc.patch_size;
  if (vc.temporal_patch_size != 2 || static_cast<int64_t>(f0.size()) != d * c * pp ||
      f0.size() != f1.size()) {
    return InvalidArgument("v.patch_embd.weight: unexpected per-frame kernel shape");
  }
  const int64_t cols = c * 2 * pp;
  rt->patch_embed_f32.resize(d * cols);
  for (int64_t o = 0; o < d; ++o) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* s0 = f0.data() + (o * c + ch) * pp;
      const float* s1 = f1.data() + (o * c + ch) * pp;
      float* dst = rt->patch_embed_f32.data() + o * cols + ch * 2 * pp;
      std::copy(s0, s0 + pp, dst);
      std::copy(s1, s1 + pp, dst + pp);
    }
  }
  rt->patch_embed.w = {DType::kF32, d, cols, rt->patch_embed_f32.data(), 0};
  return OkStatus();
}

Result<VisionRt> BuildVision(const VisionConfig& vc, const VisionWeights& w) {
  VisionRt rt;
  if (w.patch_embed_w1 != nullptr) {
    RETURN_IF_ERROR(RebuildPatchEmbed(vc, w, &rt));
  } else {
    ASSIGN_OR_RETURN(rt.patch_embed.w, ToMatrix(w.patch_embed_w));
  }
  ASSIGN_OR_RETURN(rt.patch_embed.b, ToF32(w.patch_embed_b));
  ASSIGN_OR_RETURN(rt.pos_embed, ToF32(w.pos_embed));
  rt.pos_side = static_cast<int64_t>(std::llround(std::sqrt(double(vc.num_position_embeddings))));
  if (rt.pos_side * rt.pos_side != vc.num_position_embeddings) {
    return InvalidArgument("vision_config.num_position_embeddings must be a square");
  }
  for (const VisionBlockWeights& b : w.blocks) {
    VisionBlockRt r;
    ASSIGN_OR_RETURN(r.norm1_w, ToF32(b.norm1_w));
    ASSIGN_OR_RETURN(r.norm1_b, ToF32(b.norm1_b));
    ASSIGN_OR_RETURN(r.norm2_w, ToF32(b.norm2_w));
    ASSIGN_OR_RETURN(r.norm2_b, ToF32(b.norm2_b));
    ASSIGN_OR_RETURN(r.qkv, ToLinear(b.qkv_w, b.qkv_b));
    ASSIGN_OR_RETURN(r.proj, ToLinear(b.proj_w, b.proj_b));
    ASSIGN_OR_RETURN(r.fc1, ToLinear(b.fc1_w, b.fc1_b));
    ASSIGN_OR_RETURN(r.fc2, ToLinear(b.fc2_w, b.fc2_b));
    rt.blocks.push_back(std::move(r));
  }
  ASSIGN_OR_RETURN(rt.merger, ToMerger(w.merger));
  for (const MergerWeights& m : w.deepstack) {
    ASSIGN_OR_RETURN(MergerRt r, ToMerger(m));
    rt.deepstack.push_back(std::move(r));
  }
  return rt;
}

}  // namespace

Result<RuntimeWeights> BuildRuntimeWeights(const ModelConfig& config,
                                           const ModelWeights& weights) {
  RuntimeWeights rt;
  const TextWeights& tw = weights.text;
  ASSIGN_OR_RETURN(rt.text.token_embd, ToMatrix(tw.token_embd));
  if (tw.lm_head != nullptr) {
    ASSIGN_OR_RETURN(rt.text.lm_head, ToMatrix(tw.lm_head));
  } else {
    rt.text.lm_head = rt.text.token_embd;
  }
  ASSIGN_OR_RETURN(rt.text.output_norm, ToF32(tw.output_norm));
  for (const TextLayerWeights& l : tw.layers) {
    TextLayerRt r;
    ASSIGN_OR_RETURN(r.attn_norm, ToF32(l.attn_norm));
    ASSIGN_OR_RETURN(r.ffn_norm, ToF32(l.ffn_norm));
    ASSIGN_OR_RETURN(r.q_norm, ToF32(l.q_norm));
    ASSIGN_OR_RETURN(r.k_norm, ToF32(l.k_norm));
    ASSIGN_OR_RETURN(r.q, ToMatrix(l.q));
    ASSIGN_OR_RETURN(r.k, ToMatrix(l.k));
    ASSIGN_OR_RETURN(r.v, ToMatrix(l.v));
    ASSIGN_OR_RETURN(r.o, ToMatrix(l.o));
    ASSIGN_OR_RETURN(r.gate, ToMatrix(l.gate));
    ASSIGN_OR_RETURN(r.up, ToMatrix(l.up));
    ASSIGN_OR_RETURN(r.down, ToMatrix(l.down));
    rt.text.layers.push_back(std::move(r));
  }
  rt.has_vision = weights.has_vision;
  if (weights.has_vision) {
    ASSIGN_OR_RETURN(rt.vision, BuildVision(config.vision, weights.vision));
  }
  return rt;
}

}  // namespace ocular::qwen3vl
