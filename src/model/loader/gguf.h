// GGUF v2/v3: parsing (pure, fuzzable), opening via mmap, and a streaming writer.
//
// Layout: "GGUF", u32 version, u64 tensor count, u64 metadata count, metadata key/values,
// tensor infos (name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset), padding to
// `general.alignment` (default 32), then the data section. Every count, length, dimension and
// offset is validated in overflow-checked arithmetic before anything is allocated from it
// (RELIABILITY.md): strings <= 16 MiB, arrays <= 64 Mi elements, <= 65,536 keys and tensors,
// 1..4 dims each > 0, alignment a power of two <= 1 MiB, offsets aligned, every tensor range
// inside the file, no overlaps, no duplicate names or keys, known type ids, rows a whole
// number of blocks. Version 1 is rejected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "model/loader/gguf_value.h"
#include "model/loader/tensor_info.h"

namespace ocular::loader {

constexpr uint64_t kGgufMaxStringBytes = 16ull << 20;
constexpr uint64_t kGgufMaxArrayElems = 64ull << 20;
constexpr uint64_t kGgufMaxKeys = 65'536;
constexpr uint64_t kGgufMaxTensors = 65'536;
constexpr uint64_t kGgufMaxAlignment = 1ull << 20;
constexpr uint64_t kGgufDefaultAlignment = 32;
constexpr int kGgufMaxArrayDepth = 8;  // nested arrays
constexpr int kGgufMaxDims = 4;
// GgufWriter refuses longer tensor names: llama.cpp cannot load them (GGML_MAX_NAME = 64).
constexpr size_t kGgufMaxLoadableNameBytes = 63;

class GgufFile {
 public:
  GgufFile() = default;
  GgufFile(GgufFile&&) noexcept = default;
  GgufFile& operator=(GgufFile&&) noexcept = default;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // Absolute offset of the data section (tensor offsets are relative to it).
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_bytes() const { return file_bytes_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  // nullptr when absent.
  const GgufValue* Find(std::string_view key) const;
  // Typed lookups: NotFound when absent, InvalidArgument naming the key when the type does
  // not match or the value does not fit (integers convert between widths when they fit).
  Result<std::string> GetString(std::string_view key) const;
  Result<uint32_t> GetU32(std::string_view key) const;
  Result<uint64_t> GetU64(std::string_view key) const;
  Result<int32_t> GetI32(std::string_view key) const;
  Result<int64_t> GetI64(std::string_view key) const;
  Result<float> GetF32(std::string_view key) const;  // f32 or f64
  Result<bool> GetBool(std::string_view key) const;
  // The array value itself (type kArray); the pointer lives as long as this GgufFile.
  Result<const GgufValue*> GetArray(std::string_view key) const;
  Result<std::vector<int64_t>> GetI64Array(std::string_view key) const;
  Result<std::vector<float>> GetF32Array(std::string_view key) const;

  // Tensors in file (tensor-info) order; `data` points into the mapping / parsed span.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorInfo* FindTensor(std::string_view name) const;
  // The file mapping the tensors point into (nullptr for a parsed span).
  const MappedFile* mapping() const { return mapping_.get(); }

 private:
  friend Result<GgufFile> ParseGguf(std::span<const uint8_t> file);
  friend Result<GgufFile> OpenGguf(const std::filesystem::path& path);

  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  uint64_t file_bytes_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  std::unique_ptr<MappedFile> mapping_;  // set by OpenGguf; tensors point into it
};

// Parses and validates a whole GGUF file held in `file`; TensorInfo::data points into `file`,
// which must outlive the result. Pure: no I/O.
Result<GgufFile> ParseGguf(std::span<const uint8_t> file);
// Maps `path` and parses it; the result owns the mapping.
Result<GgufFile> OpenGguf(const std::filesystem::path& path);

// Streaming GGUF v3 writer with bounded memory: add metadata and tensor declarations, then
// WriteHeader (metadata, tensor infos with aligned offsets, padding), then stream each
// tensor's bytes in declaration order (chunks of any size; padding between tensors is written
// automatically), then Finish. `general.alignment` in the metadata (u32) sets the alignment.
// A file target is written to "<path>.tmp" and renamed on Finish. Not thread-safe.
class GgufWriter {
 public:
  static Result<GgufWriter> Create(const std::filesystem::path& path);
  // Writes into memory (tests, fuzz seeds); get the bytes with TakeBytes() after Finish().
  static GgufWriter CreateInMemory();

  GgufWriter(GgufWriter&&) noexcept;
  GgufWriter& operator=(GgufWriter&&) noexcept;
  ~GgufWriter();

  // Before WriteHeader; keys must be unique.
  Status AddMetadata(std::string key, GgufValue value);
  // Before WriteHeader. `shape` outer-to-inner ([rows, cols] for a matrix); written as ne[]
  // reversed. The innermost dim must be a whole number of dtype blocks.
  Status AddTensor(std::string name, DType dtype, std::vector<int64_t> shape);
  Status WriteHeader();
  // Appends bytes to the current tensor (declaration order), moving on to the next once full.
  Status WriteChunk(std::span<const uint8_t> bytes);
  // Writes all bytes of the next tensor at once; `name` must be the next one declared.
  Status WriteTensor(std::string_view name, std::span<const uint8_t> bytes);
  // Checks every tensor was written completely, flushes and (file target) renames into place.
  Status Finish();
  // In-memory target only, after Finish.
  std::vector<uint8_t> TakeBytes();

 private:
  struct Impl;
  explicit GgufWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocular::loader
