// AlignedBuffer: an owning, 64-byte aligned, uninitialised byte buffer (RAII; move-only).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "base/check.h"
#include "base/huge_page_allocator.h"

namespace ocular {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size_bytes) { Allocate(size_bytes); }
  ~AlignedBuffer() { Free(); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        large_(std::exchange(o.large_, false)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      Free();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      large_ = std::exchange(o.large_, false);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // A buffer for large, long-lived arrays streamed from memory (weights): 2 MiB aligned and
  // sized, and advised into transparent huge pages. Streaming through 4 KiB pages costs a
  // TLB miss per page and stops the hardware prefetchers at every page boundary; the advice
  // failing only costs that speed.
  static AlignedBuffer InHugePages(size_t size_bytes) {
    constexpr size_t kHuge = size_t{2} << 20;
    AlignedBuffer b;
    if (size_bytes == 0) return b;
    const size_t rounded = (size_bytes + kHuge - 1) / kHuge * kHuge;
    b.data_ = std::aligned_alloc(kHuge, rounded);
    if (b.data_ == nullptr) throw std::bad_alloc();
    b.size_ = size_bytes;
    madvise(b.data_, rounded, MADV_HUGEPAGE);
    return b;
  }

  // A buffer for large working or cached arrays: huge pages over its whole 2 MiB pages when
  // it spans any, without rounding the size up (see AllocateLarge).
  static AlignedBuffer Large(size_t size_bytes) {
    AlignedBuffer b;
    if (size_bytes == 0) return b;
    b.data_ = AllocateLarge(size_bytes);
    b.size_ = size_bytes;
    b.large_ = true;
    return b;
  }

  // Explicit deep copy (STYLE.md rule 11: expensive copies are explicit).
  AlignedBuffer Clone() const {
    AlignedBuffer b(size_);
    if (size_) std::memcpy(b.data_, data_, size_);
    return b;
  }

  void* data() { return data_; }
  const void* data() const { return data_; }
  template <typename T>
  T* as() { return static_cast<T*>(data_); }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Zero() {
    if (size_) std::memset(data_, 0, size_);
  }

 private:
  void Allocate(size_t size_bytes) {
    if (size_bytes == 0) return;
    size_t rounded = (size_bytes + kAlignment - 1) / kAlignment * kAlignment;
    data_ = std::aligned_alloc(kAlignment, rounded);
    if (data_ == nullptr) throw std::bad_alloc();
    size_ = size_bytes;
  }
  void Free() noexcept {
    if (large_) {
      FreeLarge(data_, size_);
    } else {
      std::free(data_);
    }
  }
  void* data_ = nullptr;
  size_t size_ = 0;
  bool large_ = false;  // from AllocateLarge
};

}  // namespace ocular
