// Overflow-checked arithmetic for sizes coming from files and requests (RELIABILITY.md:
// "validate, then allocate"). Each returns false on overflow and leaves *out unspecified.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace ocular {

[[nodiscard]] inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
[[nodiscard]] inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
// Product of all factors; false on overflow.
[[nodiscard]] inline bool CheckedProduct(std::initializer_list<uint64_t> factors, uint64_t* out) {
  uint64_t p = 1;
  for (uint64_t f : factors) {
    if (!CheckedMul(p, f, &p)) return false;
  }
  *out = p;
  return true;
}
// Rounds `value` up to a multiple of `alignment` (a power of two); false on overflow.
[[nodiscard]] inline bool CheckedAlignUp(uint64_t value, uint64_t alignment, uint64_t* out) {
  uint64_t sum;
  if (!CheckedAdd(value, alignment - 1, &sum)) return false;
  *out = sum & ~(alignment - 1);
  return true;
}
inline bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace ocular
