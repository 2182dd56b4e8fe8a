// GgufFile: metadata and tensor lookups.
#include "model/loader/gguf.h"
#include "model/loader/safe_name.h"

namespace ocular::loader {
namespace {

Status WrongType(std::string_view key, std::string_view expected) {
  return InvalidArgument("GGUF key " + SafeName(key) + ": expected " + std::string(expected));
}

}  // namespace

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

#define OCULAR_GGUF_GETTER(Name, T, Conv, What)                              \
  Result<T> GgufFile::Name(std::string_view key) const {                     \
    const GgufValue* v = Find(key);                                          \
    if (v == nullptr) return NotFound("GGUF key " + SafeName(key) + " missing"); \
    auto x = v->Conv();                                                      \
    if (!x) return WrongType(key, What);                                     \
    return static_cast<T>(*x);                                               \
  }
OCULAR_GGUF_GETTER(GetU32, uint32_t, ToU32, "an integer in u32 range")
OCULAR_GGUF_GETTER(GetU64, uint64_t, ToU64, "a non-negative integer")
OCULAR_GGUF_GETTER(GetI32, int32_t, ToI32, "an integer in i32 range")
OCULAR_GGUF_GETTER(GetI64, int64_t, ToI64, "an integer in i64 range")
OCULAR_GGUF_GETTER(GetF32, float, ToF32, "a float")
OCULAR_GGUF_GETTER(GetBool, bool, ToBool, "a bool")
OCULAR_GGUF_GETTER(GetI64Array, std::vector<int64_t>, ToI64Array, "an integer array")
OCULAR_GGUF_GETTER(GetF32Array, std::vector<float>, ToF32Array, "a numeric array")
#undef OCULAR_GGUF_GETTER

Result<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return NotFound("GGUF key " + SafeName(key) + " missing");
  std::optional<std::string_view> s = v->ToString();
  if (!s) return WrongType(key, "a string");
  return std::string(*s);
}

Result<const GgufValue*> GgufFile::GetArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return NotFound("GGUF key " + SafeName(key) + " missing");
  if (!v->is_array()) return WrongType(key, "an array");
  return v;
}

}  // namespace ocular::loader
