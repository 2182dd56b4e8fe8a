#include "tensor/dtype.h"

#include <array>
#include <cctype>
#include <string>

#include "base/check.h"
#include "base/checked_math.h"

namespace ocular {
namespace {

constexpr std::array<DTypeInfo, 20> kDTypes = {{
    {DType::kF32, "f32", 1, 4, false, true},
    {DType::kF16, "f16", 1, 2, false, true},
    {DType::kBF16, "bf16", 1, 2, false, true},
    {DType::kQ8_0, "q8_0", 32, 34, true, true},
    {DType::kQ4_0, "q4_0", 32, 18, true, true},
    {DType::kQ4_K, "q4_k", 256, 144, true, true},
    {DType::kQ6_K, "q6_k", 256, 210, true, true},
    {DType::kQ4_1, "q4_1", 32, 20, true, false},
    {DType::kQ5_0, "q5_0", 32, 22, true, false},
    {DType::kQ5_1, "q5_1", 32, 24, true, false},
    {DType::kQ8_1, "q8_1", 32, 36, true, false},
    {DType::kQ2_K, "q2_k", 256, 84, true, false},
    {DType::kQ3_K, "q3_k", 256, 110, true, false},
    {DType::kQ5_K, "q5_k", 256, 176, true, false},
    {DType::kQ8_K, "q8_k", 256, 292, true, false},
    {DType::kI8, "i8", 1, 1, false, false},
    {DType::kI16, "i16", 1, 2, false, false},
    {DType::kI32, "i32", 1, 4, false, false},
    {DType::kI64, "i64", 1, 8, false, false},
    {DType::kF64, "f64", 1, 8, false, false},
}};

}  // namespace

std::optional<DTypeInfo> DTypeFromGgmlId(uint32_t ggml_type) {
  for (const auto& info : kDTypes) {
    if (static_cast<uint32_t>(info.dtype) == ggml_type) return info;
  }
  return std::nullopt;
}

const DTypeInfo& GetDTypeInfo(DType dtype) {
  for (const auto& info : kDTypes) {
    if (info.dtype == dtype) return info;
  }
  CHECK(false) << "unknown dtype " << static_cast<uint32_t>(dtype);
  return kDTypes[0];
}

std::string_view DTypeName(DType dtype) { return GetDTypeInfo(dtype).name; }

std::optional<DType> DTypeFromName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& info : kDTypes) {
    if (info.name == lower) return info.dtype;
  }
  return std::nullopt;
}

bool DTypeBytes(DType dtype, uint64_t num_elems, uint64_t* out_bytes) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  if (num_elems % info.block_elems != 0) return false;
  return CheckedMul(num_elems / info.block_elems, info.block_bytes, out_bytes);
}

}  // namespace ocular
