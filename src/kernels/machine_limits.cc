#include "kernels/machine_limits.h"

#include <algorithm>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/clock.h"
#include "kernels/kernels.h"
#include "tensor/half.h"

namespace ocular::kernels {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Sums a range with independent accumulators; the compiler vectorises it at -O2/-O3 and it is
// bound by memory reads for buffers far larger than the caches.
float SumRange(const float* p, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 16; ++j) acc[j] += p[i + j];
  }
  float s = 0;
  for (; i < n; ++i) s += p[i];
  for (float a : acc) s += a;
  return s;
}

}  // namespace

double MeasureReadBandwidthGbs(ComputeContext& ctx, int64_t bytes, int repetitions) {
  const int64_t n = bytes / 4;
  // In 2 MiB pages, as the model's weights are held (resident_weights.h): the limit is what
  // streaming can reach, not what 4 KiB pages allow.
  AlignedBuffer buf = AlignedBuffer::InHugePages(static_cast<size_t>(n) * 4);
  float* p = buf.as<float>();
  ctx.pool().ParallelRange(n, 1 << 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) p[i] = 1.0f;  // touch every page, in parallel
  });
  std::vector<float> sink(static_cast<size_t>(ctx.num_threads()), 0.0f);
  std::vector<double> gbs;
  for (int r = 0; r <= repetitions; ++r) {
    const int64_t t0 = NowNs();
    ctx.pool().ParallelRange(n, 1 << 18, [&](int64_t b, int64_t e, int t) {
      sink[t] += SumRange(p + b, e - b);
    });
    const double s = double(NowNs() - t0) * 1e-9;
    if (r > 0) gbs.push_back(double(n) * 4 / s / 1e9);  // first pass is a warm-up
  }
  volatile float keep = sink[0];
  (void)keep;
  return Median(gbs);
}

double MeasureMatmulPeakGflops(ComputeContext& ctx, int64_t m, int64_t k, int64_t n,
                               int repetitions) {
  std::vector<uint16_t> w(static_cast<size_t>(n * k), F32ToBf16(0.01f));  // [n, k] bf16
  std::vector<float> x(static_cast<size_t>(m * k), 0.5f);                // [m, k]
  std::vector<float> y(static_cast<size_t>(m * n));                      // [m, n]
  WeightMatrix wm{DType::kBF16, n, k, w.data(), 0};
  std::vector<double> gflops;
  for (int r = 0; r <= repetitions; ++r) {
    const int64_t t0 = NowNs();
    MatMul(ctx, x.data(), m, wm, nullptr, y.data(), Precision::kBf16);
    const double s = double(NowNs() - t0) * 1e-9;
    if (r > 0) gflops.push_back(2.0 * double(m) * double(n) * double(k) / s / 1e9);
  }
  return Median(gflops);
}

}  // namespace ocular::kernels
