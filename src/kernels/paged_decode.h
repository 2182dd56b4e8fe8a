// The decode rows of PagedAttention (sequences with one query token in the call), read key
// by key across all kv heads (attention.cc's helper; not part of kernels.h).
#pragma once

#include <span>

#include "kernels/compute_context.h"
#include "kernels/kernels.h"

namespace ocular::kernels {

// Whether PagedDecodeAttention serves a call's decode rows on this ISA and head grouping.
bool PagedDecodeServes(const ComputeContext& ctx, const PagedKvView& cache,
                       const PagedAttentionArgs& args);

// out for every sequence s in `seqs` (each with q_counts[s] == 1) over its kv_lens[s] keys.
void PagedDecodeAttention(ComputeContext& ctx, const PagedKvView& cache,
                          const PagedAttentionArgs& args, std::span<const int> seqs);

}  // namespace ocular::kernels
