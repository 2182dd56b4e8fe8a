// The public kernel API: plain functions on raw pointers and sizes, no model knowledge
// (STYLE.md rule 1). Every function here has a scalar reference in kernels/ref/ (the
// executable specification) and is tested against it on every dispatch path of this CPU.
//
// Conventions
// - Row-major; shapes are written outer-to-inner, e.g. `[m, k]`; the last dim is contiguous.
// - Activations are f32. Weights are `WeightMatrix` views in their stored dtype.
// - The ISA path is picked once per call from `ctx.isa()` (STYLE.md rule 13).
// - Preconditions are CHECKed (they are programming errors, never user input).
// - In-place use is allowed only where a comment says so.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/compute_context.h"
#include "tensor/dtype.h"

namespace ocular::kernels {

// ---------------------------------------------------------------------------------------------
// Matrix products

// A weight matrix as stored in the checkpoint: [rows = out_features, cols = in_features],
// row-major, each row `cols` values of `dtype` (for block types, cols is a multiple of the
// block size and a row is cols / block_elems whole blocks). dtype in {f32, f16, bf16, q8_0,
// q4_0, q4_k, q6_k}. `data` may point into a file mapping and must outlive every use.
// Alignment: rows of f32 / f16 / bf16 must be aligned to their element size (4 / 2 bytes);
// block types may sit at any address (GGUF blocks are byte-packed).
//
// WeightLayout::kGemvPacked (q8_0 / q4_0 / q4_k / q6_k; see PackGemvGroup) holds the same
// blocks regrouped for the int8 GEMV: 16 rows side by side, so that one 512-bit load carries
// 4 values of 16 rows and each block's scale arithmetic is shared by 16 rows. Every kernel
// accepts it (MatMul, MatMulMulti, GatherRows); Row() and row_stride_bytes do not apply.
enum class WeightLayout : uint8_t { kRowMajor, kGemvPacked };

struct WeightMatrix {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  // Bytes from one row to the next (0: packed rows, i.e. the dtype's row size).
  int64_t row_stride_bytes = 0;
  WeightLayout layout = WeightLayout::kRowMajor;

  int64_t RowBytes() const;  // bytes of one row's values (without padding)
  int64_t Stride() const { return row_stride_bytes ? row_stride_bytes : RowBytes(); }
  const void* Row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + r * Stride();
  }
  bool packed() const { return layout == WeightLayout::kGemvPacked; }
};

// ---- WeightLayout::kGemvPacked -------------------------------------------------------------
// Rows in groups of 16 (the last group padded with zero blocks), group g at
// data + g * GemvGroupBytes(dtype, cols). data must be 64-byte aligned.
// q8_0 / q4_0: a group of nb = cols / 32 blocks is one stream of block pairs (the last one a
// single block when nb is odd), each
//   scales [2][16] f16: row r's scale of the pair's first and second block (64 bytes);
//   quants [2][W][16][4] bytes: W = 8 (q8_0) or 4 (q4_0) 4-byte words per row and block;
//          word t of row r is bytes 4t..4t+3 of that row's block quants, q8_0 values stored
//          as value + 128 (unsigned), q4_0 bytes as they are (two nibbles each).
// q4_k / q6_k: a group is cols / 256 slabs of GemvSlabBytes, one per 256-value block; in a
// slab "words at o" means word t (bytes 4t..4t+3) of a run of the row's block bytes, row r's
// at o + 64t + 4r (one 64-byte line per word, 16 rows).
//   q4_k (2304 bytes): d [16] f16 at 0, dmin [16] f16 at 32, the 12 scale bytes as words at
//          64, the 128 quant bytes (qs) as words at 256.
//   q6_k (3392 bytes): d [16] f16 at 0 (then 32 zero bytes), the 16 scale bytes as words at
//          64 with each word's bytes in the order 0, 2, 1, 3 (the word's two 16-bit halves
//          hold scales 4t and 4t + 1 in their low bytes, 4t + 2 and 4t + 3 in their high
//          bytes), then the quants in the order the kernel reads them: for h, tg in {0, 1},
//          at 320 + 768 (2h + tg), qh words 8h + 4tg.. (4 words), ql words 16h + 4tg.. (4)
//          and ql words 16h + 8 + 4tg.. (4).
int64_t GemvGroupBytes(DType dtype, int64_t cols);
int64_t GemvPackedBytes(DType dtype, int64_t rows, int64_t cols);
int64_t GemvSlabBytes(DType dtype);  // q4_k / q6_k
// The dtypes the packed layout holds.
bool GemvPackable(DType dtype);
// True when this context's ISA has the packed int8 GEMV (elsewhere packed weights still work,
// unpacked group by group, slower than row-major): whether packing at load pays.
bool GemvPackingPays(const ComputeContext& ctx);
// Packs `count` (1..16) consecutive row-major rows of GemvPackable blocks (`src`, rows
// `src_stride` bytes apart) into one group at `dst` (GemvGroupBytes bytes).
void PackGemvGroup(DType dtype, int64_t cols, const void* src, int64_t src_stride, int count,
                   void* dst);
// Packs all of row-major `src` into `dst` (GemvPackedBytes bytes, 64-byte aligned) on the
// pool; returns the packed view of dst.
WeightMatrix PackForGemv(ComputeContext& ctx, const WeightMatrix& src, void* dst);
// Rows [row_begin, row_end) of a packed matrix in row-major blocks: dst [count, RowBytes()].
void UnpackGemvRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, void* dst);

enum class Precision {
  // Exact mode (the golden tolerances refer to it): weights widened to f32, products and
  // sums in f32 (GEMV) or oneDNN f32 (large m).
  kF32,
  // Activations rounded to bf16, f32 accumulation; large m via oneDNN bf16 (AMX or
  // AVX512_BF16 when present). GEMV keeps f32 activations (it is bandwidth-bound).
  kBf16,
  // For q8_0 / q4_0 weights in the GEMV (m <= gemv_max_rows): activations quantized to q8_0
  // blocks (the GGML rounding) and integer block dot products (VNNI where present), as
  // llama.cpp does; a fraction of the f32 path's instructions per weight. Error per output is
  // bounded by sum over blocks of (amax_x / 254) * sum |w| in the block. q4_k / q6_k weights
  // likewise with q8_K activations (one f32 scale per 256 values: amax over 256). Everything
  // else (other dtypes, large m on row-major weights) behaves as kBf16; packed weights take
  // the int8 GEMV for every m.
  kInt8,
};

// y[i, j] = sum_c x[i, c] * W[j, c] + (bias ? bias[j] : 0)
//   x: [m, k] f32 (k == w.cols), bias: [n] f32 or null (n == w.rows), y: [m, n] f32.
// m <= ctx.options().gemv_max_rows: our GEMV (weights streamed once for all m rows, rows of W
// split over the pool). Larger m: oneDNN when enabled (weights converted tile by tile to the
// compute dtype), else our blocked kernel. Packed weights (WeightLayout::kGemvPacked) take
// Precision::kInt8 only and the int8 GEMV for every m, 8 rows per pass. y must not alias x.
void MatMul(ComputeContext& ctx, const float* x, int64_t m, const WeightMatrix& w,
            const float* bias, float* y, Precision precision = Precision::kF32);

// Same with explicit row strides (in floats) for x and y, e.g. to write into a slice of a
// wider buffer. x_stride >= k, y_stride >= n.
void MatMulStrided(ComputeContext& ctx, const float* x, int64_t x_stride, int64_t m,
                   const WeightMatrix& w, const float* bias, float* y, int64_t y_stride,
                   Precision precision = Precision::kF32);

// Several products of the same x, y_i = x W_i^T (each as MatMul(ctx, x, m, *ws[i], nullptr,
// ys[i], precision)), e.g. the q/k/v or gate/up projections of a decoder layer. For GEMV-sized
// m, and for every m when all the weights are packed (the int8 GEMV), they run as one
// parallel region over the rows of all weights, with x quantized once on the int8 path: one
// fork-join instead of ws.size() (decode issues hundreds per token). Results are
// bit-identical to the separate calls.
//   x: [m, k] f32 with k == ws[i]->cols for all i; ys[i]: [m, ws[i]->rows] f32.
void MatMulMulti(ComputeContext& ctx, const float* x, int64_t m,
                 std::span<const WeightMatrix* const> ws, std::span<float* const> ys,
                 Precision precision = Precision::kF32);

// Copies rows `ids[i]` of `w` (e.g. the token embedding) to out[i, :] as f32.
//   ids: [n] int32, each in [0, w.rows); out: [n, w.cols] f32.
void GatherRows(ComputeContext& ctx, const WeightMatrix& w, const int32_t* ids, int64_t n,
                float* out);

// ---------------------------------------------------------------------------------------------
// Conversions (single-threaded; n values; src and dst must not overlap)

// src: n values of `dtype` (n a multiple of its block size), dst: [n] f32.
void DequantizeRow(const ComputeContext& ctx, DType dtype, const void* src, float* dst,
                   int64_t n);
// The same values as DequantizeRow, rounded to bf16 (ties to even): dst [n] bf16.
void DequantizeRowToBf16(const ComputeContext& ctx, DType dtype, const void* src, uint16_t* dst,
                         int64_t n);
void ConvertF32ToBf16(const ComputeContext& ctx, const float* src, uint16_t* dst, int64_t n);
void ConvertF32ToF16(const ComputeContext& ctx, const float* src, uint16_t* dst, int64_t n);
// Rounds each value to the nearest bf16 (ties to even) and back to f32, in place.
void RoundToBf16(const ComputeContext& ctx, float* x, int64_t n);

// ---------------------------------------------------------------------------------------------
// Normalisation and element-wise ops (rows processed independently; in place allowed: y == x)

// y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * weight   (computed in f32)
//   x, y: [rows, dim] f32; weight: [dim] f32 (null: no weight).
void RmsNorm(const ComputeContext& ctx, const float* x, const float* weight, float eps,
             float* y, int64_t rows, int64_t dim);

// y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * weight + bias   (biased variance, f32)
//   x, y: [rows, dim] f32; weight, bias: [dim] f32 (either may be null).
void LayerNorm(const ComputeContext& ctx, const float* x, const float* weight,
               const float* bias, float eps, float* y, int64_t rows, int64_t dim);

// In place over [n]: x = exp(x - max(x)) / sum. n >= 1.
void Softmax(const ComputeContext& ctx, float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)). out may alias gate or up.
void SwiGlu(const ComputeContext& ctx, const float* gate, const float* up, float* out,
            int64_t n);
// In place: x = 0.5 x (1 + erf(x / sqrt 2))   (exact GELU, nn.GELU()).
void GeluErf(const ComputeContext& ctx, float* x, int64_t n);
// In place: x = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GELU "tanh").
void GeluTanh(const ComputeContext& ctx, float* x, int64_t n);
// y[i] += x[i].
void AddInPlace(const ComputeContext& ctx, float* y, const float* x, int64_t n);
// x[i] *= s.
void Scale(const ComputeContext& ctx, float* x, float s, int64_t n);

// ---------------------------------------------------------------------------------------------
// Rotary embeddings

// NeoX ("rotate_half") rotation, in place, for every token and head:
//   for d < rot_dim/2, a = angle index d of the token:
//     (x[d], x[d + rot_dim/2]) <- (x[d] cos - x[d + rot_dim/2] sin,
//                                  x[d + rot_dim/2] cos + x[d] sin)
//   dims >= rot_dim are left unchanged.
//   x: [tokens, heads, head_dim] f32 with `token_stride` floats between tokens
//      (>= heads * head_dim; heads are contiguous within a token).
//   cos, sin: [tokens, rot_dim / 2] f32. rot_dim even, <= head_dim.
// Used by the ViT's 2-D rotary (caller builds [row freqs, col freqs] angles) and by the
// decoder's interleaved M-RoPE (angles from MropeAngles).
void RopeNeox(const ComputeContext& ctx, float* x, int64_t tokens, int heads, int head_dim,
              int64_t token_stride, const float* cos, const float* sin, int rot_dim);

// Interleaved M-RoPE angles (spec 4.2): inv_freq[i] = theta^(-2i/head_dim), i < head_dim/2;
// slot i uses pos_h if i % 3 == 1 && i < 3*sections[1], pos_w if i % 3 == 2 &&
// i < 3*sections[2], else pos_t. angle = pos * inv_freq[i] (f32 product of f32 values).
//   pos_t, pos_h, pos_w: [tokens] int64; cos, sin: [tokens, head_dim/2] f32 (f32 cos/sin of
//   the f32 angle, computed in double then rounded).
void MropeCosSin(const int64_t* pos_t, const int64_t* pos_h, const int64_t* pos_w,
                 int64_t tokens, float theta, int head_dim, const int sections[3], float* cos,
                 float* sin);

// ---------------------------------------------------------------------------------------------
// Attention

// Bidirectional multi-head attention within segments (the ViT; cu_seqlens semantics):
// token t of segment s (cu_seqlens[s] <= t < cu_seqlens[s+1]) attends to all tokens of s.
// out = softmax(q k^T * scale) v per head; GQA: q head h uses kv head h / (num_heads /
// num_kv_heads). Blocked online softmax: memory O(block), never O(n^2).
struct FullAttentionArgs {
  const float* q = nullptr;  // [n, num_heads, head_dim] f32, q_stride floats between tokens
  const float* k = nullptr;  // [n, num_kv_heads, head_dim] f32, k_stride
  const float* v = nullptr;  // [n, num_kv_heads, head_dim] f32, v_stride
  float* out = nullptr;      // [n, num_heads, head_dim] f32, out_stride; must not alias q/k/v
  int64_t q_stride = 0, k_stride = 0, v_stride = 0, out_stride = 0;
  const int64_t* cu_seqlens = nullptr;  // [num_segments + 1], increasing, cu_seqlens[0] == 0
  int num_segments = 0;
  int num_heads = 0;
  int num_kv_heads = 0;  // divides num_heads
  int head_dim = 0;
  float scale = 0.0f;    // usually 1 / sqrt(head_dim)
  // kF32: f32 products (the exact path). kBf16 / kInt8: q, k and v are rounded to bf16 and,
  // where the CPU has AVX512-BF16, the softmax weights too, with products accumulated in f32
  // (vdpbf16ps); scores, softmax and sums stay f32. Per output, beyond the f32 error:
  // |delta| <= (2.2 * 2 u_bf16 * scale * max_j sum_d |q_d k_jd| + 2 u_bf16) * max |v|.
  Precision precision = Precision::kF32;
  // The queries computed: rows [q_begin, q_end) of the whole sequence (q_end < 0: to the
  // end). Each still attends to every key of its segment; rows outside are not written. A
  // caller can so split one head's work into pieces (resumable vision encodes).
  int64_t q_begin = 0, q_end = -1;
};
void FullAttention(ComputeContext& ctx, const FullAttentionArgs& args);

// A paged KV cache as the engine stores it (view; storage owned by the engine):
//   k, v: [num_blocks, block_size, num_kv_heads, head_dim] in `dtype` (f32, bf16 or f16).
// Token slot s = block_id * block_size + offset.
struct PagedKvView {
  DType dtype = DType::kF32;
  void* k = nullptr;
  void* v = nullptr;
  int64_t num_blocks = 0;
  int block_size = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
};

// Writes n tokens' keys and values into the cache, converting f32 to the cache dtype.
//   k: [n, num_kv_heads, head_dim] f32 with k_stride floats between tokens; v likewise;
//   slots: [n] int64, each in [0, num_blocks * block_size).
void WriteKv(const ComputeContext& ctx, const PagedKvView& cache, const float* k,
             int64_t k_stride, const float* v, int64_t v_stride, const int64_t* slots,
             int64_t n);

// Causal GQA attention of new query tokens over the paged cache, for a batch of sequences
// (structure of arrays, STYLE.md rule 14). Sequence s has kv_lens[s] valid cached tokens
// (positions 0 .. kv_lens[s]-1, already written with WriteKv, including the new tokens') and
// q_counts[s] new query tokens at positions kv_lens[s] - q_counts[s] ... kv_lens[s] - 1;
// query at position p attends to keys 0..p. Its query rows are q[q_starts[s] + i].
// f32 products and softmax. A row's result depends only on its query, its keys and values and
// whether its sequence has one query token in the call (decode steps: dot products) or
// several (prefill chunks: the register tiles on AVX-512), never on how a prompt's other
// tokens are chunked or batched.
struct PagedAttentionArgs {
  const float* q = nullptr;  // [total_q, num_heads, head_dim] f32, q_stride floats per token
  float* out = nullptr;      // [total_q, num_heads, head_dim] f32, out_stride; no alias with q
  int64_t q_stride = 0, out_stride = 0;
  int num_heads = 0;         // multiple of cache.num_kv_heads; head_dim == cache.head_dim
  float scale = 0.0f;
  int num_seqs = 0;
  const int64_t* q_starts = nullptr;           // [num_seqs] first query row of each sequence
  const int32_t* q_counts = nullptr;           // [num_seqs] >= 0, <= kv_lens[s]
  const int32_t* kv_lens = nullptr;            // [num_seqs]
  const int32_t* const* block_tables = nullptr;  // [num_seqs] -> [ceil(kv_len/block_size)]
};
void PagedAttention(ComputeContext& ctx, const PagedKvView& cache,
                    const PagedAttentionArgs& args);

}  // namespace ocular::kernels
