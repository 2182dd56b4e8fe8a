#include "model/qwen3vl/vision_encoder.h"

#include <cmath>
#include <string>

#include "base/checked_math.h"

namespace ocular::qwen3vl {
namespace {

// torch.linspace(0, end, n) in double (the f32 engine's position weights are computed in
// double and rounded once; the reference is float64).
double Linspace(double end, int64_t n, int64_t i) {
  if (n <= 1) return 0.0;
  return end * static_cast<double>(i) / static_cast<double>(n - 1);
}

// (row, col) of token r of a temporal group in merge-window order (spec 3.1).
void PatchRowCol(int64_t r, int64_t gw, int64_t m, int64_t* row, int64_t* col) {
  int64_t windows_per_row = gw / m;
  int64_t win = r / (m * m), in = r % (m * m);
  *row = (win / windows_per_row) * m + in / m;
  *col = (win % windows_per_row) * m + in % m;
}

}  // namespace

VisionEncoder::VisionEncoder(const ModelConfig& config, const RuntimeWeights& weights,
                             kernels::ComputeContext& ctx, kernels::Precision precision)
    : config_(config), vc_(config.vision), w_(weights.vision), ctx_(ctx), precision_(precision) {
  CHECK(weights.has_vision);
}

void VisionEncoder::AddPositionEmbedding(int64_t gt, int64_t gh, int64_t gw, float* x) const {
  // fast_pos_embed_interpolate: bilinear sampling of the side x side table at
  // linspace(0, side-1, g) (align corners), then merge-window order, repeated per group.
  const int64_t d = vc_.hidden_size, side = w_.pos_side, m = vc_.spatial_merge_size;
  const int64_t group = gh * gw;
  std::vector<float> grid(static_cast<size_t>(group * d));  // [gh*gw, D] f32, merge order
  for (int64_t r = 0; r < group; ++r) {
    int64_t row, col;
    PatchRowCol(r, gw, m, &row, &col);
    double hs = Linspace(double(side - 1), gh, row), ws = Linspace(double(side - 1), gw, col);
    int64_t h0 = static_cast<int64_t>(hs), w0 = static_cast<int64_t>(ws);
    int64_t h1 = std::min(h0 + 1, side - 1), w1 = std::min(w0 + 1, side - 1);
    double dh = hs - double(h0), dw = ws - double(w0);
    const double wt[4] = {(1 - dh) * (1 - dw), (1 - dh) * dw, dh * (1 - dw), dh * dw};
    const float* src[4] = {&w_.pos_embed[(h0 * side + w0) * d], &w_.pos_embed[(h0 * side + w1) * d],
                           &w_.pos_embed[(h1 * side + w0) * d], &w_.pos_embed[(h1 * side + w1) * d]};
    float* dst = &grid[r * d];
    for (int64_t c = 0; c < d; ++c) {
      double v = wt[0] * src[0][c] + wt[1] * src[1][c] + wt[2] * src[2][c] + wt[3] * src[3][c];
      dst[c] = static_cast<float>(v);
    }
  }
  for (int64_t t = 0; t < gt; ++t) {
    kernels::AddInPlace(ctx_, x + t * group * d, grid.data(), group * d);
  }
}

void VisionEncoder::RotaryCosSin(int64_t gt, int64_t gh, int64_t gw, float* cos,
                                 float* sin) const {
  // rot_dim = head_dim; angles [row * inv_freq (head_dim/4), col * inv_freq (head_dim/4)],
  // inv_freq[k] = 10000^(-2k / (head_dim/2)).
  const int64_t hd = vc_.head_dim(), half = hd / 2, quarter = half / 2, m = vc_.spatial_merge_size;
  std::vector<double> inv(quarter);
  for (int64_t k = 0; k < quarter; ++k) inv[k] = 1.0 / std::pow(10000.0, double(2 * k) / double(half));
  const int64_t group = gh * gw;
  for (int64_t t = 0; t < gt; ++t) {
    for (int64_t r = 0; r < group; ++r) {
      int64_t row, col;
      PatchRowCol(r, gw, m, &row, &col);
      float* c = cos + (t * group + r) * half;
      float* s = sin + (t * group + r) * half;
      for (int64_t k = 0; k < quarter; ++k) {
        double a = double(row) * inv[k], b = double(col) * inv[k];
        c[k] = static_cast<float>(std::cos(a));
        s[k] = static_cast<float>(std::sin(a));
        c[quarter + k] = static_cast<float>(std::cos(b));
        s[quarter + k] = static_cast<float>(std::sin(b));
      }
    }
  }
}

void VisionEncoder::Block(const VisionBlockRt& b, int64_t n, const std::vector<int64_t>& cu,
                          const float* cos, const float* sin, float* x) {
  const int64_t d = vc_.hidden_size, f = vc_.intermediate_size, hd = vc_.head_dim();
  const int heads = static_cast<int>(vc_.num_heads);
  const float eps = vc_.layer_norm_eps;
  std::vector<float> h(static_cast<size_t>(n * d));        // [n, D]
  std::vector<float> qkv(static_cast<size_t>(n * 3 * d));  // [n, 3D]: q | k | v
  std::vector<float> attn(static_cast<size_t>(n * d));     // [n, D]

  kernels::LayerNorm(ctx_, x, b.norm1_w.data(), b.norm1_b.data(), eps, h.data(), n, d);
  kernels::MatMul(ctx_, h.data(), n, b.qkv.w, b.qkv.bias(), qkv.data(), precision_);
  kernels::RopeNeox(ctx_, qkv.data(), n, heads, static_cast<int>(hd), 3 * d, cos, sin,
                    static_cast<int>(hd));
  kernels::RopeNeox(ctx_, qkv.data() + d, n, heads, static_cast<int>(hd), 3 * d, cos, sin,
                    static_cast<int>(hd));
  kernels::FullAttentionArgs a;
  a.q = qkv.data();
  a.k = qkv.data() + d;
  a.v = qkv.data() + 2 * d;
  a.out = attn.data();
  a.q_stride = a.k_stride = a.v_stride = 3 * d;
  a.out_stride = d;
  a.cu_seqlens = cu.data();
  a.num_segments = static_cast<int>(cu.size()) - 1;
  a.num_heads = a.num_kv_heads = heads;
  a.head_dim = static_cast<int>(hd);
  a.scale = static_cast<float>(1.0 / std::sqrt(double(hd)));
  kernels::FullAttention(ctx_, a);
  kernels::MatMul(ctx_, attn.data(), n, b.proj.w, b.proj.bias(), h.data(), precision_);
  kernels::AddInPlace(ctx_, x, h.data(), n * d);

  kernels::LayerNorm(ctx_, x, b.norm2_w.data(), b.norm2_b.data(), eps, h.data(), n, d);
  std::vector<float> mid(static_cast<size_t>(n * f));  // [n, F]
  kernels::MatMul(ctx_, h.data(), n, b.fc1.w, b.fc1.bias(), mid.data(), precision_);
  kernels::GeluTanh(ctx_, mid.data(), n * f);
  kernels::MatMul(ctx_, mid.data(), n, b.fc2.w, b.fc2.bias(), h.data(), precision_);
  kernels::AddInPlace(ctx_, x, h.data(), n * d);
}

void VisionEncoder::Merge(const MergerRt& m, bool norm_before_shuffle, const float* x, int64_t n,
                          float* out) {
  // Main merger: LayerNorm(D) per patch, then 2x2 concat. DeepStack: concat, then
  // LayerNorm(4D). Both: fc1 -> exact GELU -> fc2. The merge window's patches are adjacent
  // rows, so the concat is a reinterpretation of [n, D] as [n/4, 4D].
  const int64_t d = vc_.hidden_size, mm = vc_.spatial_merge_size * vc_.spatial_merge_size;
  const int64_t tokens = n / mm, wide = d * mm;
  const float eps = vc_.layer_norm_eps;
  std::vector<float> h(static_cast<size_t>(n * d));  // [tokens, 4D]
  if (norm_before_shuffle) {
    kernels::LayerNorm(ctx_, x, m.norm_w.data(), m.norm_b.data(), eps, h.data(), n, d);
  } else {
    kernels::LayerNorm(ctx_, x, m.norm_w.data(), m.norm_b.data(), eps, h.data(), tokens, wide);
  }
  std::vector<float> mid(static_cast<size_t>(tokens * wide));  // [tokens, 4D]
  kernels::MatMul(ctx_, h.data(), tokens, m.fc1.w, m.fc1.bias(), mid.data(), precision_);
  kernels::GeluErf(ctx_, mid.data(), tokens * wide);
  kernels::MatMul(ctx_, mid.data(), tokens, m.fc2.w, m.fc2.bias(), out, precision_);
}

Result<std::vector<VisionOutput>> VisionEncoder::Encode(std::span<const VisionInput> items,
                                                        VisionDump* dump) {
  const int64_t d = vc_.hidden_size, merge = vc_.spatial_merge_size;
  const int64_t row_width = vc_.in_channels * vc_.temporal_patch_size * vc_.patch_size * vc_.patch_size;
  const int64_t hd = vc_.head_dim();
  // Validate every item and lay out the concatenated batch.
  std::vector<int64_t> item_begin;  // first patch row of each item
  std::vector<int64_t> cu = {0};    // attention segments: one per temporal group
  int64_t n = 0;
  for (const VisionInput& it : items) {
    if (it.pixel_values == nullptr || it.grid_t < 1 || it.grid_h < merge || it.grid_w < merge ||
        it.grid_h % merge || it.grid_w % merge || it.grid_h > 4096 || it.grid_w > 4096 ||
        it.grid_t > 4096) {
      return InvalidArgument("vision input: invalid grid (t, h, w) = (" +
                             std::to_string(it.grid_t) + ", " + std::to_string(it.grid_h) + ", " +
                             std::to_string(it.grid_w) + ")");
    }
    item_begin.push_back(n);
    for (int64_t t = 0; t < it.grid_t; ++t) {
      n += it.grid_h * it.grid_w;
      cu.push_back(n);
    }
  }
  std::vector<VisionOutput> outputs(items.size());
  if (n == 0) return outputs;

  // Patch embedding (Conv3d as a matmul) + position embedding, per item into x.
  std::vector<float> x(static_cast<size_t>(n * d));  // [N, D] f32
  std::vector<float> cos(static_cast<size_t>(n * hd / 2)), sin(cos.size());  // [N, hd/2]
  for (size_t i = 0; i < items.size(); ++i) {
    const VisionInput& it = items[i];
    const int64_t rows = it.grid_t * it.grid_h * it.grid_w;
    float* xi = x.data() + item_begin[i] * d;
    kernels::WeightMatrix pe = w_.patch_embed.w;
    CHECK_EQ(pe.cols, row_width);
    kernels::MatMul(ctx_, it.pixel_values, rows, pe, w_.patch_embed.bias(), xi, precision_);
    AddPositionEmbedding(it.grid_t, it.grid_h, it.grid_w, xi);
    RotaryCosSin(it.grid_t, it.grid_h, it.grid_w, cos.data() + item_begin[i] * hd / 2,
                 sin.data() + item_begin[i] * hd / 2);
  }
  if (dump) dump->patch_embed = x;

  const auto& ds_idx = vc_.deepstack_visual_indexes;
  const int64_t out_hidden = vc_.out_hidden_size, mm = merge * merge;
  std::vector<std::vector<float>> ds_all(ds_idx.size());  // [levels][N/4, O]
  for (size_t l = 0; l < w_.blocks.size(); ++l) {
    Block(w_.blocks[l], n, cu, cos.data(), sin.data(), x.data());
    if (dump) dump->block_out.push_back(x);
    for (size_t j = 0; j < ds_idx.size(); ++j) {
      if (ds_idx[j] != static_cast<int64_t>(l)) continue;
      ds_all[j].resize(static_cast<size_t>(n / mm * out_hidden));
      Merge(w_.deepstack[j], /*norm_before_shuffle=*/false, x.data(), n, ds_all[j].data());
    }
  }
  std::vector<float> main(static_cast<size_t>(n / mm * out_hidden));  // [N/4, O]
  Merge(w_.merger, /*norm_before_shuffle=*/true, x.data(), n, main.data());

  for (size_t i = 0; i < items.size(); ++i) {
    VisionOutput& o = outputs[i];
    int64_t begin = item_begin[i] / mm;
    o.num_tokens = items[i].grid_t * items[i].grid_h * items[i].grid_w / mm;
    o.main.assign(main.begin() + begin * out_hidden, main.begin() + (begin + o.num_tokens) * out_hidden);
    for (auto& level : ds_all) {
      o.deepstack.emplace_back(level.begin() + begin * out_hidden,
                               level.begin() + (begin + o.num_tokens) * out_hidden);
    }
  }
  return outputs;
}

}  // namespace ocular::qwen3vl
