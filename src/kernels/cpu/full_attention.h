// The AVX-512 FullAttention (the ViT's bidirectional attention within segments): register-
// blocked tiles of 4 query rows x 64 keys for Q K^T and 4 query rows x 64 dims for P V, an
// f32 online softmax per 128-key block, parallel over (segment, head, 64-query block).
// Keys and values are repacked once per call into the tiles' layouts (ctx scratch memory).
#pragma once

#include <algorithm>
#include <utility>

#include "kernels/compute_context.h"
#include "kernels/kernels.h"

namespace ocular::kernels::cpu {

enum class AttentionMath {
  kF32,          // f32 inputs, f32 FMA products (the exact path)
  kBf16Rounded,  // q, k, v rounded to bf16, then f32 FMA (kBf16 where the CPU lacks BF16 dots)
  kBf16Dot,      // q, k, v and the softmax weights P in bf16, vdpbf16ps with f32 accumulation
};

// The rows of segment s whose queries a call computes: the segment within [q_begin, q_end)
// (an empty range when they do not meet).
inline std::pair<int64_t, int64_t> QueryRange(const FullAttentionArgs& a, int s) {
  const int64_t b = std::max(a.cu_seqlens[s], a.q_begin);
  const int64_t e = a.q_end < 0 ? a.cu_seqlens[s + 1] : std::min(a.cu_seqlens[s + 1], a.q_end);
  return {b, std::max(b, e)};
}

// Requires ctx.isa() == kAvx512 (and features().avx512_bf16 for kBf16Dot). Same contract as
// kernels::FullAttention; args.precision is ignored (the caller picked `math`).
void FullAttentionAvx512(ComputeContext& ctx, const FullAttentionArgs& args, AttentionMath math);

}  // namespace ocular::kernels::cpu
