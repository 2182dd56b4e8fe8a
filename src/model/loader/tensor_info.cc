#include "model/loader/tensor_info.h"

namespace ocular::loader {

std::optional<Shape> TensorInfo::AsShape() const {
  if (shape.size() > static_cast<size_t>(kMaxDims)) return std::nullopt;
  Shape s;
  for (int64_t d : shape) s.dims[s.rank++] = d;
  return s;
}

std::string TensorInfo::ShapeString() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::optional<TensorView> TensorInfo::View() const {
  std::optional<Shape> s = AsShape();
  if (!s) return std::nullopt;
  return TensorView{dtype, *s, data};
}

std::optional<TensorView> TensorInfo::ViewAs(const Shape& new_shape) const {
  uint64_t n = 1;
  for (int i = 0; i < new_shape.rank; ++i) {
    if (new_shape.dims[i] < 0) return std::nullopt;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(new_shape.dims[i]), &n)) {
      return std::nullopt;
    }
  }
  if (n != num_elements) return std::nullopt;
  // The innermost dim must stay a whole number of blocks for quantized types.
  const DTypeInfo& info = GetDTypeInfo(dtype);
  uint64_t cols = new_shape.rank == 0 ? 1 : static_cast<uint64_t>(new_shape.dims[new_shape.rank - 1]);
  if (cols % info.block_elems != 0) return std::nullopt;
  return TensorView{dtype, new_shape, data};
}

}  // namespace ocular::loader
