// ParseSafetensors: validation of one safetensors file (see safetensors.h for the rules).
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include "base/checked_math.h"
#include "model/loader/json_guard.h"
#include "model/loader/safe_name.h"
#include "model/loader/safetensors.h"

namespace ocular::loader {
namespace {

struct StDType {
  std::string_view name;
  DType dtype;  // U8/BOOL: kI8 stand-in (same width)
  uint32_t bytes;
  bool supported;
};

constexpr StDType kStDTypes[] = {
    {"F32", DType::kF32, 4, true},   {"F16", DType::kF16, 2, true},
    {"BF16", DType::kBF16, 2, true}, {"F64", DType::kF64, 8, false},
    {"I64", DType::kI64, 8, false},  {"I32", DType::kI32, 4, false},
    {"I16", DType::kI16, 2, false},  {"I8", DType::kI8, 1, false},
    {"U8", DType::kI8, 1, false},    {"BOOL", DType::kI8, 1, false},
};

Result<StDType> LookupDType(const std::string& name, const std::string& tensor) {
  for (const StDType& d : kStDTypes) {
    if (d.name == name) return d;
  }
  if (name == "F8_E4M3" || name == "F8_E5M2" || name.rfind("F8_", 0) == 0) {
    return Unimplemented("tensor " + SafeName(tensor) + ": FP8 weights are not supported");
  }
  return InvalidArgument("tensor " + SafeName(tensor) + ": unknown dtype");
}

// A non-negative JSON integer that fits in int64.
std::optional<uint64_t> JsonU64(const nlohmann::json& v, uint64_t max) {
  uint64_t x;
  if (v.is_number_unsigned()) {
    x = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    int64_t s = v.get<int64_t>();
    if (s < 0) return std::nullopt;
    x = static_cast<uint64_t>(s);
  } else {
    return std::nullopt;
  }
  if (x > max) return std::nullopt;
  return x;
}

struct Range {
  uint64_t begin;
  uint64_t end;
  size_t tensor;
};

Status ParseTensorEntry(const std::string& name, const nlohmann::json& entry,
                        TensorInfo* info, Range* range) {
  const std::string where = "tensor " + SafeName(name);
  if (!entry.is_object()) return InvalidArgument(where + ": entry is not a JSON object");
  auto dtype_it = entry.find("dtype");
  auto shape_it = entry.find("shape");
  auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    return InvalidArgument(where + ": missing or non-string \"dtype\"");
  }
  if (shape_it == entry.end() || !shape_it->is_array()) {
    return InvalidArgument(where + ": missing or non-array \"shape\"");
  }
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return InvalidArgument(where + ": \"data_offsets\" must be [begin, end]");
  }
  ASSIGN_OR_RETURN(StDType dt, LookupDType(dtype_it->get_ref<const std::string&>(), name));
  if (shape_it->size() > static_cast<size_t>(kSafetensorsMaxRank)) {
    return InvalidArgument(where + ": rank above " + std::to_string(kSafetensorsMaxRank));
  }
  uint64_t num_elements = 1;
  std::vector<int64_t> shape;
  shape.reserve(shape_it->size());
  for (const nlohmann::json& d : *shape_it) {
    std::optional<uint64_t> dim = JsonU64(d, std::numeric_limits<int64_t>::max());
    if (!dim) return InvalidArgument(where + ": shape dims must be non-negative integers");
    if (!CheckedMul(num_elements, *dim, &num_elements)) {
      return InvalidArgument(where + ": element count overflows");
    }
    shape.push_back(static_cast<int64_t>(*dim));
  }
  uint64_t size_bytes;
  if (!CheckedMul(num_elements, dt.bytes, &size_bytes)) {
    return InvalidArgument(where + ": byte size overflows");
  }
  std::optional<uint64_t> begin = JsonU64((*offsets_it)[0], std::numeric_limits<uint64_t>::max());
  std::optional<uint64_t> end = JsonU64((*offsets_it)[1], std::numeric_limits<uint64_t>::max());
  if (!begin || !end || *end < *begin) {
    return InvalidArgument(where + ": data_offsets must be non-negative integers, begin <= end");
  }
  if (*end - *begin != size_bytes) {
    return InvalidArgument(where + ": byte length " + std::to_string(*end - *begin) +
                           " does not match " + std::to_string(num_elements) + " elements x " +
                           std::to_string(dt.bytes) + " bytes");
  }
  info->name = name;
  info->dtype = dt.dtype;
  info->file_dtype = std::string(dt.name);
  info->supported = dt.supported;
  info->shape = std::move(shape);
  info->num_elements = num_elements;
  info->size_bytes = size_bytes;
  range->begin = *begin;
  range->end = *end;
  return OkStatus();
}

}  // namespace

Result<SafetensorsContents> ParseSafetensors(std::span<const uint8_t> file) {
  if (file.size() < 8) return DataLoss("file shorter than the 8-byte header length");
  uint64_t header_len;
  std::memcpy(&header_len, file.data(), 8);  // little-endian host
  if (header_len > kSafetensorsMaxHeaderBytes) {
    return OutOfRange("header length " + std::to_string(header_len) + " exceeds the limit of " +
                      std::to_string(kSafetensorsMaxHeaderBytes) + " bytes");
  }
  if (header_len > file.size() - 8) return DataLoss("header length runs past end of file");
  const uint64_t data_begin = 8 + header_len;
  const uint64_t data_size = file.size() - data_begin;
  std::string_view text(reinterpret_cast<const char*>(file.data() + 8), header_len);
  ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonStrict(text, kMaxJsonDepth, "safetensors header"));
  if (!doc.is_object()) return InvalidArgument("safetensors header is not a JSON object");

  SafetensorsContents out;
  out.header_bytes = header_len;
  std::vector<Range> ranges;
  ranges.reserve(doc.size());
  out.tensors.reserve(doc.size());
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key == "__metadata__") {
      if (!it->is_object()) return InvalidArgument("__metadata__ is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) return InvalidArgument("__metadata__ values must be strings");
        out.metadata.emplace(m.key(), m->get<std::string>());
      }
      continue;
    }
    TensorInfo info;
    Range range;
    RETURN_IF_ERROR(ParseTensorEntry(key, *it, &info, &range));
    range.tensor = out.tensors.size();
    out.tensors.push_back(std::move(info));
    ranges.push_back(range);
  }

  // Ranges must tile [0, data_size) exactly: contiguous from 0, no gaps, no overlaps.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const Range& r : ranges) {
    const std::string& name = out.tensors[r.tensor].name;
    if (r.begin < expected) {
      return InvalidArgument("tensor " + SafeName(name) + " overlaps the previous tensor");
    }
    if (r.begin > expected) {
      return InvalidArgument("gap in the data section before tensor " + SafeName(name));
    }
    if (r.end > data_size) {
      return DataLoss("tensor " + SafeName(name) + " runs past end of file");
    }
    expected = r.end;
  }
  if (expected != data_size) {
    return InvalidArgument("data section is " + std::to_string(data_size) +
                           " bytes but tensors cover " + std::to_string(expected));
  }
  // Emit in data-offset order with pointers into the file.
  std::vector<TensorInfo> ordered;
  ordered.reserve(ranges.size());
  for (const Range& r : ranges) {
    TensorInfo& t = out.tensors[r.tensor];
    t.file_offset = data_begin + r.begin;
    t.data = t.size_bytes == 0 ? nullptr : file.data() + t.file_offset;
    ordered.push_back(std::move(t));
  }
  out.tensors = std::move(ordered);
  return out;
}

}  // namespace ocular::loader
