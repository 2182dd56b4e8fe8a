// MappedFile: a read-only memory mapping of a whole file (RAII; move-only).
// Weights are used in place from the mapping (STACK.md: mmap, zero-copy where the layout fits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace ocular {

class MappedFile {
 public:
  // Maps `path` read-only. Errors name the file but never echo its content.
  static Result<MappedFile> Open(const std::string& path);

  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // Hint that the whole file will be read soon (starts read-ahead).
  void AdviseWillNeed() const;

  // Whether [p, p + n) lies inside the mapping.
  bool Contains(const void* p, size_t n) const;
  // Copies the file bytes behind [p, p + n) (inside the mapping) to `dst` with read(2) on
  // the file, so the mapping's pages are neither faulted in nor counted in the resident set
  // (a fault costs several microseconds per 4 KiB page under some hypervisors). Thread-safe.
  Status CopyOut(const void* p, size_t n, void* dst) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace ocular
