// TensorInfo: one validated tensor of a model file, as a view into its mapping.
// Produced by the safetensors and GGUF parsers; every field has been checked against the file
// (dtype known, dims non-negative, byte size = elements x dtype size, range inside the file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/tensor.h"

namespace ocular::loader {

struct TensorInfo {
  std::string name;
  // Element type. For safetensors U8/BOOL (no DType of their own) this is kI8, a same-width
  // stand-in; `file_dtype` keeps the file's own name and `supported` is false.
  DType dtype = DType::kF32;
  // The dtype as spelled in the file: "BF16", "F32" (safetensors) or "q8_0", "f16" (GGUF).
  std::string file_dtype;
  // False when Ocular parses the type but cannot compute with it (safetensors I8..I64, F64, U8,
  // BOOL; GGUF types whose DTypeInfo::supported is false). Loaders of a model must refuse it.
  bool supported = true;
  // Outer-to-inner, any rank (safetensors allows rank 0 and rank > 4, e.g. the HF patch
  // embedding [out, 3, 2, 16, 16]). For GGUF this is ne[] reversed, so a matrix is
  // [rows, cols] = PyTorch [out, in].
  std::vector<int64_t> shape;
  uint64_t num_elements = 0;
  // Points into the owning mapping (SafetensorsModel / GgufFile / caller's span); valid as long
  // as that owner lives. `data` is null only when size_bytes == 0.
  const uint8_t* data = nullptr;
  uint64_t size_bytes = 0;
  // Absolute byte offset of `data` within its file (for diagnostics and `inspect`).
  uint64_t file_offset = 0;

  int rank() const { return static_cast<int>(shape.size()); }
  // The shape as a tensor Shape when rank <= kMaxDims (4), otherwise nullopt.
  std::optional<Shape> AsShape() const;
  // "[151936, 64]".
  std::string ShapeString() const;
  // A TensorView when rank <= 4, otherwise nullopt (reshape first via ViewAs).
  std::optional<TensorView> View() const;
  // A view with a different shape of the same element count; nullopt when counts differ.
  std::optional<TensorView> ViewAs(const Shape& shape) const;
};

}  // namespace ocular::loader
