// GgufValue: one GGUF metadata value of any type, including (nested) arrays.
// Owns its data (no pointers into the file). Scalars keep their exact GGUF type so a writer can
// reproduce a file; the To* getters convert leniently between numeric widths where the value
// fits (llama.cpp writers are not consistent about u32 vs i32 for counts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocular::loader {

// GGUF metadata value type ids (gguf.md, GGUF_TYPE_*).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

std::string_view GgufTypeName(GgufType type);
// nullopt for ids outside 0..12.
std::optional<GgufType> GgufTypeFromId(uint32_t id);
// Bytes of one scalar element (u8:1 .. f64:8, bool:1); 0 for kString and kArray.
uint32_t GgufScalarBytes(GgufType type);

class GgufValue {
 public:
  GgufValue() = default;  // u8 0

  // Scalars.
  static GgufValue U8(uint8_t v);
  static GgufValue I8(int8_t v);
  static GgufValue U16(uint16_t v);
  static GgufValue I16(int16_t v);
  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue String(std::string v);
  static GgufValue U64(uint64_t v);
  static GgufValue I64(int64_t v);
  static GgufValue F64(double v);
  // Arrays. Numeric/bool arrays are stored as raw little-endian element bytes.
  static GgufValue StringArray(std::vector<std::string> v);
  static GgufValue U8Array(std::vector<uint8_t> v);
  static GgufValue I32Array(std::vector<int32_t> v);
  static GgufValue U32Array(std::vector<uint32_t> v);
  static GgufValue I64Array(std::vector<int64_t> v);
  static GgufValue F32Array(std::vector<float> v);
  static GgufValue BoolArray(std::vector<bool> v);
  // Any scalar element type (not kString/kArray): `raw` holds count x GgufScalarBytes(type)
  // little-endian bytes. CHECKs the size (callers are trusted code, not file input).
  static GgufValue ScalarArray(GgufType element_type, std::vector<uint8_t> raw);
  // An array whose elements are arrays (any element types).
  static GgufValue ArrayOfArrays(std::vector<GgufValue> v);

  GgufType type() const { return type_; }
  bool is_array() const { return type_ == GgufType::kArray; }

  // Scalar getters: nullopt when the type does not match or the value does not fit.
  // ToU64/ToI64: any integer type (and bool: no). ToF64: any integer or float type.
  std::optional<uint64_t> ToU64() const;
  std::optional<int64_t> ToI64() const;
  std::optional<uint32_t> ToU32() const;
  std::optional<int32_t> ToI32() const;
  std::optional<double> ToF64() const;
  std::optional<float> ToF32() const;  // f32 or f64 (narrowed)
  std::optional<bool> ToBool() const;
  // nullopt unless kString.
  std::optional<std::string_view> ToString() const;

  // Array accessors (nullopt / empty when not an array).
  GgufType array_type() const { return array_type_; }
  uint64_t array_size() const;
  // Element i of an array as a scalar value (or nested array); CHECKs i < array_size().
  GgufValue ArrayElement(uint64_t i) const;
  // Whole-array conversions: nullopt when not an array or an element does not convert.
  std::optional<std::vector<int64_t>> ToI64Array() const;
  std::optional<std::vector<double>> ToF64Array() const;
  std::optional<std::vector<float>> ToF32Array() const;
  std::optional<std::vector<bool>> ToBoolArray() const;
  // Borrowed views: nullptr unless the element type matches.
  const std::vector<std::string>* strings() const;
  const std::vector<GgufValue>* arrays() const;
  // Raw little-endian bytes of a scalar-element array (count x GgufScalarBytes(array_type())).
  const std::vector<uint8_t>* raw_elements() const;

  // Exact equality (type, element type, bits). Used by round-trip tests.
  bool operator==(const GgufValue& o) const;

 private:
  GgufType type_ = GgufType::kU8;
  uint64_t bits_ = 0;  // scalar payload, little-endian bit pattern zero-extended to 64 bits
  std::string string_;
  GgufType array_type_ = GgufType::kU8;
  std::vector<uint8_t> raw_;              // scalar-element arrays
  std::vector<std::string> strings_;      // string arrays
  std::vector<GgufValue> arrays_;         // nested arrays
};

}  // namespace ocular::loader
