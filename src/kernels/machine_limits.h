// Probes of the machine's limits, measured in the calling process so benchmarks can report
// their figures as fractions of them (PERFORMANCE.md: physical units against the limit).
#pragma once

#include <cstdint>

#include "kernels/compute_context.h"

namespace ocular::kernels {

// Memory read bandwidth in GB/s: all pool threads stream a `bytes`-sized buffer (default
// 1 GiB, far above the caches). Median of `repetitions` passes after one warm-up.
double MeasureReadBandwidthGbs(ComputeContext& ctx, int64_t bytes = int64_t{1} << 30,
                               int repetitions = 5);

// The matrix peak in GFLOP/s: MatMul of [m, k] x [n, k]^T with bf16 weights at
// Precision::kBf16 (oneDNN, AMX where present). Median of `repetitions`.
double MeasureMatmulPeakGflops(ComputeContext& ctx, int64_t m = 1024, int64_t k = 2048,
                               int64_t n = 2048, int repetitions = 5);

}  // namespace ocular::kernels
