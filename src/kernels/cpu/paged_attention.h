// The AVX-512 causal PagedAttention for sequences with several query tokens in a call
// (prefill chunks): each (sequence, kv head)'s keys and values [0, kv_len) are gathered from
// the paged cache once into the register tiles' layouts (attention_tiles_avx512.h), then
// tiles of 4 query rows x 64 keys run with each row's causal limit, parallel over (sequence,
// kv head, block of query tokens), the most expensive blocks (the triangle's long rows) first.
//
// Numerics: per row, exactly the arithmetic of the row-blocked kernel's transposed method
// (attention.cc, AttendRows): 64-key blocks from key 0, each score an FMA chain over the dims
// then times scale, the same running max / correction / exp_shift_sum of the AVX-512 kernel
// table and an FMA per key for P V. A row's result therefore does not depend on which other
// rows share its call or tile: chunked prefill gives the same bits as one chunk.
#pragma once

#include <span>

#include "kernels/compute_context.h"
#include "kernels/kernels.h"

namespace ocular::kernels::cpu {

// Computes the outputs of the sequences `seqs` of `args` (indices into its arrays) and
// writes nothing else. Requires ctx.isa() == kAvx512; preconditions as PagedAttention's
// (checked by the caller).
void PagedAttentionTilesAvx512(ComputeContext& ctx, const PagedKvView& cache,
                               const PagedAttentionArgs& args, std::span<const int> seqs);

}  // namespace ocular::kernels::cpu
