#include "model/loader/gguf_value.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "base/check.h"

namespace ocular::loader {
namespace {

template <typename T>
uint64_t Bits(T v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <typename T>
T FromBits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

template <typename T>
std::vector<uint8_t> ToRaw(const std::vector<T>& v) {
  std::vector<uint8_t> raw(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(raw.data(), v.data(), raw.size());
  return raw;
}

bool IsInteger(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16:
    case GgufType::kU32: case GgufType::kI32: case GgufType::kU64: case GgufType::kI64:
      return true;
    default:
      return false;
  }
}
bool IsSigned(GgufType t) {
  return t == GgufType::kI8 || t == GgufType::kI16 || t == GgufType::kI32 || t == GgufType::kI64;
}

// Sign-extends a scalar's bits to int64 (signed types) or returns them as is.
int64_t SignedValue(GgufType t, uint64_t bits) {
  switch (t) {
    case GgufType::kI8: return FromBits<int8_t>(bits);
    case GgufType::kI16: return FromBits<int16_t>(bits);
    case GgufType::kI32: return FromBits<int32_t>(bits);
    case GgufType::kI64: return FromBits<int64_t>(bits);
    default: return 0;
  }
}

}  // namespace

std::string_view GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kU8: return "u8";
    case GgufType::kI8: return "i8";
    case GgufType::kU16: return "u16";
    case GgufType::kI16: return "i16";
    case GgufType::kU32: return "u32";
    case GgufType::kI32: return "i32";
    case GgufType::kF32: return "f32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kU64: return "u64";
    case GgufType::kI64: return "i64";
    case GgufType::kF64: return "f64";
  }
  return "?";
}

std::optional<GgufType> GgufTypeFromId(uint32_t id) {
  if (id > 12) return std::nullopt;
  return static_cast<GgufType>(id);
}

uint32_t GgufScalarBytes(GgufType type) {
  switch (type) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    case GgufType::kString: case GgufType::kArray: return 0;
  }
  return 0;
}

#define OCULAR_GGUF_SCALAR(Name, T, Enum)   \
  GgufValue GgufValue::Name(T v) {          \
    GgufValue out;                          \
    out.type_ = GgufType::Enum;             \
    out.bits_ = Bits<T>(v);                 \
    return out;                             \
  }
OCULAR_GGUF_SCALAR(U8, uint8_t, kU8)
OCULAR_GGUF_SCALAR(I8, int8_t, kI8)
OCULAR_GGUF_SCALAR(U16, uint16_t, kU16)
OCULAR_GGUF_SCALAR(I16, int16_t, kI16)
OCULAR_GGUF_SCALAR(U32, uint32_t, kU32)
OCULAR_GGUF_SCALAR(I32, int32_t, kI32)
OCULAR_GGUF_SCALAR(F32, float, kF32)
OCULAR_GGUF_SCALAR(U64, uint64_t, kU64)
OCULAR_GGUF_SCALAR(I64, int64_t, kI64)
OCULAR_GGUF_SCALAR(F64, double, kF64)
#undef OCULAR_GGUF_SCALAR

GgufValue GgufValue::Bool(bool v) {
  GgufValue out;
  out.type_ = GgufType::kBool;
  out.bits_ = v ? 1 : 0;
  return out;
}

GgufValue GgufValue::String(std::string v) {
  GgufValue out;
  out.type_ = GgufType::kString;
  out.string_ = std::move(v);
  return out;
}

GgufValue GgufValue::StringArray(std::vector<std::string> v) {
  GgufValue out;
  out.type_ = GgufType::kArray;
  out.array_type_ = GgufType::kString;
  out.strings_ = std::move(v);
  return out;
}

GgufValue GgufValue::ScalarArray(GgufType element_type, std::vector<uint8_t> raw) {
  uint32_t width = GgufScalarBytes(element_type);
  CHECK(width > 0) << "ScalarArray needs a scalar element type";
  CHECK_EQ(raw.size() % width, 0u);
  GgufValue out;
  out.type_ = GgufType::kArray;
  out.array_type_ = element_type;
  out.raw_ = std::move(raw);
  return out;
}

GgufValue GgufValue::U8Array(std::vector<uint8_t> v) {
  return ScalarArray(GgufType::kU8, std::move(v));
}
GgufValue GgufValue::I32Array(std::vector<int32_t> v) {
  return ScalarArray(GgufType::kI32, ToRaw(v));
}
GgufValue GgufValue::U32Array(std::vector<uint32_t> v) {
  return ScalarArray(GgufType::kU32, ToRaw(v));
}
GgufValue GgufValue::I64Array(std::vector<int64_t> v) {
  return ScalarArray(GgufType::kI64, ToRaw(v));
}
GgufValue GgufValue::F32Array(std::vector<float> v) {
  return ScalarArray(GgufType::kF32, ToRaw(v));
}
GgufValue GgufValue::BoolArray(std::vector<bool> v) {
  std::vector<uint8_t> raw(v.size());
  for (size_t i = 0; i < v.size(); ++i) raw[i] = v[i] ? 1 : 0;
  return ScalarArray(GgufType::kBool, std::move(raw));
}

GgufValue GgufValue::ArrayOfArrays(std::vector<GgufValue> v) {
  for (const GgufValue& e : v) CHECK(e.is_array()) << "ArrayOfArrays needs array elements";
  GgufValue out;
  out.type_ = GgufType::kArray;
  out.array_type_ = GgufType::kArray;
  out.arrays_ = std::move(v);
  return out;
}

std::optional<int64_t> GgufValue::ToI64() const {
  if (!IsInteger(type_)) return std::nullopt;
  if (IsSigned(type_)) return SignedValue(type_, bits_);
  if (bits_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(bits_);
}

std::optional<uint64_t> GgufValue::ToU64() const {
  if (!IsInteger(type_)) return std::nullopt;
  if (IsSigned(type_)) {
    int64_t s = SignedValue(type_, bits_);
    if (s < 0) return std::nullopt;
    return static_cast<uint64_t>(s);
  }
  return bits_;
}

std::optional<uint32_t> GgufValue::ToU32() const {
  std::optional<uint64_t> v = ToU64();
  if (!v || *v > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<int32_t> GgufValue::ToI32() const {
  std::optional<int64_t> v = ToI64();
  if (!v || *v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(*v);
}

std::optional<double> GgufValue::ToF64() const {
  if (type_ == GgufType::kF32) return FromBits<float>(bits_);
  if (type_ == GgufType::kF64) return FromBits<double>(bits_);
  if (IsSigned(type_)) return static_cast<double>(SignedValue(type_, bits_));
  if (IsInteger(type_)) return static_cast<double>(bits_);
  return std::nullopt;
}

std::optional<float> GgufValue::ToF32() const {
  if (type_ == GgufType::kF32) return FromBits<float>(bits_);
  if (type_ == GgufType::kF64) return static_cast<float>(FromBits<double>(bits_));
  return std::nullopt;
}

std::optional<bool> GgufValue::ToBool() const {
  if (type_ != GgufType::kBool) return std::nullopt;
  return bits_ != 0;
}

std::optional<std::string_view> GgufValue::ToString() const {
  if (type_ != GgufType::kString) return std::nullopt;
  return std::string_view(string_);
}

uint64_t GgufValue::array_size() const {
  if (type_ != GgufType::kArray) return 0;
  if (array_type_ == GgufType::kString) return strings_.size();
  if (array_type_ == GgufType::kArray) return arrays_.size();
  return raw_.size() / GgufScalarBytes(array_type_);
}

GgufValue GgufValue::ArrayElement(uint64_t i) const {
  CHECK(is_array());
  CHECK_LT(i, array_size());
  if (array_type_ == GgufType::kString) return String(strings_[i]);
  if (array_type_ == GgufType::kArray) return arrays_[i];
  uint32_t width = GgufScalarBytes(array_type_);
  GgufValue out;
  out.type_ = array_type_;
  std::memcpy(&out.bits_, raw_.data() + i * width, width);
  return out;
}

std::optional<std::vector<int64_t>> GgufValue::ToI64Array() const {
  if (!is_array() || !IsInteger(array_type_)) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(array_size());
  for (uint64_t i = 0; i < array_size(); ++i) {
    std::optional<int64_t> v = ArrayElement(i).ToI64();
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::optional<std::vector<double>> GgufValue::ToF64Array() const {
  if (!is_array() || GgufScalarBytes(array_type_) == 0 || array_type_ == GgufType::kBool) {
    return std::nullopt;
  }
  std::vector<double> out;
  out.reserve(array_size());
  for (uint64_t i = 0; i < array_size(); ++i) out.push_back(*ArrayElement(i).ToF64());
  return out;
}

std::optional<std::vector<float>> GgufValue::ToF32Array() const {
  std::optional<std::vector<double>> d = ToF64Array();
  if (!d) return std::nullopt;
  return std::vector<float>(d->begin(), d->end());
}

std::optional<std::vector<bool>> GgufValue::ToBoolArray() const {
  if (!is_array() || array_type_ != GgufType::kBool) return std::nullopt;
  std::vector<bool> out(raw_.size());
  for (size_t i = 0; i < raw_.size(); ++i) out[i] = raw_[i] != 0;
  return out;
}

const std::vector<std::string>* GgufValue::strings() const {
  return is_array() && array_type_ == GgufType::kString ? &strings_ : nullptr;
}
const std::vector<GgufValue>* GgufValue::arrays() const {
  return is_array() && array_type_ == GgufType::kArray ? &arrays_ : nullptr;
}
const std::vector<uint8_t>* GgufValue::raw_elements() const {
  return is_array() && GgufScalarBytes(array_type_) > 0 ? &raw_ : nullptr;
}

bool GgufValue::operator==(const GgufValue& o) const {
  if (type_ != o.type_) return false;
  if (type_ == GgufType::kString) return string_ == o.string_;
  if (type_ != GgufType::kArray) return bits_ == o.bits_;
  return array_type_ == o.array_type_ && raw_ == o.raw_ && strings_ == o.strings_ &&
         arrays_ == o.arrays_;
}

}  // namespace ocular::loader
