// ByteSink and TensorStream: the output side shared by the streaming writers (internal).
// ByteSink writes to "<path>.tmp" (renamed into place on Commit; removed if never committed)
// or to memory. TensorStream enforces that declared tensors are streamed in order, completely,
// with zero padding to `alignment` after each.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace ocular::loader {

class ByteSink {
 public:
  static Result<ByteSink> OpenFile(const std::filesystem::path& path);
  static ByteSink Memory();

  ByteSink(ByteSink&& o) noexcept;
  ByteSink& operator=(ByteSink&& o) noexcept;
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;
  ~ByteSink();

  Status Write(std::span<const uint8_t> bytes);
  Status WriteZeros(uint64_t n);
  uint64_t written() const { return written_; }
  // Flushes; for a file target closes and renames "<path>.tmp" to "<path>".
  Status Commit();
  std::vector<uint8_t> TakeBytes() { return std::move(memory_); }

 private:
  ByteSink() = default;
  void Abandon();

  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
  std::filesystem::path tmp_path_;
  std::vector<uint8_t> memory_;
  uint64_t written_ = 0;
};

class TensorStream {
 public:
  // `names`/`sizes`: declared tensors in order; each is followed by zero padding up to a
  // multiple of `alignment` relative to the stream start (alignment 1 = no padding).
  TensorStream(std::vector<std::string> names, std::vector<uint64_t> sizes, uint64_t alignment);

  Status WriteChunk(ByteSink& sink, std::span<const uint8_t> bytes);
  Status WriteTensor(ByteSink& sink, std::string_view name, std::span<const uint8_t> bytes);
  // OK when every tensor has been written completely.
  Status CheckComplete() const;

 private:
  Status FinishCurrentIfFull(ByteSink& sink);

  std::vector<std::string> names_;
  std::vector<uint64_t> sizes_;
  uint64_t alignment_;
  size_t current_ = 0;
  uint64_t current_written_ = 0;
  uint64_t stream_offset_ = 0;
};

}  // namespace ocular::loader
