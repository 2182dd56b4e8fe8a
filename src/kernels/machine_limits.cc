#include "kernels/machine_limits.h"

#include <algorithm>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/clock.h"
#include "kernels/kernels.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

LimitProbe Summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.back(), v[v.size() / 2]};
}

// Times `repetitions` calls of `once` after one warm-up call; `work` units per call.
template <typename F>
LimitProbe TimeRate(double work, int repetitions, F&& once) {
  std::vector<double> rates;
  for (int r = 0; r <= repetitions; ++r) {
    const int64_t t0 = NowNs();
    once();
    const double s = double(NowNs() - t0) * 1e-9;
    if (r > 0) rates.push_back(work / s);  // the first call is a warm-up
  }
  return Summarise(std::move(rates));
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

LimitProbe MeasureReadBandwidthGbs(ComputeContext& ctx, int64_t bytes, int repetitions) {
  const int64_t n = bytes / 4;
  // In 2 MiB pages, as the model's weights are held (resident_weights.h): the limit is what
  // streaming can reach, not what 4 KiB pages allow.
  AlignedBuffer buf = AlignedBuffer::InHugePages(static_cast<size_t>(n) * 4);
  float* p = buf.as<float>();
  ctx.pool().ParallelRange(n, 1 << 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) p[i] = 1.0f;  // touch every page, in parallel
  });
  std::vector<float> sink(static_cast<size_t>(ctx.num_threads()), 0.0f);
  const LimitProbe gbs = TimeRate(double(n) * 4 / 1e9, repetitions, [&] {
    ctx.pool().ParallelRange(n, 1 << 18, [&](int64_t b, int64_t e, int t) {
      sink[t] += SumRange(p + b, e - b);
    });
  });
  volatile float keep = sink[0];
  (void)keep;
  return gbs;
}

LimitProbe MeasureMatmulPeakGflops(ComputeContext& ctx, int64_t m, int64_t k, int64_t n,
                                   int repetitions) {
  std::vector<uint16_t> w(static_cast<size_t>(n * k), F32ToBf16(0.01f));  // [n, k] bf16
  std::vector<float> x(static_cast<size_t>(m * k), 0.5f);                // [m, k]
  std::vector<float> y(static_cast<size_t>(m * n));                      // [m, n]
  WeightMatrix wm{DType::kBF16, n, k, w.data(), 0};
  return TimeRate(2.0 * double(m) * double(n) * double(k) / 1e9, repetitions,
                  [&] { MatMul(ctx, x.data(), m, wm, nullptr, y.data(), Precision::kBf16); });
}

LimitProbe MeasureInt8PeakGops(ComputeContext& ctx, int64_t m, int64_t k, int64_t n,
                               int repetitions) {
  if (!GemvPackingPays(ctx)) return {};
  // q8_0 rows quantized from a spread of values (no kernel shortcut for zeros applies).
  const int64_t nb = k / kQK8_0;
  std::vector<BlockQ8_0> rows(static_cast<size_t>(n * nb));
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < k; ++c) row[c] = float((r * 7 + c * 13) % 255 - 127) * 0.01f;
    ocular::ref::QuantizeRowQ8_0(row.data(), rows.data() + r * nb, k);
  }
  const WeightMatrix row_major{DType::kQ8_0, n, k, rows.data(), 0};
  AlignedBuffer packed(static_cast<size_t>(GemvPackedBytes(DType::kQ8_0, n, k)));
  const WeightMatrix wm = PackForGemv(ctx, row_major, packed.data());
  std::vector<float> x(static_cast<size_t>(m * k), 0.5f);  // [m, k]
  std::vector<float> y(static_cast<size_t>(m * n));        // [m, n]
  return TimeRate(2.0 * double(m) * double(n) * double(k) / 1e9, repetitions,
                  [&] { MatMul(ctx, x.data(), m, wm, nullptr, y.data(), Precision::kInt8); });
}

}  // namespace ocular::kernels
