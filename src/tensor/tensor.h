// Shape and TensorView: non-owning, typed views of contiguous row-major data.
// Shapes are written outer-to-inner ([rows, cols]); the last dimension is contiguous.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "base/check.h"
#include "tensor/dtype.h"

namespace ocular {

constexpr int kMaxDims = 4;

struct Shape {
  std::array<int64_t, kMaxDims> dims{};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) {
    CHECK_LE(static_cast<int>(d.size()), kMaxDims);
    for (int64_t v : d) dims[rank++] = v;
  }
  int64_t operator[](int i) const {
    DCHECK(i >= 0 && i < rank);
    return dims[i];
  }
  int64_t NumElements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  // Product of all but the last dimension.
  int64_t NumRows() const { return rank == 0 ? 1 : NumElements() / dims[rank - 1]; }
  int64_t Cols() const { return rank == 0 ? 1 : dims[rank - 1]; }
  bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  std::string ToString() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) {
      if (i) s += ", ";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }
};

// A view of contiguous data; `data` may point into a file mapping.
struct TensorView {
  DType dtype = DType::kF32;
  Shape shape;
  const void* data = nullptr;

  int64_t NumElements() const { return shape.NumElements(); }
  uint64_t SizeBytes() const {
    uint64_t b = 0;
    CHECK(DTypeBytes(dtype, static_cast<uint64_t>(NumElements()), &b));
    return b;
  }
  // Bytes of one row (last dimension).
  uint64_t RowBytes() const {
    uint64_t b = 0;
    CHECK(DTypeBytes(dtype, static_cast<uint64_t>(shape.Cols()), &b));
    return b;
  }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data); }
};

}  // namespace ocular
