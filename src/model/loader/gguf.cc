// ParseGguf / OpenGguf: validation of GGUF v2/v3 files (see gguf.h for the rules).
#include <algorithm>
#include <cstring>
#include <limits>

#include "base/checked_math.h"
#include "model/loader/byte_reader.h"
#include "model/loader/gguf.h"
#include "model/loader/safe_name.h"

namespace ocular::loader {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
// Smallest encodings, used to bound counts against the bytes left before reserving memory.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim, type, offset
constexpr uint64_t kMinStringBytes = 8;
constexpr uint64_t kMinArrayBytes = 4 + 8;

Status Truncated(std::string_view what) {
  return DataLoss("file truncated while reading " + std::string(what));
}

Status ReadString(ByteReader& r, std::string_view what, std::string* out) {
  uint64_t len;
  if (!r.Read(&len)) return Truncated(what);
  if (len > kGgufMaxStringBytes) {
    return OutOfRange(std::string(what) + ": string length " + std::to_string(len) +
                      " exceeds the limit of " + std::to_string(kGgufMaxStringBytes));
  }
  std::string_view view;
  if (!r.ReadView(len, &view)) return Truncated(what);
  out->assign(view);
  return OkStatus();
}

Status ReadValue(ByteReader& r, GgufType type, int depth, const std::string& key,
                 GgufValue* out);

Status ReadArray(ByteReader& r, int depth, const std::string& key, GgufValue* out) {
  const std::string where = "key " + SafeName(key);
  if (depth >= kGgufMaxArrayDepth) {
    return OutOfRange(where + ": arrays nested deeper than " +
                      std::to_string(kGgufMaxArrayDepth));
  }
  uint32_t type_id;
  uint64_t count;
  if (!r.Read(&type_id) || !r.Read(&count)) return Truncated("an array header");
  std::optional<GgufType> elem = GgufTypeFromId(type_id);
  if (!elem) return InvalidArgument(where + ": unknown array element type " +
                                    std::to_string(type_id));
  if (count > kGgufMaxArrayElems) {
    return OutOfRange(where + ": array of " + std::to_string(count) +
                      " elements exceeds the limit of " + std::to_string(kGgufMaxArrayElems));
  }
  uint32_t width = GgufScalarBytes(*elem);
  uint64_t min_elem = width > 0                      ? width
                      : *elem == GgufType::kString ? kMinStringBytes
                                                   : kMinArrayBytes;
  uint64_t min_total;
  if (!CheckedMul(count, min_elem, &min_total) || min_total > r.remaining()) {
    return Truncated("an array (count larger than the rest of the file)");
  }
  if (width > 0) {
    std::span<const uint8_t> raw;
    if (!r.ReadBytes(count * width, &raw)) return Truncated("an array");
    *out = GgufValue::ScalarArray(*elem, std::vector<uint8_t>(raw.begin(), raw.end()));
    return OkStatus();
  }
  if (*elem == GgufType::kString) {
    std::vector<std::string> strings;
    strings.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      std::string s;
      RETURN_IF_ERROR(ReadString(r, "an array string", &s));
      strings.push_back(std::move(s));
    }
    *out = GgufValue::StringArray(std::move(strings));
    return OkStatus();
  }
  std::vector<GgufValue> arrays;
  arrays.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    GgufValue v;
    RETURN_IF_ERROR(ReadArray(r, depth + 1, key, &v));
    arrays.push_back(std::move(v));
  }
  *out = GgufValue::ArrayOfArrays(std::move(arrays));
  return OkStatus();
}

Status ReadValue(ByteReader& r, GgufType type, int depth, const std::string& key,
                 GgufValue* out) {
  switch (type) {
    case GgufType::kString: {
      std::string s;
      RETURN_IF_ERROR(ReadString(r, "a string value", &s));
      *out = GgufValue::String(std::move(s));
      return OkStatus();
    }
    case GgufType::kArray:
      return ReadArray(r, depth, key, out);
    default: {
      uint32_t width = GgufScalarBytes(type);
      std::span<const uint8_t> raw;
      if (!r.ReadBytes(width, &raw)) return Truncated("a scalar value");
      // A one-element scalar array gives the exact bit pattern; take its element.
      *out = GgufValue::ScalarArray(type, std::vector<uint8_t>(raw.begin(), raw.end()))
                 .ArrayElement(0);
      return OkStatus();
    }
  }
}

struct TensorRange {
  uint64_t begin;  // relative to the data section
  uint64_t end;
  size_t tensor;
};

Status ReadTensorInfo(ByteReader& r, TensorInfo* info, uint64_t* rel_offset) {
  RETURN_IF_ERROR(ReadString(r, "a tensor name", &info->name));
  const std::string where = "tensor " + SafeName(info->name);
  uint32_t n_dims;
  if (!r.Read(&n_dims)) return Truncated("a tensor info");
  if (n_dims < 1 || n_dims > static_cast<uint32_t>(kGgufMaxDims)) {
    return InvalidArgument(where + ": " + std::to_string(n_dims) + " dims (must be 1..4)");
  }
  uint64_t ne[kGgufMaxDims];
  uint64_t num_elements = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    if (!r.Read(&ne[i])) return Truncated("a tensor info");
    if (ne[i] == 0 || ne[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgument(where + ": dimension " + std::to_string(i) + " is zero or too large");
    }
    if (!CheckedMul(num_elements, ne[i], &num_elements) ||
        num_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgument(where + ": element count overflows");
    }
  }
  uint32_t type_id;
  if (!r.Read(&type_id) || !r.Read(rel_offset)) return Truncated("a tensor info");
  std::optional<DTypeInfo> dt = DTypeFromGgmlId(type_id);
  if (!dt) {
    return InvalidArgument(where + ": unknown tensor type id " + std::to_string(type_id));
  }
  if (ne[0] % dt->block_elems != 0) {
    return InvalidArgument(where + ": row of " + std::to_string(ne[0]) +
                           " values is not a whole number of " + std::string(dt->name) +
                           " blocks");
  }
  if (!DTypeBytes(dt->dtype, num_elements, &info->size_bytes)) {
    return InvalidArgument(where + ": byte size overflows");
  }
  info->dtype = dt->dtype;
  info->file_dtype = std::string(dt->name);
  info->supported = dt->supported;
  info->num_elements = num_elements;
  // GGUF lists ne[0] (contiguous) first; Ocular shapes are outer-to-inner.
  info->shape.assign(n_dims, 0);
  for (uint32_t i = 0; i < n_dims; ++i) info->shape[n_dims - 1 - i] = static_cast<int64_t>(ne[i]);
  return OkStatus();
}

}  // namespace

Result<GgufFile> ParseGguf(std::span<const uint8_t> file) {
  ByteReader r(file);
  uint32_t magic, version;
  if (!r.Read(&magic)) return Truncated("the magic");
  if (magic != kMagic) return InvalidArgument("not a GGUF file (bad magic)");
  if (!r.Read(&version)) return Truncated("the version");
  if (version == 1) return Unimplemented("GGUF version 1 is not supported (convert to v3)");
  if (version != 2 && version != 3) {
    if (version == 0x02000000u || version == 0x03000000u) {
      return Unimplemented("big-endian GGUF is not supported");
    }
    return InvalidArgument("unknown GGUF version " + std::to_string(version));
  }
  uint64_t n_tensors, n_kv;
  if (!r.Read(&n_tensors) || !r.Read(&n_kv)) return Truncated("the counts");
  if (n_tensors > kGgufMaxTensors) {
    return OutOfRange("tensor count " + std::to_string(n_tensors) + " exceeds the limit of " +
                      std::to_string(kGgufMaxTensors));
  }
  if (n_kv > kGgufMaxKeys) {
    return OutOfRange("metadata count " + std::to_string(n_kv) + " exceeds the limit of " +
                      std::to_string(kGgufMaxKeys));
  }
  // Both counts are now small, so these products cannot overflow.
  if (n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes > r.remaining()) {
    return Truncated("the header (counts larger than the file)");
  }

  GgufFile out;
  out.version_ = version;
  out.file_bytes_ = file.size();
  out.metadata_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    RETURN_IF_ERROR(ReadString(r, "a metadata key", &key));
    uint32_t type_id;
    if (!r.Read(&type_id)) return Truncated("a metadata type");
    std::optional<GgufType> type = GgufTypeFromId(type_id);
    if (!type) {
      return InvalidArgument("key " + SafeName(key) + ": unknown value type " +
                             std::to_string(type_id));
    }
    GgufValue value;
    RETURN_IF_ERROR(ReadValue(r, *type, 0, key, &value));
    if (!out.metadata_index_.emplace(key, out.metadata_.size()).second) {
      return InvalidArgument("duplicate metadata key " + SafeName(key));
    }
    out.metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = out.Find("general.alignment")) {
    std::optional<uint64_t> align = a->ToU64();
    if (!align || !IsPowerOfTwo(*align) || *align > kGgufMaxAlignment) {
      return InvalidArgument("general.alignment must be a power of two <= " +
                             std::to_string(kGgufMaxAlignment));
    }
    out.alignment_ = *align;
  }

  std::vector<uint64_t> rel_offsets;
  rel_offsets.reserve(n_tensors);
  out.tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo info;
    uint64_t rel;
    RETURN_IF_ERROR(ReadTensorInfo(r, &info, &rel));
    if (!out.tensor_index_.emplace(info.name, out.tensors_.size()).second) {
      return InvalidArgument("duplicate tensor name " + SafeName(info.name));
    }
    out.tensors_.push_back(std::move(info));
    rel_offsets.push_back(rel);
  }

  uint64_t data_offset;
  if (!CheckedAlignUp(r.offset(), out.alignment_, &data_offset)) {
    return InvalidArgument("data section offset overflows");
  }
  out.data_offset_ = data_offset;
  if (n_tensors > 0 && data_offset > file.size()) return Truncated("the alignment padding");
  const uint64_t data_size = data_offset <= file.size() ? file.size() - data_offset : 0;

  std::vector<TensorRange> ranges;
  ranges.reserve(n_tensors);
  for (size_t i = 0; i < out.tensors_.size(); ++i) {
    TensorInfo& t = out.tensors_[i];
    const std::string where = "tensor " + SafeName(t.name);
    uint64_t rel = rel_offsets[i];
    if (rel % out.alignment_ != 0) {
      return InvalidArgument(where + ": data offset is not a multiple of the alignment " +
                             std::to_string(out.alignment_));
    }
    uint64_t end;
    if (!CheckedAdd(rel, t.size_bytes, &end) || end > data_size) {
      return DataLoss(where + ": data runs past end of file");
    }
    ranges.push_back({rel, end, i});
    t.file_offset = data_offset + rel;
    t.data = file.data() + t.file_offset;
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const TensorRange& a, const TensorRange& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      return InvalidArgument("tensor " + SafeName(out.tensors_[ranges[i].tensor].name) +
                             " overlaps tensor " +
                             SafeName(out.tensors_[ranges[i - 1].tensor].name));
    }
  }
  return out;
}

Result<GgufFile> OpenGguf(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path.string()));
  auto mapping = std::make_unique<MappedFile>(std::move(mapped));
  Result<GgufFile> parsed = ParseGguf(mapping->bytes());
  if (!parsed.ok()) return parsed.status().WithContext(path.filename().string());
  GgufFile file = std::move(parsed).value();
  file.mapping_ = std::move(mapping);  // the mapping address is unchanged by the move
  return file;
}

}  // namespace ocular::loader
