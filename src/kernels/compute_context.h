// ComputeContext: what every kernel call needs besides its operands: the thread pool, the
// instruction-set path chosen once for this process, and the oneDNN engine/stream with a cache
// of matmul primitives.
//
// Created once in apps/ (or per test) and passed down; there is no global kernel state
// (STYLE.md rule 12). Not thread-safe: one ComputeContext is driven by one thread at a time
// (the kernels themselves fan out over the ThreadPool). Kernels must not be called from
// inside a ThreadPool task of the same pool.
//
// Threading and oneDNN: Debian's libdnnl is built with the OpenMP runtime (libgomp). oneDNN
// therefore runs its primitives on OpenMP threads, not on our ThreadPool. To avoid
// oversubscription the context limits OpenMP to pool.num_threads() threads
// (omp_set_num_threads) and only calls oneDNN from the driving thread while our pool is idle,
// so at any moment either our workers or OpenMP's run, never both. (OMP_WAIT_POLICY=passive
// in the environment shortens OpenMP's spin-wait after each primitive; see docs.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "base/thread_pool.h"

namespace ocular::kernels {

// Instruction-set paths, ordered: a context uses the highest one that is both supported by
// the CPU and not above the requested maximum.
enum class Isa : int {
  kScalar = 0,  // portable C++ (the reference implementations)
  kAvx2 = 1,    // AVX2 + FMA + F16C
  kAvx512 = 2,  // AVX-512 F/BW/VL/DQ/VNNI + FMA + F16C (Cascade Lake, Zen 4 and later)
};
std::string_view IsaName(Isa isa);
// Parses "scalar", "avx2", "avx512" (as in OCULAR_ISA).
std::optional<Isa> IsaFromName(std::string_view name);

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_bf16 = false;
  bool avx512_fp16 = false;
  bool avx512_vnni = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;
  // True once the kernel granted this process the AMX tile state (arch_prctl
  // ARCH_REQ_XCOMP_PERM); AMX must not be used otherwise.
  bool amx_permitted = false;

  // Highest Isa these features support.
  Isa BestIsa() const;
  std::string ToString() const;
};

// Reads cpuid + xgetbv (OS support of the AVX/AVX-512 state). Does not request AMX.
CpuFeatures DetectCpuFeatures();

struct ComputeOptions {
  // Upper bound of the dispatch path (tests force each path; apps map OCULAR_ISA here).
  Isa max_isa = Isa::kAvx512;
  // Use oneDNN for large matrix products (false: our own kernels only, e.g. to compare).
  bool use_onednn = true;
  // Matmuls with m <= this run our bandwidth-bound GEMV (weights streamed once for all rows).
  int64_t gemv_max_rows = 8;

  // Reads OCULAR_ISA=scalar|avx2|avx512 from the environment (unset: best available).
  // Unknown values are an InvalidArgument error.
  static Result<ComputeOptions> FromEnvironment();
};

class OneDnnState;  // engine, stream, primitive cache (compute_context.cc / onednn_matmul.cc)

class ComputeContext {
 public:
  // `pool` must outlive the context. Requests AMX permission from the kernel once (recorded
  // in features().amx_permitted).
  explicit ComputeContext(ThreadPool& pool, ComputeOptions options = {});
  ~ComputeContext();
  ComputeContext(const ComputeContext&) = delete;
  ComputeContext& operator=(const ComputeContext&) = delete;

  // The pool is shared state even through a const context (kernels taking `const
  // ComputeContext&` still fan out over it).
  ThreadPool& pool() const { return pool_; }
  int num_threads() const { return pool_.num_threads(); }
  Isa isa() const { return isa_; }
  const CpuFeatures& features() const { return features_; }
  const ComputeOptions& options() const { return options_; }
  // Null when oneDNN is disabled.
  OneDnnState* onednn() { return onednn_.get(); }
  // One line for logs: ISA path, features, oneDNN ISA, cpuid vendor / family / model.
  std::string Describe() const;

  // Reusable scratch memory for kernels (first touch of fresh pages is slow: a 50 MB buffer
  // allocated per call cost more than the matmul it served). Slot s holds at least `bytes`
  // after the call; contents are unspecified. Valid until the next call with the same slot.
  enum ScratchSlot {
    kScratchActivations = 0,
    kScratchWeights = 1,
    kScratchActivationsK = 2,      // q8_K activations, beside q8_0 ones in the same product
    kScratchActivationsSplit = 3,  // pair-split activations of the bf16 GEMV, beside both
    kScratchDecodeAttention = 4,   // paged_decode.cc's per-thread and partial results
    kNumScratchSlots = 5
  };
  void* Scratch(ScratchSlot slot, size_t bytes);

 private:
  ThreadPool& pool_;
  ComputeOptions options_;
  CpuFeatures features_;
  Isa isa_;
  std::unique_ptr<OneDnnState> onednn_;
  AlignedBuffer scratch_[kNumScratchSlots];
};

}  // namespace ocular::kernels
