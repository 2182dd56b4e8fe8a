// Test helpers shared by the kernel tests: random data, one ComputeContext per dispatch path,
// and the f32 unit roundoff the tolerances are derived from.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/compute_context.h"

namespace ocular::kernels::testing {

constexpr double kU32 = 0x1p-24;   // unit roundoff of f32
constexpr double kUBf16 = 0x1p-8;  // unit roundoff of bf16
constexpr double kUF16 = 0x1p-11;  // unit roundoff of f16

inline std::vector<float> RandomFloats(std::mt19937& rng, int64_t n, float lo = -1.0f,
                                       float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

// Every path this CPU can take (the test parameter).
inline std::vector<Isa> AvailableIsas() {
  std::vector<Isa> out;
  const Isa best = DetectCpuFeatures().BestIsa();
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa <= best) out.push_back(isa);
  }
  return out;
}

inline std::string IsaParamName(const ::testing::TestParamInfo<Isa>& info) {
  return std::string(IsaName(info.param));
}

// A context forced onto one path; `threads` compute threads (2 exercises the split).
struct PathContext {
  explicit PathContext(Isa isa, bool use_onednn = true, int threads = 2)
      : pool(threads), ctx(pool, ComputeOptions{isa, use_onednn, 8}) {}
  ThreadPool pool;
  ComputeContext ctx;
};

}  // namespace ocular::kernels::testing
