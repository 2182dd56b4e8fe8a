// safetensors: parsing (pure, fuzzable), opening single files and sharded folders (mmap), and a
// streaming writer.
//
// File layout: 8-byte little-endian header length N, N bytes of JSON, then the data section.
// The JSON object maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the data section) plus an optional "__metadata__" string->string map.
// Validation (RELIABILITY.md): N <= 100,000,000 and inside the file; JSON nesting bounded; dtype
// known (F32/F16/BF16 supported; I8/I16/I32/I64/F64/U8/BOOL parsed but flagged unsupported;
// F8_* rejected as unsupported); dims non-negative; byte length = elements x dtype size
// (overflow-checked); ranges contiguous from 0, non-overlapping, ending exactly at end of file;
// no duplicate names.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "model/loader/tensor_info.h"

namespace ocular::loader {

constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;
constexpr int kSafetensorsMaxRank = 8;
constexpr int kMaxJsonDepth = 64;

struct SafetensorsContents {
  // In data-offset order; `data` points into the parsed span.
  std::vector<TensorInfo> tensors;
  // "__metadata__" (string -> string), empty when absent.
  std::map<std::string, std::string> metadata;
  uint64_t header_bytes = 0;  // N, the JSON length
};

// Parses and validates a whole safetensors file held in `file`. Pure: no I/O, no allocation
// sized by unchecked input. TensorInfo::data points into `file`.
Result<SafetensorsContents> ParseSafetensors(std::span<const uint8_t> file);

// A safetensors checkpoint: one `.safetensors` file, or a folder holding `model.safetensors` or
// `model.safetensors.index.json` + shards. Owns the mappings; tensors stay valid while it lives.
// Sharded folders: every `weight_map` path is a plain file name inside the folder (no "..",
// no absolute paths, no symlink escape), every shard is validated, and each tensor is present
// in exactly one shard: the one the index names. Move-only; immutable after Open, so const
// access is thread-safe.
class SafetensorsModel {
 public:
  static Result<SafetensorsModel> Open(const std::filesystem::path& path);

  SafetensorsModel() = default;
  SafetensorsModel(SafetensorsModel&&) noexcept = default;
  SafetensorsModel& operator=(SafetensorsModel&&) noexcept = default;

  // All tensors, shard by shard, each shard in data-offset order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorInfo* Find(std::string_view name) const;
  // "__metadata__" of the first shard.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  size_t num_shards() const { return files_.size(); }
  // The shards' file mappings the tensors point into.
  std::span<const MappedFile> mappings() const { return files_; }
  // Sum of shard file sizes.
  uint64_t total_file_bytes() const;
  // Starts read-ahead on every shard.
  void AdviseWillNeed() const;

 private:
  std::vector<MappedFile> files_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// Streaming safetensors writer with bounded memory: declare every tensor (AddTensor), then
// WriteHeader, then stream each tensor's bytes in declaration order (in chunks of any size),
// then Finish. Tensors are laid out contiguously in declaration order. A file target is written
// to "<path>.tmp" and renamed on Finish, so a failed write never leaves a valid-looking file.
// Not thread-safe.
class SafetensorsWriter {
 public:
  static Result<SafetensorsWriter> Create(const std::filesystem::path& path);
  // Writes into memory (tests, fuzz seeds); get the bytes with TakeBytes() after Finish().
  static SafetensorsWriter CreateInMemory();

  SafetensorsWriter(SafetensorsWriter&&) noexcept;
  SafetensorsWriter& operator=(SafetensorsWriter&&) noexcept;
  ~SafetensorsWriter();

  // Before WriteHeader. Adds a "__metadata__" entry.
  Status AddMetadata(std::string key, std::string value);
  // Before WriteHeader. dtype: f32, f16, bf16, i8, i16, i32, i64 or f64; shape outer-to-inner.
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
  explicit SafetensorsWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocular::loader
