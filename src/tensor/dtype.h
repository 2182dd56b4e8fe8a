// DType: element types of weights and activations, with their block layout.
// Quantized types store values in blocks (e.g. q8_0: 32 values in 34 bytes); a row of n values
// must be a whole number of blocks. Values of the enum match GGML's type ids where they exist
// so GGUF tensor types map directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ocular {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

struct DTypeInfo {
  DType dtype;
  std::string_view name;    // "f32", "q8_0", ...
  uint32_t block_elems;     // values per block (1 for plain types)
  uint32_t block_bytes;     // bytes per block
  bool quantized;
  bool supported;           // Ocular can dequantize / compute with it
};

// Info for a GGML type id, or nullopt for ids Ocular does not know (reject the file).
std::optional<DTypeInfo> DTypeFromGgmlId(uint32_t ggml_type);
const DTypeInfo& GetDTypeInfo(DType dtype);
std::string_view DTypeName(DType dtype);
// Parses "f32", "bf16", "q4_k", ... (case-insensitive).
std::optional<DType> DTypeFromName(std::string_view name);

// Bytes needed for `num_elems` values of `dtype`; false when num_elems is not a whole number
// of blocks or the size overflows.
[[nodiscard]] bool DTypeBytes(DType dtype, uint64_t num_elems, uint64_t* out_bytes);

}  // namespace ocular
