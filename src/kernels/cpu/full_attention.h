// The AVX-512 FullAttention (the ViT's bidirectional attention within segments): register-
// blocked tiles of 4 query rows x 64 keys for Q K^T and 4 query rows x 64 dims for P V, an
// f32 online softmax per 128-key block, parallel over (segment, head, 64-query block).
// Keys and values are repacked once per call into the tiles' layouts (ctx scratch memory).
#pragma once

#include "kernels/compute_context.h"
#include "kernels/kernels.h"

namespace ocular::kernels::cpu {

enum class AttentionMath {
  kF32,          // f32 inputs, f32 FMA products (the exact path)
  kBf16Rounded,  // q, k, v rounded to bf16, then f32 FMA (kBf16 where the CPU lacks BF16 dots)
  kBf16Dot,      // q, k, v and the softmax weights P in bf16, vdpbf16ps with f32 accumulation
};

// Requires ctx.isa() == kAvx512 (and features().avx512_bf16 for kBf16Dot). Same contract as
// kernels::FullAttention; args.precision is ignored (the caller picked `math`).
void FullAttentionAvx512(ComputeContext& ctx, const FullAttentionArgs& args, AttentionMath math);

}  // namespace ocular::kernels::cpu
