// HugePageAllocator: a std::allocator for large working arrays (std::vector<float, ...>) whose
// resize() leaves new elements default-initialised (unset for floats), like a buffer.
//
// Arrays of 2 MiB and more get a mapping of their own, 2 MiB aligned and advised into
// transparent huge pages over their whole 2 MiB pages (the tail past the last boundary keeps
// 4 KiB pages, so nothing is rounded up into the resident set). Where the first touch of
// fresh memory is costly (a virtual machine: ~20 us per 4 KiB page on the development host),
// a 170 MB vision encode state costs ~85 faults instead of ~43,000, and streaming through it
// misses the TLB once per 2 MiB. Smaller arrays come from malloc as usual. The advice
// failing (THP off) only costs that speed.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace ocular {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// Allocates `bytes`, 64-byte aligned. From 2 MiB up: a mapping of its own, 2 MiB aligned and
// advised (malloc would serve such sizes from an arena heap after its mmap threshold rose,
// where huge pages rarely form and freed memory is handed back and faulted in again).
// Release with FreeLarge and the same size.
inline void* AllocateLarge(size_t bytes) {
  if (bytes < kHugePageBytes) {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  const size_t len = (bytes + 4095) / 4096 * 4096;
  if (len > SIZE_MAX - kHugePageBytes) throw std::bad_alloc();
  void* m = mmap(nullptr, len + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t base = reinterpret_cast<uintptr_t>(m);
  const uintptr_t p = (base + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (p > base) munmap(m, p - base);
  const uintptr_t end = base + len + kHugePageBytes;
  if (end > p + len) munmap(reinterpret_cast<void*>(p + len), end - (p + len));
  madvise(reinterpret_cast<void*>(p), bytes / kHugePageBytes * kHugePageBytes, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(p);
}

inline void FreeLarge(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kHugePageBytes) {
    std::free(p);
  } else {
    munmap(p, (bytes + 4095) / 4096 * 4096);
  }
}

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: allocator rebind
  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(AllocateLarge(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { FreeLarge(p, n * sizeof(T)); }
  // Default-initialises (resize() of a vector of floats leaves them unset): these arrays are
  // written before they are read, and zeroing them would touch every fresh page at once (one
  // long stall) instead of where the work first writes them.
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

template <typename T>
using LargeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace ocular
