// SafetensorsWriter: streaming output (see safetensors.h).
#include <limits>

#include "base/checked_math.h"
#include "model/loader/byte_sink.h"
#include "model/loader/safe_name.h"
#include "model/loader/safetensors.h"

#include <nlohmann/json.hpp>

namespace ocular::loader {
namespace {

std::optional<std::string_view> StName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI8: return "I8";
    case DType::kI16: return "I16";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kF64: return "F64";
    default: return std::nullopt;
  }
}

}  // namespace

struct SafetensorsWriter::Impl {
  ByteSink sink;
  nlohmann::json header = nlohmann::json::object();
  std::map<std::string, std::string> metadata;
  std::vector<std::string> names;
  std::vector<uint64_t> sizes;
  uint64_t data_bytes = 0;
  std::optional<TensorStream> stream;  // set by WriteHeader
  bool finished = false;
};

SafetensorsWriter::SafetensorsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsWriter::SafetensorsWriter(SafetensorsWriter&&) noexcept = default;
SafetensorsWriter& SafetensorsWriter::operator=(SafetensorsWriter&&) noexcept = default;
SafetensorsWriter::~SafetensorsWriter() = default;

Result<SafetensorsWriter> SafetensorsWriter::Create(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(ByteSink sink, ByteSink::OpenFile(path));
  auto impl = std::make_unique<Impl>(Impl{std::move(sink)});
  return SafetensorsWriter(std::move(impl));
}

SafetensorsWriter SafetensorsWriter::CreateInMemory() {
  return SafetensorsWriter(std::make_unique<Impl>(Impl{ByteSink::Memory()}));
}

Status SafetensorsWriter::AddMetadata(std::string key, std::string value) {
  if (impl_->stream) return FailedPrecondition("AddMetadata after WriteHeader");
  if (!impl_->metadata.emplace(std::move(key), std::move(value)).second) {
    return InvalidArgument("duplicate metadata key");
  }
  return OkStatus();
}

Status SafetensorsWriter::AddTensor(std::string name, DType dtype, std::vector<int64_t> shape) {
  if (impl_->stream) return FailedPrecondition("AddTensor after WriteHeader");
  std::optional<std::string_view> st = StName(dtype);
  if (!st) return InvalidArgument("dtype " + std::string(DTypeName(dtype)) +
                                  " cannot be stored in safetensors");
  if (name == "__metadata__" || impl_->header.contains(name)) {
    return InvalidArgument("duplicate or reserved tensor name " + SafeName(name));
  }
  if (shape.size() > static_cast<size_t>(kSafetensorsMaxRank)) {
    return InvalidArgument("tensor " + SafeName(name) + ": rank too high");
  }
  uint64_t elems = 1;
  for (int64_t d : shape) {
    if (d < 0 || !CheckedMul(elems, static_cast<uint64_t>(d), &elems)) {
      return InvalidArgument("tensor " + SafeName(name) + ": bad shape");
    }
  }
  uint64_t bytes, end;
  if (!DTypeBytes(dtype, elems, &bytes) || !CheckedAdd(impl_->data_bytes, bytes, &end)) {
    return InvalidArgument("tensor " + SafeName(name) + ": size overflows");
  }
  impl_->header[name] = {{"dtype", *st},
                         {"shape", shape},
                         {"data_offsets", {impl_->data_bytes, end}}};
  impl_->data_bytes = end;
  impl_->names.push_back(std::move(name));
  impl_->sizes.push_back(bytes);
  return OkStatus();
}

Status SafetensorsWriter::WriteHeader() {
  if (impl_->stream) return FailedPrecondition("WriteHeader called twice");
  if (!impl_->metadata.empty()) impl_->header["__metadata__"] = impl_->metadata;
  std::string text;
  try {
    text = impl_->header.dump();
  } catch (...) {
    // nlohmann refuses to serialise invalid UTF-8; keep its exception inside this module.
    return InvalidArgument("tensor names and metadata must be valid UTF-8");
  }
  // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
  while ((8 + text.size()) % 8 != 0) text += ' ';
  if (text.size() > kSafetensorsMaxHeaderBytes) return OutOfRange("header too large");
  uint64_t len = text.size();
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(len >> (8 * i));
  RETURN_IF_ERROR(impl_->sink.Write(len_bytes));
  RETURN_IF_ERROR(impl_->sink.Write(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  impl_->header = nlohmann::json();  // free it: bounded memory while streaming
  impl_->stream.emplace(std::move(impl_->names), std::move(impl_->sizes), 1);
  return OkStatus();
}

Status SafetensorsWriter::WriteChunk(std::span<const uint8_t> bytes) {
  if (!impl_->stream) return FailedPrecondition("WriteChunk before WriteHeader");
  return impl_->stream->WriteChunk(impl_->sink, bytes);
}

Status SafetensorsWriter::WriteTensor(std::string_view name, std::span<const uint8_t> bytes) {
  if (!impl_->stream) return FailedPrecondition("WriteTensor before WriteHeader");
  return impl_->stream->WriteTensor(impl_->sink, name, bytes);
}

Status SafetensorsWriter::Finish() {
  if (!impl_->stream) RETURN_IF_ERROR(WriteHeader());
  if (impl_->finished) return FailedPrecondition("Finish called twice");
  RETURN_IF_ERROR(impl_->stream->CheckComplete());
  impl_->finished = true;
  return impl_->sink.Commit();
}

std::vector<uint8_t> SafetensorsWriter::TakeBytes() { return impl_->sink.TakeBytes(); }

}  // namespace ocular::loader
