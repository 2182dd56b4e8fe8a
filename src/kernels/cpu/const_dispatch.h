// Run-time counts as compile-time constants, for kernels instantiated per count (each keeps
// one accumulator set per row or head in registers): the GEMVs' activation rows, the decode
// slot kernels' query heads per kv head (simd_body.h).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "base/check.h"

namespace ocular::kernels::cpu {

template <typename F, int... I>
bool WithConstantOf(int64_t v, F& f, std::integer_sequence<int, I...>) {
  return ((v == I + 1 ? (f(std::integral_constant<int, I + 1>{}), true) : false) || ...);
}

// f(std::integral_constant<int, v>{}) for v in 1..N, and true; false (f not called) for any
// other v.
template <int N, typename F>
bool WithConstant(int64_t v, F&& f) {
  return WithConstantOf(v, f, std::make_integer_sequence<int, N>{});
}

// Activation rows one pass over the weights serves (matmul.cc splits larger m into passes).
inline constexpr int kGemvMaxRows = 8;

// f(std::integral_constant<int, M>{}) with M == m; m outside 1..kGemvMaxRows is a broken
// invariant of the caller.
template <typename F>
void WithGemvRows(int64_t m, F&& f) {
  CHECK(WithConstant<kGemvMaxRows>(m, f))
      << "gemv serves 1 to " << kGemvMaxRows << " rows, not " << m;
}

}  // namespace ocular::kernels::cpu
