#include "model/qwen3vl/text_decoder.h"

#include <cmath>
#include <string>

#include "base/clock.h"
#include "base/log.h"
#include "model/qwen3vl/workspace.h"

namespace ocular::qwen3vl {

TextDecoder::TextDecoder(const ModelConfig& config, const RuntimeWeights& weights,
                         kernels::ComputeContext& ctx, kernels::Precision precision)
    : tc_(config.text), w_(weights.text), ctx_(ctx), precision_(precision) {}

namespace {

// The precision of the matrix products. Under kBf16 they take kernels::Precision::kInt8:
// q8_0 / q4_0 weights in the decode GEMV then take q8_0-quantized activations (q4_k / q6_k:
// q8_K) and integer block dots, as llama.cpp computes them (the weights were quantized
// already, the activation rounding adds an error of the same order, and it is several times
// fewer instructions per weight byte, so decode stays bandwidth-bound); every other weight
// and large m on row-major weights behave as under kBf16 (kernels.h), and weights packed at
// load (resident_weights.h) take the int8 GEMV for every m. kF32 stays exact.
kernels::Precision ProductPrecision(kernels::Precision p) {
  return p == kernels::Precision::kBf16 ? kernels::Precision::kInt8 : p;
}

}  // namespace

Status TextDecoder::Validate(const DecoderBatch& b, KvViews kv) const {
  if (static_cast<int64_t>(kv.size()) != tc_.num_layers) {
    return InvalidArgument("decoder: one KV view per layer expected");
  }
  const int64_t vocab = w_.token_embd.rows;
  for (int64_t i = 0; i < b.num_tokens; ++i) {
    if (b.token_ids[i] < 0 || b.token_ids[i] >= vocab) {
      return InvalidArgument("token id " + std::to_string(b.token_ids[i]) + " out of range");
    }
  }
  int64_t rows = 0;
  for (int s = 0; s < b.num_seqs; ++s) {
    if (b.q_starts[s] != rows || b.q_counts[s] < 0 || b.q_counts[s] > b.kv_lens[s]) {
      return InvalidArgument("decoder: inconsistent sequence ranges");
    }
    rows += b.q_counts[s];
  }
  if (rows != b.num_tokens) return InvalidArgument("decoder: sequences do not cover the batch");
  for (const EmbeddingSplice& sp : b.splices) {
    if (sp.row < 0 || sp.num_rows < 0 || sp.row + sp.num_rows > b.num_tokens ||
        sp.main == nullptr) {
      return InvalidArgument("decoder: embedding splice outside the batch");
    }
  }
  for (int64_t r : b.logit_rows) {
    if (r < 0 || r >= b.num_tokens) return InvalidArgument("decoder: logit row outside the batch");
  }
  return OkStatus();
}

void TextDecoder::Layer(int l, const DecoderBatch& b, const kernels::PagedKvView& kv,
                        const float* cos, const float* sin, float* x) {
  const TextLayerRt& w = w_.layers[l];
  const int64_t t = b.num_tokens, h = tc_.hidden_size, hd = tc_.head_dim;
  const int heads = static_cast<int>(tc_.num_heads), kv_heads = static_cast<int>(tc_.num_kv_heads);
  const int64_t qd = heads * hd, kd = kv_heads * hd, f = tc_.intermediate_size;
  const float eps = tc_.rms_norm_eps;

  // Views of the workspace (Forward sized it for this batch).
  float* a = ws_.a.data();  // [T, h]
  float* q = ws_.q.data();  // [T, H*hd]
  float* k = ws_.k.data();  // [T, K*hd]
  float* v = ws_.v.data();  // [T, K*hd]
  float* o = ws_.o.data();  // [T, H*hd]
  kernels::RmsNorm(ctx_, x, w.attn_norm.data(), eps, a, t, h);
  {
    // One parallel region for the three projections of the same input (see MatMulMulti).
    const kernels::WeightMatrix* ws[3] = {&w.q, &w.k, &w.v};
    float* ys[3] = {q, k, v};
    kernels::MatMulMulti(ctx_, a, t, ws, ys, ProductPrecision(precision_));
  }
  kernels::RmsNorm(ctx_, q, w.q_norm.data(), eps, q, t * heads, hd);
  kernels::RmsNorm(ctx_, k, w.k_norm.data(), eps, k, t * kv_heads, hd);
  kernels::RopeNeox(ctx_, q, t, heads, static_cast<int>(hd), qd, cos, sin, static_cast<int>(hd));
  kernels::RopeNeox(ctx_, k, t, kv_heads, static_cast<int>(hd), kd, cos, sin, static_cast<int>(hd));
  kernels::WriteKv(ctx_, kv, k, kd, v, kd, b.kv_slots, t);

  kernels::PagedAttentionArgs pa;
  pa.q = q;
  pa.out = o;
  pa.q_stride = pa.out_stride = qd;
  pa.num_heads = heads;
  pa.scale = static_cast<float>(1.0 / std::sqrt(double(hd)));
  pa.num_seqs = b.num_seqs;
  pa.q_starts = b.q_starts;
  pa.q_counts = b.q_counts;
  pa.kv_lens = b.kv_lens;
  pa.block_tables = b.block_tables;
  const int64_t t_attn = NowNs();
  kernels::PagedAttention(ctx_, kv, pa);
  attention_ns_ += NowNs() - t_attn;
  kernels::MatMul(ctx_, o, t, w.o, nullptr, a, ProductPrecision(precision_));
  kernels::AddInPlace(ctx_, x, a, t * h);

  float* gate = ws_.gate.data();  // [T, f]
  float* up = ws_.up.data();      // [T, f]
  kernels::RmsNorm(ctx_, x, w.ffn_norm.data(), eps, a, t, h);
  {
    const kernels::WeightMatrix* ws[2] = {&w.gate, &w.up};
    float* ys[2] = {gate, up};
    kernels::MatMulMulti(ctx_, a, t, ws, ys, ProductPrecision(precision_));
  }
  kernels::SwiGlu(ctx_, gate, up, gate, t * f);
  kernels::MatMul(ctx_, gate, t, w.down, nullptr, a, ProductPrecision(precision_));
  kernels::AddInPlace(ctx_, x, a, t * h);

  // DeepStack: level l is added after layer l at the visual rows.
  for (const EmbeddingSplice& sp : b.splices) {
    if (l < static_cast<int>(sp.deepstack.size()) && sp.deepstack[l] != nullptr) {
      kernels::AddInPlace(ctx_, x + sp.row * h, sp.deepstack[l], sp.num_rows * h);
    }
  }
}

Status TextDecoder::Forward(const DecoderBatch& b, KvViews kv, float* logits, DecoderDump* dump) {
  RETURN_IF_ERROR(Validate(b, kv));
  const int64_t t = b.num_tokens, h = tc_.hidden_size, hd = tc_.head_dim;
  if (t == 0) return OkStatus();

  const int64_t qd = tc_.num_heads * hd, kd = tc_.num_kv_heads * hd;
  float* x = Grow(ws_.x, t * h);  // [T, h] residual stream
  Grow(ws_.a, t * h);
  Grow(ws_.q, t * qd);
  Grow(ws_.o, t * qd);
  Grow(ws_.k, t * kd);
  Grow(ws_.v, t * kd);
  Grow(ws_.gate, t * tc_.intermediate_size);
  Grow(ws_.up, t * tc_.intermediate_size);
  float* cos = Grow(ws_.cos, t * hd / 2);  // [T, hd/2]
  float* sin = Grow(ws_.sin, t * hd / 2);  // [T, hd/2]
  kernels::GatherRows(ctx_, w_.token_embd, b.token_ids, t, x);
  for (const EmbeddingSplice& sp : b.splices) {
    std::copy(sp.main, sp.main + sp.num_rows * h, x + sp.row * h);
  }
  const int sections[3] = {static_cast<int>(tc_.mrope_section[0]),
                           static_cast<int>(tc_.mrope_section[1]),
                           static_cast<int>(tc_.mrope_section[2])};
  kernels::MropeCosSin(b.pos_t, b.pos_h, b.pos_w, t, static_cast<float>(tc_.rope_theta),
                       static_cast<int>(hd), sections, cos, sin);

  attention_ns_ = 0;
  const int64_t t_layers = NowNs();
  for (int l = 0; l < static_cast<int>(tc_.num_layers); ++l) {
    Layer(l, b, kv[l], cos, sin, x);
    if (dump) dump->layer_out.emplace_back(x, x + t * h);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    int64_t kv_tokens = 0;
    for (int s = 0; s < b.num_seqs; ++s) kv_tokens += b.kv_lens[s];
    LOG_DEBUG("decoder: {} tokens over {} cached: layers {:.1f} ms, attention {:.1f} ms", t,
              kv_tokens, double(NowNs() - t_layers) * 1e-6, double(attention_ns_) * 1e-6);
  }

  const int64_t r = static_cast<int64_t>(b.logit_rows.size());
  if (r == 0) return OkStatus();
  std::vector<float> sel(static_cast<size_t>(r * h));  // [R, h]
  for (int64_t i = 0; i < r; ++i) {
    std::copy(x + b.logit_rows[i] * h, x + (b.logit_rows[i] + 1) * h, sel.begin() + i * h);
  }
  kernels::RmsNorm(ctx_, sel.data(), w_.output_norm.data(), tc_.rms_norm_eps, sel.data(), r, h);
  kernels::MatMul(ctx_, sel.data(), r, w_.lm_head, nullptr, logits, ProductPrecision(precision_));
  return OkStatus();
}

}  // namespace ocular::qwen3vl
