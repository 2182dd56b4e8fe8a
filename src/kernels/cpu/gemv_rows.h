// The GEMV kernels' activation-row count as a compile-time constant: each kernel keeps one
// accumulator set per row in registers, so it is instantiated for 1..kGemvMaxRows rows and a
// call picks its instance here (one switch for all the GEMV kernels).
#pragma once

#include <cstdint>
#include <type_traits>

#include "base/check.h"

namespace ocular::kernels::cpu {

// Activation rows one pass over the weights serves (matmul.cc splits larger m into passes).
inline constexpr int kGemvMaxRows = 8;

// f(std::integral_constant<int, M>{}) with M == m; m outside 1..kGemvMaxRows is a broken
// invariant of the caller.
template <typename F>
void WithGemvRows(int64_t m, F&& f) {
  switch (m) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    case 8: return f(std::integral_constant<int, 8>{});
    default: CHECK(false) << "gemv serves 1 to " << kGemvMaxRows << " rows, not " << m;
  }
}

}  // namespace ocular::kernels::cpu
