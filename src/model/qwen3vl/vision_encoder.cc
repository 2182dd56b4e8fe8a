#include "model/qwen3vl/vision_encoder.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/checked_math.h"
#include "base/clock.h"
#include "model/qwen3vl/resident_weights.h"
#include "model/qwen3vl/workspace.h"

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
                             kernels::ComputeContext& ctx, kernels::Precision precision,
                             const std::vector<const MappedFile*>& mappings)
    : config_(config), vc_(config.vision), w_(weights.vision), ctx_(ctx), precision_(precision) {
  CHECK(weights.has_vision);
  if (precision_ == kernels::Precision::kF32) return;
  std::vector<const kernels::WeightMatrix*> todo;
  auto add = [&](const kernels::WeightMatrix& w) {
    if (w.dtype != DType::kBF16 && w.data != nullptr) todo.push_back(&w);
  };
  add(w_.patch_embed.w);
  for (const VisionBlockRt& b : w_.blocks) {
    for (const Linear* l : {&b.qkv, &b.proj, &b.fc1, &b.fc2}) add(l->w);
  }
  add(w_.merger.fc1.w);
  add(w_.merger.fc2.w);
  for (const MergerRt& m : w_.deepstack) {
    add(m.fc1.w);
    add(m.fc2.w);
  }
  // One allocation in 2 MiB pages: first touch of 4 KiB pages cost ~20 us each on the
  // benchmark host (4 s for the 2B tower), huge pages a fraction of that. Matrices start on
  // 64-byte boundaries.
  std::vector<size_t> start(todo.size() + 1, 0);  // element offsets
  for (size_t i = 0; i < todo.size(); ++i) {
    const size_t elems = static_cast<size_t>(todo[i]->rows * todo[i]->cols);
    start[i + 1] = start[i] + (elems + 31) / 32 * 32;
  }
  if (start.back() == 0) return;
  bf16_store_ = AlignedBuffer::InHugePages(start.back() * 2);
  // Each source is first read from its file into one reused staging buffer: converting
  // straight from the mapping would fault its pages in (slow under some hypervisors) and
  // keep them in the resident set beside the copy (+0.8 GB for the 2B f16 mmproj).
  size_t staging_bytes = 0;
  for (const kernels::WeightMatrix* w : todo) {
    staging_bytes = std::max(staging_bytes, static_cast<size_t>(w->rows * w->Stride()));
  }
  AlignedBuffer staging(staging_bytes);
  for (size_t i = 0; i < todo.size(); ++i) {
    const kernels::WeightMatrix& w = *todo[i];
    CopyMatrixBytes(ctx_, mappings, w, staging.as<uint8_t>());
    kernels::WeightMatrix src = w;
    src.data = staging.data();
    uint16_t* dst = bf16_store_.as<uint16_t>() + start[i];
    ctx_.pool().ParallelRange(w.rows, 16, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        kernels::DequantizeRowToBf16(ctx_, w.dtype, src.Row(r), dst + r * w.cols, w.cols);
      }
    });
    bf16_.emplace(w.data, kernels::WeightMatrix{DType::kBF16, w.rows, w.cols, dst, 0});
  }
}

LargeVector<float> VisionEncoder::TakeSpare(int64_t n) {
  size_t best = spare_.size();
  for (size_t i = 0; i < spare_.size(); ++i) {
    if (spare_[i].capacity() >= static_cast<size_t>(n) &&
        (best == spare_.size() || spare_[i].capacity() < spare_[best].capacity())) {
      best = i;
    }
  }
  LargeVector<float> v;
  if (best < spare_.size()) {
    v = std::move(spare_[best]);
    spare_.erase(spare_.begin() + static_cast<std::ptrdiff_t>(best));
  }
  v.resize(static_cast<size_t>(n));  // within the capacity: no new pages
  return v;
}

void VisionEncoder::GiveSpare(LargeVector<float>&& v) {
  size_t held = 0;
  for (const auto& x : spare_) held += x.capacity() * sizeof(float);
  if (v.capacity() == 0 || held + v.capacity() * sizeof(float) > kMaxSpareBytes) {
    LargeVector<float>().swap(v);
    return;
  }
  spare_.push_back(std::move(v));
}

const kernels::WeightMatrix& VisionEncoder::W(const kernels::WeightMatrix& w) const {
  auto it = bf16_.find(w.data);
  return it == bf16_.end() ? w : it->second;
}

void VisionEncoder::AddPositionEmbedding(int64_t gh, int64_t gw, int64_t r0, int64_t r1,
                                         float* x) const {
  // fast_pos_embed_interpolate: bilinear sampling of the side x side table at
  // linspace(0, side-1, g) (align corners), in merge-window order, repeated per group.
  const int64_t d = vc_.hidden_size, side = w_.pos_side, m = vc_.spatial_merge_size;
  const int64_t group = gh * gw;
  std::vector<float> rows(static_cast<size_t>((r1 - r0) * d));  // [r1-r0, D] f32
  for (int64_t i = r0; i < r1; ++i) {
    int64_t row, col;
    PatchRowCol(i % group, gw, m, &row, &col);
    double hs = Linspace(double(side - 1), gh, row), ws = Linspace(double(side - 1), gw, col);
    int64_t h0 = static_cast<int64_t>(hs), w0 = static_cast<int64_t>(ws);
    int64_t h1 = std::min(h0 + 1, side - 1), w1 = std::min(w0 + 1, side - 1);
    double dh = hs - double(h0), dw = ws - double(w0);
    const double wt[4] = {(1 - dh) * (1 - dw), (1 - dh) * dw, dh * (1 - dw), dh * dw};
    const float* src[4] = {&w_.pos_embed[(h0 * side + w0) * d], &w_.pos_embed[(h0 * side + w1) * d],
                           &w_.pos_embed[(h1 * side + w0) * d], &w_.pos_embed[(h1 * side + w1) * d]};
    float* dst = &rows[(i - r0) * d];
    for (int64_t c = 0; c < d; ++c) {
      double v = wt[0] * src[0][c] + wt[1] * src[1][c] + wt[2] * src[2][c] + wt[3] * src[3][c];
      dst[c] = static_cast<float>(v);
    }
  }
  kernels::AddInPlace(ctx_, x, rows.data(), (r1 - r0) * d);
}

void VisionEncoder::RotaryCosSin(int64_t gh, int64_t gw, int64_t r0, int64_t r1, float* cos,
                                 float* sin) const {
  // rot_dim = head_dim; angles [row * inv_freq (head_dim/4), col * inv_freq (head_dim/4)],
  // inv_freq[k] = 10000^(-2k / (head_dim/2)).
  const int64_t hd = vc_.head_dim(), half = hd / 2, quarter = half / 2, m = vc_.spatial_merge_size;
  std::vector<double> inv(quarter);
  for (int64_t k = 0; k < quarter; ++k) inv[k] = 1.0 / std::pow(10000.0, double(2 * k) / double(half));
  const int64_t group = gh * gw;
  for (int64_t i = r0; i < r1; ++i) {
    int64_t row, col;
    PatchRowCol(i % group, gw, m, &row, &col);
    float* c = cos + (i - r0) * half;
    float* s = sin + (i - r0) * half;
    for (int64_t k = 0; k < quarter; ++k) {
      double a = double(row) * inv[k], b = double(col) * inv[k];
      c[k] = static_cast<float>(std::cos(a));
      s[k] = static_cast<float>(std::sin(a));
      c[quarter + k] = static_cast<float>(std::cos(b));
      s[quarter + k] = static_cast<float>(std::sin(b));
    }
  }
}

void VisionEncoder::QkvRows(const VisionBlockRt& b, VisionEncodeState& s, int64_t r0,
                            int64_t r1) {
  const int64_t d = vc_.hidden_size, hd = vc_.head_dim(), rows = r1 - r0;
  const int heads = static_cast<int>(vc_.num_heads);
  float* h = Grow(s.h_, rows * d);                       // [rows, D] f32
  float* qkv = s.qkv_.data() + r0 * 3 * d;              // [rows, 3D] f32
  const float* cos = s.cos_.data() + r0 * hd / 2;
  const float* sin = s.sin_.data() + r0 * hd / 2;
  kernels::LayerNorm(ctx_, s.x_.data() + r0 * d, b.norm1_w.data(), b.norm1_b.data(),
                     vc_.layer_norm_eps, h, rows, d);
  kernels::MatMul(ctx_, h, rows, W(b.qkv.w), b.qkv.bias(), qkv, precision_);
  kernels::RopeNeox(ctx_, qkv, rows, heads, static_cast<int>(hd), 3 * d, cos, sin,
                    static_cast<int>(hd));
  kernels::RopeNeox(ctx_, qkv + d, rows, heads, static_cast<int>(hd), 3 * d, cos, sin,
                    static_cast<int>(hd));
}

double VisionEncoder::AttentionWork(const VisionEncodeState& s, int64_t q0, int64_t q1) const {
  // Q K^T and P V: 2 * 2 * head_dim FLOPs per (query, key) pair of a segment.
  double work = 0;
  for (size_t i = 0; i + 1 < s.cu_.size(); ++i) {
    const int64_t rows = std::min(q1, s.cu_[i + 1]) - std::max(q0, s.cu_[i]);
    if (rows > 0) work += double(rows) * double(s.cu_[i + 1] - s.cu_[i]);
  }
  return 4.0 * double(vc_.head_dim()) * work;
}

void VisionEncoder::AttentionHeads(VisionEncodeState& s, int h0, int h1, int64_t q0, int64_t q1) {
  // Heads and query rows are independent, and the kernel computes a row the same whatever
  // else the call covers, so a piece computes exactly what the full call computes for it.
  const int64_t d = vc_.hidden_size, hd = vc_.head_dim();
  kernels::FullAttentionArgs a;
  a.q = s.qkv_.data() + h0 * hd;
  a.k = s.qkv_.data() + d + h0 * hd;
  a.v = s.qkv_.data() + 2 * d + h0 * hd;
  a.out = s.attn_.data() + h0 * hd;
  a.q_stride = a.k_stride = a.v_stride = 3 * d;
  a.out_stride = d;
  a.cu_seqlens = s.cu_.data();
  a.num_segments = static_cast<int>(s.cu_.size()) - 1;
  a.num_heads = a.num_kv_heads = h1 - h0;
  a.head_dim = static_cast<int>(hd);
  a.scale = static_cast<float>(1.0 / std::sqrt(double(hd)));
  a.precision = precision_;  // kBf16: bf16 dot products (vdpbf16ps), f32 softmax
  a.q_begin = q0;
  a.q_end = q1;
  kernels::FullAttention(ctx_, a);
}

void VisionEncoder::MlpRows(const VisionBlockRt& b, VisionEncodeState& s, int64_t r0,
                            int64_t r1) {
  const int64_t d = vc_.hidden_size, f = vc_.intermediate_size, rows = r1 - r0;
  const float eps = vc_.layer_norm_eps;
  float* x = s.x_.data() + r0 * d;                         // [rows, D]
  float* h = Grow(s.h_, rows * d);                          // [rows, D] f32
  float* mid = Grow(s.mid_, rows * f);                      // [rows, F] f32
  kernels::MatMul(ctx_, s.attn_.data() + r0 * d, rows, W(b.proj.w), b.proj.bias(), h,
                  precision_);
  kernels::AddInPlace(ctx_, x, h, rows * d);
  kernels::LayerNorm(ctx_, x, b.norm2_w.data(), b.norm2_b.data(), eps, h, rows, d);
  kernels::MatMul(ctx_, h, rows, W(b.fc1.w), b.fc1.bias(), mid, precision_);
  kernels::GeluTanh(ctx_, mid, rows * f);
  kernels::MatMul(ctx_, mid, rows, W(b.fc2.w), b.fc2.bias(), h, precision_);
  kernels::AddInPlace(ctx_, x, h, rows * d);

  // These rows' final state for this layer: DeepStack levels taken here, and the main merger
  // after the last layer (merge windows are 4 adjacent rows; chunks hold whole windows).
  const int64_t mm = vc_.spatial_merge_size * vc_.spatial_merge_size, o = vc_.out_hidden_size;
  const auto& ds_idx = vc_.deepstack_visual_indexes;
  for (size_t j = 0; j < ds_idx.size(); ++j) {
    if (ds_idx[j] != static_cast<int64_t>(s.layer_)) continue;
    Merge(w_.deepstack[j], /*norm_before_shuffle=*/false, x, rows,
          s.deepstack_[j].as<float>() + r0 / mm * o, s);
  }
  if (s.layer_ + 1 == w_.blocks.size()) {
    Merge(w_.merger, /*norm_before_shuffle=*/true, x, rows, s.main_.as<float>() + r0 / mm * o, s);
  }
}

void VisionEncoder::Merge(const MergerRt& m, bool norm_before_shuffle, const float* x, int64_t n,
                          float* out, VisionEncodeState& s) {
  // Main merger: LayerNorm(D) per patch, then 2x2 concat. DeepStack: concat, then
  // LayerNorm(4D). Both: fc1 -> exact GELU -> fc2. The merge window's patches are adjacent
  // rows, so the concat is a reinterpretation of [n, D] as [n/4, 4D].
  const int64_t d = vc_.hidden_size, mm = vc_.spatial_merge_size * vc_.spatial_merge_size;
  const int64_t tokens = n / mm, wide = d * mm;
  const float eps = vc_.layer_norm_eps;
  // (The block's temporaries are free again here.)
  float* h = Grow(s.h_, n * d);                  // [tokens, 4D] f32
  if (norm_before_shuffle) {
    kernels::LayerNorm(ctx_, x, m.norm_w.data(), m.norm_b.data(), eps, h, n, d);
  } else {
    kernels::LayerNorm(ctx_, x, m.norm_w.data(), m.norm_b.data(), eps, h, tokens, wide);
  }
  float* mid = Grow(s.mid_, tokens * wide);      // [tokens, 4D] f32
  kernels::MatMul(ctx_, h, tokens, W(m.fc1.w), m.fc1.bias(), mid, precision_);
  kernels::GeluErf(ctx_, mid, tokens * wide);
  kernels::MatMul(ctx_, mid, tokens, W(m.fc2.w), m.fc2.bias(), out, precision_);
}

size_t VisionEncodeState::bytes() const {
  size_t b = (x_.capacity() + cos_.capacity() + sin_.capacity() + qkv_.capacity() +
              attn_.capacity() + h_.capacity() + mid_.capacity()) *
                 sizeof(float) +
             main_.size();
  for (const auto& l : deepstack_) b += l.size();
  return b;
}

std::string VisionEncodeState::cursor() const {
  switch (phase_) {
    case Phase::kEmbed: return "embed";
    case Phase::kQkv: return "qkv " + std::to_string(layer_);
    case Phase::kAttention: return "attention " + std::to_string(layer_);
    case Phase::kMlp: return "mlp " + std::to_string(layer_);
    case Phase::kDone: break;
  }
  return "done";
}

double VisionEncodeState::progress() const {
  if (done()) return 1.0;
  return work_total_ > 0 ? std::min(1.0, work_done_ / work_total_) : 0.0;
}

int64_t VisionEncoder::ChunkEnd(const VisionEncodeState& s, int64_t pos, int64_t total) const {
  // The last chunk absorbs a remainder shorter than a chunk, so no chunk is small enough to
  // take the GEMV path when the whole phase would not.
  if (s.chunk_rows_ <= 0 || total - pos < 2 * s.chunk_rows_) return total;
  return pos + s.chunk_rows_;
}

double VisionEncoder::ChunkWork(const VisionEncodeState& s, int64_t rows) const {
  (void)s;
  const double d = double(vc_.hidden_size), f = double(vc_.intermediate_size);
  return double(rows) * 2.0 * (4.0 * d * d + 2.0 * d * f);  // one row through one block
}

Result<std::unique_ptr<VisionEncodeState>> VisionEncoder::Begin(
    std::span<const VisionInput> items, const VisionChunking& chunking, VisionDump* dump) {
  const int64_t d = vc_.hidden_size, merge = vc_.spatial_merge_size, mm = merge * merge;
  const int64_t hd = vc_.head_dim();
  auto s = std::make_unique<VisionEncodeState>();
  // Validate every item and lay out the concatenated batch.
  s->cu_ = {0};
  for (const VisionInput& it : items) {
    if (it.pixel_values == nullptr || it.grid_t < 1 || it.grid_h < merge || it.grid_w < merge ||
        it.grid_h % merge || it.grid_w % merge || it.grid_h > 4096 || it.grid_w > 4096 ||
        it.grid_t > 4096) {
      return InvalidArgument("vision input: invalid grid (t, h, w) = (" +
                             std::to_string(it.grid_t) + ", " + std::to_string(it.grid_h) + ", " +
                             std::to_string(it.grid_w) + ")");
    }
    s->item_begin_.push_back(s->n_);
    for (int64_t t = 0; t < it.grid_t; ++t) {
      s->n_ += it.grid_h * it.grid_w;
      s->cu_.push_back(s->n_);
    }
  }
  s->items_.assign(items.begin(), items.end());
  s->dump_ = dump;
  const int64_t n = s->n_;
  const int heads = static_cast<int>(vc_.num_heads);
  if (chunking.rows > 0) {
    // Whole merge windows, and more rows than the GEMV threshold even after merging (the
    // mergers multiply n/4 rows).
    const int64_t min_rows = mm * (ctx_.options().gemv_max_rows + 1);
    s->chunk_rows_ = (std::max(chunking.rows, min_rows) + mm - 1) / mm * mm;
    const double per_head = AttentionWork(*s, 0, n);
    const double row_chunk = 2.0 * double(s->chunk_rows_) * double(d) * 3.0 * double(d);
    int h = chunking.heads > 0 ? chunking.heads
                               : static_cast<int>(per_head > 0 ? row_chunk / per_head : heads);
    s->chunk_heads_ = std::clamp(h, 1, heads);
    // One head still more than a row chunk's work: split it by query rows (whole 32-row
    // query blocks of the kernel where possible).
    int64_t q = chunking.query_rows;
    if (q == 0 && chunking.heads == 0 && per_head > 1.5 * row_chunk) {
      q = (static_cast<int64_t>(double(n) * row_chunk / per_head) + 31) / 32 * 32;
    }
    if (q > 0) s->chunk_heads_ = 1;
    s->chunk_query_rows_ = q > 0 && q < n ? q : 0;
  } else {
    s->chunk_rows_ = 0;
    s->chunk_heads_ = heads;
  }
  if (n == 0) {
    s->phase_ = VisionEncodeState::Phase::kDone;
    return s;
  }
  const int64_t out_hidden = vc_.out_hidden_size;
  // (Every element of these is written before it is read.)
  // (Largest first, so the best fits go to the largest arrays.)
  const int64_t chunk_max = s->chunk_rows_ > 0 ? std::min(n, 2 * s->chunk_rows_) : n;
  s->mid_ = TakeSpare(chunk_max * vc_.intermediate_size);
  s->qkv_ = TakeSpare(n * 3 * d);
  s->x_ = TakeSpare(n * d);
  s->attn_ = TakeSpare(n * d);
  s->h_ = TakeSpare(chunk_max * d);
  s->cos_ = TakeSpare(n * hd / 2);
  s->sin_ = TakeSpare(n * hd / 2);
  const size_t out_bytes = static_cast<size_t>(n / mm * out_hidden) * sizeof(float);
  s->main_ = AlignedBuffer::Large(out_bytes);
  s->deepstack_.resize(vc_.deepstack_visual_indexes.size());
  for (auto& level : s->deepstack_) level = AlignedBuffer::Large(out_bytes);
  s->work_total_ =
      double(w_.blocks.size()) * (ChunkWork(*s, n) + AttentionWork(*s, 0, n) * double(heads));
  return s;
}

void VisionEncoder::RunChunk(VisionEncodeState& s) {
  using Phase = VisionEncodeState::Phase;
  const int64_t d = vc_.hidden_size, hd = vc_.head_dim(), n = s.n_;
  switch (s.phase_) {
    case Phase::kEmbed: {
      // Patch embedding (Conv3d as a matmul) + position embedding, one item at a time.
      const VisionInput& it = s.items_[s.item_];
      const int64_t rows = it.grid_t * it.grid_h * it.grid_w;
      const int64_t r0 = s.pos_, r1 = ChunkEnd(s, r0, rows);
      const int64_t row = s.item_begin_[s.item_] + r0;
      float* x = s.x_.data() + row * d;
      const kernels::WeightMatrix& pe = W(w_.patch_embed.w);
      kernels::MatMul(ctx_, it.pixel_values + r0 * pe.cols, r1 - r0, pe, w_.patch_embed.bias(),
                      x, precision_);
      AddPositionEmbedding(it.grid_h, it.grid_w, r0, r1, x);
      RotaryCosSin(it.grid_h, it.grid_w, r0, r1, s.cos_.data() + row * hd / 2,
                   s.sin_.data() + row * hd / 2);
      s.work_done_ += ChunkWork(s, r1 - r0) / 8;
      s.pos_ = r1;
      if (s.pos_ == rows) {
        s.pos_ = 0;
        if (++s.item_ == s.items_.size()) {
          s.phase_ = Phase::kQkv;
          if (s.dump_) s.dump_->patch_embed.assign(s.x_.begin(), s.x_.end());
        }
      }
      return;
    }
    case Phase::kQkv: {
      const int64_t r1 = ChunkEnd(s, s.pos_, n);
      QkvRows(w_.blocks[s.layer_], s, s.pos_, r1);
      s.work_done_ += ChunkWork(s, r1 - s.pos_) / 4;
      s.pos_ = r1;
      if (s.pos_ == n) {
        s.pos_ = 0;
        s.phase_ = Phase::kAttention;
      }
      return;
    }
    case Phase::kAttention: {
      const int heads = static_cast<int>(vc_.num_heads);
      const int h0 = static_cast<int>(s.pos_), h1 = std::min(heads, h0 + s.chunk_heads_);
      const int64_t q0 = s.qpos_;
      const int64_t q1 = s.chunk_query_rows_ > 0 ? std::min(n, q0 + s.chunk_query_rows_) : n;
      AttentionHeads(s, h0, h1, q0, q1);
      s.work_done_ += AttentionWork(s, q0, q1) * (h1 - h0);
      s.qpos_ = q1 == n ? 0 : q1;
      if (q1 == n) {  // these heads are done
        s.pos_ = h1;
        if (h1 == heads) {
          s.pos_ = 0;
          s.phase_ = Phase::kMlp;
        }
      }
      return;
    }
    case Phase::kMlp: {
      const int64_t r1 = ChunkEnd(s, s.pos_, n);
      MlpRows(w_.blocks[s.layer_], s, s.pos_, r1);
      s.work_done_ += ChunkWork(s, r1 - s.pos_) * 3 / 4;
      s.pos_ = r1;
      if (s.pos_ == n) {
        if (s.dump_) s.dump_->block_out.emplace_back(s.x_.begin(), s.x_.end());
        s.pos_ = 0;
        s.phase_ = ++s.layer_ == w_.blocks.size() ? Phase::kDone : Phase::kQkv;
        if (s.phase_ == Phase::kDone) {
          // Intermediates are no longer needed; keep only the outputs.
          for (LargeVector<float>* v :
               {&s.mid_, &s.qkv_, &s.x_, &s.attn_, &s.h_, &s.cos_, &s.sin_}) {
            GiveSpare(std::move(*v));
            *v = LargeVector<float>();
          }
        }
      }
      return;
    }
    case Phase::kDone:
      return;
  }
}

bool VisionEncoder::Advance(VisionEncodeState& s, int64_t max_chunks, int64_t deadline_ns) {
  for (int64_t done = 0; !s.done(); ) {
    RunChunk(s);
    ++done;
    if (max_chunks >= 0 && done >= max_chunks) break;
    if (deadline_ns > 0 && NowNs() >= deadline_ns) break;
  }
  return s.done();
}

VisionOutputBuffers VisionEncoder::TakeOutputs(VisionEncodeState& s) const {
  CHECK(s.done());
  CHECK_EQ(s.items_.size(), 1u) << "TakeOutputs hands over one item's outputs";
  VisionOutputBuffers o;
  o.num_tokens = s.n_ / (vc_.spatial_merge_size * vc_.spatial_merge_size);
  o.main = std::move(s.main_);
  o.deepstack = std::move(s.deepstack_);
  s.deepstack_.clear();
  return o;
}

std::vector<VisionOutput> VisionEncoder::Finish(VisionEncodeState& s) {
  CHECK(s.done());
  const int64_t mm = vc_.spatial_merge_size * vc_.spatial_merge_size;
  const int64_t out_hidden = vc_.out_hidden_size;
  std::vector<VisionOutput> outputs(s.items_.size());
  for (size_t i = 0; i < s.items_.size(); ++i) {
    VisionOutput& o = outputs[i];
    const VisionInput& it = s.items_[i];
    o.num_tokens = it.grid_t * it.grid_h * it.grid_w / mm;
    const int64_t begin = s.item_begin_[i] / mm * out_hidden;
    const int64_t end = begin + o.num_tokens * out_hidden;
    o.main.assign(s.main_.as<float>() + begin, s.main_.as<float>() + end);
    for (const AlignedBuffer& level : s.deepstack_) {
      o.deepstack.emplace_back(level.as<float>() + begin, level.as<float>() + end);
    }
  }
  s.main_ = AlignedBuffer();
  s.deepstack_.clear();
  return outputs;
}

Result<std::vector<VisionOutput>> VisionEncoder::Encode(std::span<const VisionInput> items,
                                                        VisionDump* dump) {
  ASSIGN_OR_RETURN(std::unique_ptr<VisionEncodeState> s, Begin(items, VisionChunking{0, 0}, dump));
  Advance(*s, -1);
  return Finish(*s);
}

}  // namespace ocular::qwen3vl
