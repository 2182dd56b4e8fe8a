// GgufWriter: streaming GGUF v3 output (see gguf.h).
#include <cstring>
#include <set>

#include "base/checked_math.h"
#include "model/loader/byte_sink.h"
#include "model/loader/gguf.h"
#include "model/loader/safe_name.h"

namespace ocular::loader {
namespace {

// Serialises header fields into a buffer (the header is small; tensor data is streamed).
class HeaderBuffer {
 public:
  template <typename T>
  void Put(T v) {
    size_t n = bytes_.size();
    bytes_.resize(n + sizeof(T));
    std::memcpy(bytes_.data() + n, &v, sizeof(T));  // little-endian host
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    size_t n = bytes_.size();
    bytes_.resize(n + s.size());
    if (!s.empty()) std::memcpy(bytes_.data() + n, s.data(), s.size());
  }
  void PutArrayBody(const GgufValue& v) {
    Put<uint32_t>(static_cast<uint32_t>(v.array_type()));
    Put<uint64_t>(v.array_size());
    if (const auto* raw = v.raw_elements()) {
      bytes_.insert(bytes_.end(), raw->begin(), raw->end());
    } else if (const auto* strings = v.strings()) {
      for (const std::string& s : *strings) PutString(s);
    } else if (const auto* arrays = v.arrays()) {
      for (const GgufValue& a : *arrays) PutArrayBody(a);
    }
  }
  void PutValue(const GgufValue& v) {
    if (v.type() == GgufType::kString) {
      PutString(*v.ToString());
    } else if (v.is_array()) {
      PutArrayBody(v);
    } else {
      // A scalar: its bits via a one-element view.
      uint64_t bits = 0;
      switch (v.type()) {
        case GgufType::kF32: { float f = *v.ToF32(); std::memcpy(&bits, &f, 4); break; }
        case GgufType::kF64: { double d = *v.ToF64(); std::memcpy(&bits, &d, 8); break; }
        case GgufType::kBool: bits = *v.ToBool() ? 1 : 0; break;
        default: {
          // Integers: two's complement of the value, truncated to the type's width.
          if (auto s = v.ToI64()) bits = static_cast<uint64_t>(*s);
          else bits = *v.ToU64();
        }
      }
      uint8_t b[8];
      std::memcpy(b, &bits, 8);
      bytes_.insert(bytes_.end(), b, b + GgufScalarBytes(v.type()));
    }
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace

struct GgufWriter::Impl {
  ByteSink sink;
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::set<std::string> keys;
  struct Decl {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t bytes;
  };
  std::vector<Decl> tensors;
  std::set<std::string> tensor_names;
  uint64_t alignment = kGgufDefaultAlignment;
  std::optional<TensorStream> stream;
  bool finished = false;
};

GgufWriter::GgufWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufWriter::GgufWriter(GgufWriter&&) noexcept = default;
GgufWriter& GgufWriter::operator=(GgufWriter&&) noexcept = default;
GgufWriter::~GgufWriter() = default;

Result<GgufWriter> GgufWriter::Create(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(ByteSink sink, ByteSink::OpenFile(path));
  return GgufWriter(std::make_unique<Impl>(Impl{std::move(sink)}));
}

GgufWriter GgufWriter::CreateInMemory() {
  return GgufWriter(std::make_unique<Impl>(Impl{ByteSink::Memory()}));
}

Status GgufWriter::AddMetadata(std::string key, GgufValue value) {
  if (impl_->stream) return FailedPrecondition("AddMetadata after WriteHeader");
  if (!impl_->keys.insert(key).second) {
    return InvalidArgument("duplicate metadata key " + SafeName(key));
  }
  if (key == "general.alignment") {
    std::optional<uint64_t> a = value.ToU64();
    if (value.type() != GgufType::kU32 || !a || !IsPowerOfTwo(*a) || *a > kGgufMaxAlignment) {
      return InvalidArgument("general.alignment must be a u32 power of two <= 1 MiB");
    }
    impl_->alignment = *a;
  }
  impl_->metadata.emplace_back(std::move(key), std::move(value));
  return OkStatus();
}

Status GgufWriter::AddTensor(std::string name, DType dtype, std::vector<int64_t> shape) {
  if (impl_->stream) return FailedPrecondition("AddTensor after WriteHeader");
  const std::string where = "tensor " + SafeName(name);
  // llama.cpp stores names in a 64-byte field (GGML_MAX_NAME) and refuses longer ones.
  if (name.empty() || name.size() > kGgufMaxLoadableNameBytes) {
    return InvalidArgument(where + ": name must be 1.." +
                           std::to_string(kGgufMaxLoadableNameBytes) + " bytes");
  }
  if (shape.empty() || shape.size() > static_cast<size_t>(kGgufMaxDims)) {
    return InvalidArgument(where + ": GGUF tensors have 1..4 dims");
  }
  uint64_t elems = 1;
  for (int64_t d : shape) {
    if (d <= 0 || !CheckedMul(elems, static_cast<uint64_t>(d), &elems)) {
      return InvalidArgument(where + ": dims must be positive");
    }
  }
  if (static_cast<uint64_t>(shape.back()) % GetDTypeInfo(dtype).block_elems != 0) {
    return InvalidArgument(where + ": row is not a whole number of blocks");
  }
  uint64_t bytes;
  if (!DTypeBytes(dtype, elems, &bytes)) return InvalidArgument(where + ": size overflows");
  if (!impl_->tensor_names.insert(name).second) {
    return InvalidArgument("duplicate tensor name " + SafeName(name));
  }
  impl_->tensors.push_back({std::move(name), dtype, std::move(shape), bytes});
  return OkStatus();
}

Status GgufWriter::WriteHeader() {
  if (impl_->stream) return FailedPrecondition("WriteHeader called twice");
  HeaderBuffer h;
  h.Put<uint32_t>(0x46554747);  // "GGUF"
  h.Put<uint32_t>(3);
  h.Put<uint64_t>(impl_->tensors.size());
  h.Put<uint64_t>(impl_->metadata.size());
  for (const auto& [key, value] : impl_->metadata) {
    h.PutString(key);
    h.Put<uint32_t>(static_cast<uint32_t>(value.type()));
    h.PutValue(value);
  }
  uint64_t offset = 0;
  std::vector<std::string> names;
  std::vector<uint64_t> sizes;
  for (const Impl::Decl& t : impl_->tensors) {
    h.PutString(t.name);
    h.Put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (size_t i = t.shape.size(); i-- > 0;) h.Put<uint64_t>(static_cast<uint64_t>(t.shape[i]));
    h.Put<uint32_t>(static_cast<uint32_t>(t.dtype));
    h.Put<uint64_t>(offset);
    if (!CheckedAdd(offset, t.bytes, &offset) ||
        !CheckedAlignUp(offset, impl_->alignment, &offset)) {
      return InvalidArgument("total tensor size overflows");
    }
    names.push_back(t.name);
    sizes.push_back(t.bytes);
  }
  std::vector<uint8_t>& bytes = h.bytes();
  uint64_t padded;
  CHECK(CheckedAlignUp(bytes.size(), impl_->alignment, &padded));
  bytes.resize(padded, 0);
  RETURN_IF_ERROR(impl_->sink.Write(bytes));
  // Free the declarations: only names and sizes are kept while streaming.
  impl_->metadata.clear();
  impl_->tensors.clear();
  impl_->stream.emplace(std::move(names), std::move(sizes), impl_->alignment);
  return OkStatus();
}

Status GgufWriter::WriteChunk(std::span<const uint8_t> bytes) {
  if (!impl_->stream) return FailedPrecondition("WriteChunk before WriteHeader");
  return impl_->stream->WriteChunk(impl_->sink, bytes);
}

Status GgufWriter::WriteTensor(std::string_view name, std::span<const uint8_t> bytes) {
  if (!impl_->stream) return FailedPrecondition("WriteTensor before WriteHeader");
  return impl_->stream->WriteTensor(impl_->sink, name, bytes);
}

Status GgufWriter::Finish() {
  if (!impl_->stream) RETURN_IF_ERROR(WriteHeader());
  if (impl_->finished) return FailedPrecondition("Finish called twice");
  RETURN_IF_ERROR(impl_->stream->CheckComplete());
  impl_->finished = true;
  return impl_->sink.Commit();
}

std::vector<uint8_t> GgufWriter::TakeBytes() { return impl_->sink.TakeBytes(); }

}  // namespace ocular::loader
