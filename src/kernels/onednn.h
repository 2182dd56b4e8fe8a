// OneDnnState: the oneDNN engine, stream and a cache of matmul primitives keyed by shape and
// data types (internal to kernels/; callers use kernels.h).
//
// oneDNN (Debian build) threads with OpenMP; every call here first limits OpenMP to the
// context's thread count and runs on the calling thread while our ThreadPool is idle (see
// compute_context.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace ocular::kernels {

// One matmul: dst[m, n] (row stride ldd, f32) = src[m, k] (row stride lds) x
// weights^T where weights are [n, k] row-major (row stride ldw), plus bias[n] (f32, optional).
// src and weights have the same dtype: f32 or bf16 (uint16 bits).
struct OneDnnMatMulShape {
  int64_t m, n, k, lds, ldw, ldd;
  bool bf16;
  bool has_bias;
  auto Key() const { return std::tie(m, n, k, lds, ldw, ldd, bf16, has_bias); }
  bool operator<(const OneDnnMatMulShape& o) const { return Key() < o.Key(); }
};

class OneDnnState {
 public:
  explicit OneDnnState(int num_threads);
  ~OneDnnState();
  OneDnnState(const OneDnnState&) = delete;
  OneDnnState& operator=(const OneDnnState&) = delete;

  // The ISA oneDNN dispatches to on this CPU ("avx512_core_amx", ...).
  std::string IsaName() const;
  // True when oneDNN may use AMX here.
  bool HasAmx() const;

  // Runs the matmul described by `shape`; false when oneDNN cannot build a primitive for it
  // (the caller falls back to its own kernel).
  bool MatMul(const OneDnnMatMulShape& shape, const void* src, const void* weights,
              const float* bias, float* dst);

  int64_t num_cached_primitives() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocular::kernels
