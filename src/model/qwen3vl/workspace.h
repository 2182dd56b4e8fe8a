// Activation buffers reused across layers and calls: on the hosts we measured, the first touch
// of a fresh page cost more than the products it fed, so the encoder and the decoder keep
// their temporaries and only grow them, in huge pages (LargeVector) where they are large.
#pragma once

#include <cstdint>
#include <vector>

#include "base/huge_page_allocator.h"

namespace ocular::qwen3vl {

// The first n floats of v, growing it if needed (contents unspecified).
template <typename Alloc>
float* Grow(std::vector<float, Alloc>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace ocular::qwen3vl
