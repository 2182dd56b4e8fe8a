// Probes of the machine's limits, measured in the calling process so benchmarks can report
// their figures as fractions of them (PERFORMANCE.md: physical units against the limit).
//
// Each probe repeats a measurement and reports the best pass as the limit: on a shared host
// other work only ever slows a pass down, so the fastest pass is the closest to what the
// hardware delivers, and a figure is never reported as a larger share of a limit than it is.
// The median is kept beside it to show how noisy the host was.
#pragma once

#include <cstdint>

#include "kernels/compute_context.h"

namespace ocular::kernels {

struct LimitProbe {
  double best = 0;    // the limit: the fastest pass
  double median = 0;  // the median pass (noise on a shared host shows as best >> median)
};

// Memory read bandwidth in GB/s: all pool threads stream a `bytes`-sized buffer (default
// 1 GiB, far above the caches, in 2 MiB pages). `repetitions` passes after one warm-up.
LimitProbe MeasureReadBandwidthGbs(ComputeContext& ctx, int64_t bytes = int64_t{1} << 30,
                                   int repetitions = 5);

// The bf16 matrix peak in GFLOP/s: MatMul of [m, k] x [n, k]^T with bf16 weights at
// Precision::kBf16 (oneDNN, AMX where present). `repetitions` products after one warm-up.
LimitProbe MeasureMatmulPeakGflops(ComputeContext& ctx, int64_t m = 1024, int64_t k = 2048,
                                   int64_t n = 2048, int repetitions = 5);

// The int8 matrix peak in GOP/s (multiply-adds count as two): MatMul of [m, k] x [n, k]^T
// with q8_0 weights in the packed GEMV layout, the product quantized text weights take
// when the model packs them (GemvPackingPays). Zero where packing does not pay.
LimitProbe MeasureInt8PeakGops(ComputeContext& ctx, int64_t m = 512, int64_t k = 2048,
                               int64_t n = 2048, int repetitions = 5);

}  // namespace ocular::kernels
