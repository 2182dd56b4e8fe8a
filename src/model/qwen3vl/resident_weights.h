// Where the text decoder's weight matrices live while the model runs.
//
// Decode streams every text matrix once per token, so it runs at the speed memory delivers
// them. In the file mapping they sit in 4 KiB page-cache pages: a TLB miss per page and the
// hardware prefetchers stopping at each page boundary cost ~25% of decode speed on the
// benchmark host. A copy in anonymous 2 MiB pages streams at the rate bench_kernels measures.
#pragma once

#include <vector>

#include "base/aligned_buffer.h"
#include "base/mapped_file.h"
#include "kernels/compute_context.h"
#include "model/qwen3vl/runtime_weights.h"

namespace ocular::qwen3vl {

enum class WeightPlacement {
  kCopied,  // text matrices copied once at load into 2 MiB pages (the default)
  kMapped,  // used in place from the file mapping: shared page cache, faster load
};

// Copies the bytes of `w` (rows * Stride()) to `dst`: read from the file when `w` lies in one
// of `mappings` (its mapped pages never fault in nor count in the resident set; a fault costs
// several microseconds per 4 KiB page under some hypervisors), else copied from memory.
void CopyMatrixBytes(kernels::ComputeContext& ctx, const std::vector<const MappedFile*>& mappings,
                     const kernels::WeightMatrix& w, uint8_t* dst);

// Packs a q8_0 / q4_0 / q4_k / q6_k matrix into kernels::WeightLayout::kGemvPacked at `dst`
// (GemvPackedBytes bytes, 64-byte aligned), reading the rows as CopyMatrixBytes does; returns
// the packed view.
kernels::WeightMatrix PackMatrixBytes(kernels::ComputeContext& ctx,
                                      const std::vector<const MappedFile*>& mappings,
                                      const kernels::WeightMatrix& w, uint8_t* dst);

// Copies every text matrix (attention and MLP projections, the LM head and the token
// embedding it may be tied to; each distinct tensor once) into one huge-page block and
// retargets the views in `text` to it (CopyMatrixBytes). Same bytes, same results; returns
// the block, which must outlive `text`'s use. With `pack_for_gemv`, q8_0 / q4_0 / q4_k / q6_k
// matrices are packed instead (PackMatrixBytes: the same blocks, 16 rows side by side for the int8 GEMV,
// which then reads them ~1.2-3x faster; sums in another order, so not bit-identical).
AlignedBuffer CopyTextMatrices(kernels::ComputeContext& ctx,
                               const std::vector<const MappedFile*>& mappings, TextRt* text,
                               bool pack_for_gemv = false);

}  // namespace ocular::qwen3vl
