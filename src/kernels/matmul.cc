// MatMul dispatch: our GEMV for few rows, oneDNN for many (weights converted tile by tile to
// the compute dtype unless already in it), our GEMV in 8-row chunks as the fallback. Packed
// q8_0 / q4_0 / q4_k / q6_k weights (WeightLayout::kGemvPacked) take the int8 GEMV for every m.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/check.h"
#include "kernels/cpu/const_dispatch.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gemv_bf16.h"
#include "kernels/gemv_tasks.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

constexpr int64_t kGemvMaxRowsPerPass = cpu::kGemvMaxRows;  // x rows one weight pass serves
// Weight tile converted per oneDNN call. Large on purpose: converting on our pool and then
// running oneDNN on its OpenMP threads alternates two thread teams, and each switch costs the
// other team's spin-wait on 2 cores; one big tile per matrix keeps the switches to one.
constexpr int64_t kTileBytes = 64 << 20;

void CheckWeight(const WeightMatrix& w) {
  const DTypeInfo& info = GetDTypeInfo(w.dtype);
  CHECK(info.supported) << "unsupported weight dtype " << DTypeName(w.dtype);
  CHECK(w.rows >= 0 && w.cols >= 0);
  CHECK_EQ(w.cols % info.block_elems, 0) << "weight row is not whole blocks";
  CHECK(w.data != nullptr || w.rows == 0 || w.cols == 0);
  if (w.packed()) {
    CHECK(GemvPackable(w.dtype)) << "packed weights are q8_0 / q4_0 / q4_k / q6_k";
    CHECK(reinterpret_cast<uintptr_t>(w.data) % 64 == 0) << "packed weights must be 64-byte aligned";
    return;
  }
  CHECK_GE(w.Stride(), w.RowBytes());
  if (!info.quantized) {
    CHECK(reinterpret_cast<uintptr_t>(w.data) % info.block_bytes == 0 &&
          w.Stride() % info.block_bytes == 0)
        << "plain-dtype weight rows must be element-aligned";
  }
}

// The int8 GEMV's activation formats: q8_0 blocks for q8_0 / q4_0 weights, q8_K (256 values,
// one f32 scale, sums of 16) for q4_k / q6_k.
bool TakesQ8_0(DType dt) { return dt == DType::kQ8_0 || dt == DType::kQ4_0; }
bool TakesQ8_K(DType dt) { return dt == DType::kQ4_K || dt == DType::kQ6_K; }

// bf16 weights whose rows the ISA's pair-split GEMV serves (gemv_bf16.h).
bool TakesBf16Split(const cpu::CpuKernels& kern, const WeightMatrix& w) {
  return kern.gemv_bf16_split != nullptr && w.dtype == DType::kBF16 && w.cols % 32 == 0;
}

// x [m, k] in pair-split order, in scratch (m <= kGemvMaxRowsPerPass).
const float* SplitForBf16Gemv(ComputeContext& ctx, const float* x, int64_t x_stride, int64_t m,
                              int64_t k) {
  auto* xs = static_cast<float*>(ctx.Scratch(ComputeContext::kScratchActivationsSplit,
                                             static_cast<size_t>(m * k) * sizeof(float)));
  cpu::SplitPairs(x, x_stride, m, k, xs);
  return xs;
}

// Runs the GEMV over all weight rows, split into dynamically scheduled tasks so a slow core
// does not hold the other one up.
void RunGemv(ComputeContext& ctx, const cpu::CpuKernels& kern, const float* x, int64_t x_stride,
             int64_t m, const WeightMatrix& w, const float* bias, float* y, int64_t y_stride) {
  const GemvTasks tasks(w, ctx.num_threads());
  const bool split = TakesBf16Split(kern, w);
  for (int64_t i0 = 0; i0 < m; i0 += kGemvMaxRowsPerPass) {
    const int64_t mm = std::min(kGemvMaxRowsPerPass, m - i0);
    const float* xi = x + i0 * x_stride;
    float* yi = y + i0 * y_stride;
    const float* xs = split ? SplitForBf16Gemv(ctx, xi, x_stride, mm, w.cols) : nullptr;
    auto rows = [&](int64_t b, int64_t e) {
      if (split) {
        kern.gemv_bf16_split(xs, w.cols, mm, w, b, e, bias, yi, y_stride);
      } else {
        kern.gemv(xi, x_stride, mm, w, b, e, bias, yi, y_stride);
      }
    };
    // One task or one thread: ParallelForInRuns runs the tasks inline.
    ctx.pool().ParallelForInRuns(tasks.count(), [&](int64_t t, int) {
      tasks.ForRows(t, [&](int, int64_t b, int64_t e) { rows(b, e); });
    });
  }
}

// The int8 GEMV's activations, quantized once per product: [m, nb] q8_0 blocks and, for
// packed weights, each block's scale in f32 and its offset terms for the packed kernel
// (cpu_kernels.h: minus the sum of its values times 8 for q4_0 weights, 128 for q8_0; [m, nb]
// each).
struct Q8Input {
  const BlockQ8_0* xq = nullptr;
  const float* xd = nullptr;
  const int32_t* xoff_q4 = nullptr;
  const int32_t* xoff_q8 = nullptr;
  int64_t nb = 0;  // blocks per row (the row stride of all of them)

  Q8Input FromRow(int64_t i) const {  // the rows from activation row i on
    const int64_t off = i * nb;
    auto at = [off](auto* p) { return p ? p + off : nullptr; };
    return {xq + off, at(xd), at(xoff_q4), at(xoff_q8), nb};
  }
  const int32_t* Offsets(DType weights) const {
    return weights == DType::kQ4_0 ? xoff_q4 : xoff_q8;
  }
};

Q8Input QuantizeForGemv(ComputeContext& ctx, const cpu::CpuKernels& kern, const float* x,
                        int64_t x_stride, int64_t m, int64_t k, bool packed) {
  Q8Input in;
  in.nb = k / kQK8_0;
  const size_t blocks = static_cast<size_t>(m * in.nb);
  const size_t q_bytes = (blocks * sizeof(BlockQ8_0) + 63) / 64 * 64;
  auto* s = static_cast<uint8_t*>(
      ctx.Scratch(ComputeContext::kScratchActivations, q_bytes + (packed ? blocks * 12 : 0)));
  auto* xq = reinterpret_cast<BlockQ8_0*>(s);
  auto* xd = packed ? reinterpret_cast<float*>(s + q_bytes) : nullptr;
  auto* xoff_q4 = packed ? reinterpret_cast<int32_t*>(xd + blocks) : nullptr;
  auto* xoff_q8 = packed ? xoff_q4 + blocks : nullptr;
  auto rows = [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      kern.quantize_row_q8_0(x + i * x_stride, xq + i * in.nb, k);
      if (!packed) continue;
      for (int64_t j = i * in.nb; j < (i + 1) * in.nb; ++j) {
        xd[j] = F16ToF32(xq[j].d);
        int32_t sum = 0;
        for (int c = 0; c < kQK8_0; ++c) sum += xq[j].qs[c];
        xoff_q4[j] = -8 * sum;
        xoff_q8[j] = -128 * sum;
      }
    }
  };
  // Prefill-sized m (packed weights serve every m) on the pool; decode rows inline.
  if (m >= 16) {
    ctx.pool().ParallelRange(m, 4, rows);
  } else {
    rows(0, m, 0);
  }
  in.xq = xq;
  in.xd = xd;
  in.xoff_q4 = xoff_q4;
  in.xoff_q8 = xoff_q8;
  return in;
}

// [m, k / 256] q8_K blocks (row stride k / 256) for the q4_k / q6_k int8 GEMV.
const BlockQ8_K* QuantizeForGemvK(ComputeContext& ctx, const cpu::CpuKernels& kern,
                                  const float* x, int64_t x_stride, int64_t m, int64_t k) {
  const int64_t nb = k / kQK_K;
  auto* xq = static_cast<BlockQ8_K*>(ctx.Scratch(ComputeContext::kScratchActivationsK,
                                                 static_cast<size_t>(m * nb) * sizeof(BlockQ8_K)));
  auto rows = [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) kern.quantize_row_q8_k(x + i * x_stride, xq + i * nb, k);
  };
  // Prefill-sized m (packed weights serve every m) on the pool; decode rows inline.
  if (m >= 16) {
    ctx.pool().ParallelRange(m, 4, rows);
  } else {
    rows(0, m, 0);
  }
  return xq;
}

// No packed kernel on this ISA: rows [b, e) of packed `w` back to row-major blocks, 16 at a
// time, each piece handed to fn(view, first row).
template <typename Fn>
void ForUnpackedRows(const WeightMatrix& w, int64_t b, int64_t e, Fn fn) {
  thread_local std::vector<uint8_t> rows;
  rows.resize(static_cast<size_t>(16 * w.RowBytes()));
  for (int64_t j0 = b; j0 < e; j0 += 16) {
    const int64_t count = std::min<int64_t>(16, e - j0);
    UnpackGemvRows(w, j0, j0 + count, rows.data());
    fn(WeightMatrix{w.dtype, count, w.cols, rows.data(), 0}, j0);
  }
}

// One task of the q4_k / q6_k int8 GEMV: weight rows [b, e) (group-aligned for packed
// weights) for all m activation rows (xq: [m, nb] q8_K blocks), in passes of up to 8 rows.
void GemvQ8KTask(const cpu::CpuKernels& kern, const BlockQ8_K* xq, int64_t nb, int64_t m,
                 const WeightMatrix& w, int64_t b, int64_t e, const float* bias, float* y,
                 int64_t y_stride) {
  for (int64_t i0 = 0; i0 < m; i0 += kGemvMaxRowsPerPass) {
    const int64_t mm = std::min(kGemvMaxRowsPerPass, m - i0);
    const BlockQ8_K* xi = xq + i0 * nb;
    float* yi = y + i0 * y_stride;
    if (!w.packed()) {
      kern.gemv_q8k(xi, nb, mm, w, b, e, bias, yi, y_stride);
    } else if (kern.gemv_q8k_packed != nullptr) {
      kern.gemv_q8k_packed(xi, nb, mm, w, b / 16, (e + 15) / 16, bias, yi, y_stride);
    } else {
      ForUnpackedRows(w, b, e, [&](const WeightMatrix& view, int64_t j0) {
        kern.gemv_q8k(xi, nb, mm, view, 0, view.rows, bias ? bias + j0 : nullptr, yi + j0, y_stride);
      });
    }
  }
}

// Activation rows per GEMV task where m is prefill-sized (8 passes of 8 rows).
constexpr int64_t kGemvRowsPerTask = 64;

// Runs fn(part, row_begin, row_end, i0, i1) for every GEMV task: weight rows [row_begin,
// row_end) of matrix `part` (of a MatMulMulti; 0 otherwise) against activation rows [i0,
// i1). A prefill-sized m is cut into blocks of kGemvRowsPerTask rows, a weight tile's blocks
// consecutive tasks: a thread's run still keeps each tile in its L2 while it goes through
// the blocks, and a thread done early can take a block (8 passes over a tile) from the
// other's run instead of waiting for it to finish a whole tile against all m rows (~1.5 ms
// at m = 512 on a [2048 x 2048] q4_0 product). 512-token q4_0 prefill, the two alternated
// run by run in one process (two sets of 8 runs): 194 against 184 tok/s (medians), ahead in
// 6 of 8 pairs; equal on a quiet host, 2-5% ahead per product beside a competing process.
template <typename Fn>
void ForGemvTasks(ComputeContext& ctx, const GemvTasks& tasks, int64_t m, Fn&& fn) {
  const int64_t blocks = (m + kGemvRowsPerTask - 1) / kGemvRowsPerTask;
  ctx.pool().ParallelForInRuns(tasks.count() * blocks, [&](int64_t t, int) {
    const int64_t i0 = t % blocks * kGemvRowsPerTask, i1 = std::min(m, i0 + kGemvRowsPerTask);
    tasks.ForRows(t / blocks, [&](int p, int64_t b, int64_t e) { fn(p, b, e, i0, i1); });
  });
}

// Precision::kInt8 GEMV on q4_k / q6_k weights: quantize to q8_K, integer dots (row-major
// weights: m <= 8; packed: every m).
void RunGemvQ8K(ComputeContext& ctx, const cpu::CpuKernels& kern, const float* x,
                int64_t x_stride, int64_t m, const WeightMatrix& w, const float* bias, float* y,
                int64_t y_stride) {
  const BlockQ8_K* xq = QuantizeForGemvK(ctx, kern, x, x_stride, m, w.cols);
  const int64_t nb = w.cols / kQK_K;
  const GemvTasks tasks(w, ctx.num_threads());
  ForGemvTasks(ctx, tasks, m, [&](int, int64_t b, int64_t e, int64_t i0, int64_t i1) {
    GemvQ8KTask(kern, xq + i0 * nb, nb, i1 - i0, w, b, e, bias, y + i0 * y_stride, y_stride);
  });
}

// One task of the int8 GEMV: weight rows [b, e) (group-aligned for packed weights) for all m
// activation rows, in passes of up to 8 rows.
void GemvQ8Task(const cpu::CpuKernels& kern, const Q8Input& in, int64_t m, const WeightMatrix& w,
                int64_t b, int64_t e, const float* bias, float* y, int64_t y_stride) {
  for (int64_t i0 = 0; i0 < m; i0 += kGemvMaxRowsPerPass) {
    const int64_t mm = std::min(kGemvMaxRowsPerPass, m - i0);
    const int64_t off = i0 * in.nb;
    float* yi = y + i0 * y_stride;
    if (!w.packed()) {
      kern.gemv_q8(in.xq + off, in.nb, mm, w, b, e, bias, yi, y_stride);
    } else if (kern.gemv_q8_packed != nullptr) {
      kern.gemv_q8_packed(in.xq + off, in.xd + off, in.Offsets(w.dtype) + off, in.nb, mm, w, b / 16,
                          (e + 15) / 16, bias, yi, y_stride);
    } else {
      ForUnpackedRows(w, b, e, [&](const WeightMatrix& view, int64_t j0) {
        kern.gemv_q8(in.xq + off, in.nb, mm, view, 0, view.rows, bias ? bias + j0 : nullptr,
                     yi + j0, y_stride);
      });
    }
  }
}

// Precision::kInt8 GEMV: quantize the activations to q8_0 once, then integer block dots.
void RunGemvQ8(ComputeContext& ctx, const cpu::CpuKernels& kern, const float* x,
               int64_t x_stride, int64_t m, const WeightMatrix& w, const float* bias, float* y,
               int64_t y_stride) {
  const Q8Input in = QuantizeForGemv(ctx, kern, x, x_stride, m, w.cols, w.packed());
  const GemvTasks tasks(w, ctx.num_threads());
  ForGemvTasks(ctx, tasks, m, [&](int, int64_t b, int64_t e, int64_t i0, int64_t i1) {
    GemvQ8Task(kern, in.FromRow(i0), i1 - i0, w, b, e, bias, y + i0 * y_stride, y_stride);
  });
}

// oneDNN runs on its own (OpenMP) threads: our idle workers sleep instead of spinning beside
// them (a spin lasts ~0.36 ms on Zen 5, longer than many encoder products). OCULAR_NO_PARK=1
// keeps them spinning, for comparisons.
void ParkForOneDnn(ComputeContext& ctx) {
  static const bool park = std::getenv("OCULAR_NO_PARK") == nullptr;
  if (park) ctx.pool().Park();
}

// Row-major weights only (packed ones always take the int8 GEMV).
bool RunOneDnn(ComputeContext& ctx, const cpu::CpuKernels& kern, const float* x,
               int64_t x_stride, int64_t m, const WeightMatrix& w, const float* bias, float* y,
               int64_t y_stride, Precision precision) {
  OneDnnState* dnn = ctx.onednn();
  if (dnn == nullptr) return false;
  const int64_t n = w.rows, k = w.cols;
  const bool bf16 = precision != Precision::kF32;
  const int64_t elem = bf16 ? 2 : 4;

  const void* src = x;
  int64_t lds = x_stride;
  if (bf16) {
    // [m, k] bf16
    uint16_t* xb = static_cast<uint16_t*>(
        ctx.Scratch(ComputeContext::kScratchActivations, static_cast<size_t>(m * k) * 2));
    ctx.pool().ParallelRange(m, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) kern.convert_f32_to_bf16(x + i * x_stride, xb + i * k, k);
    });
    src = xb;
    lds = k;
  }

  const DType compute = bf16 ? DType::kBF16 : DType::kF32;
  if (w.dtype == compute && w.Stride() % elem == 0) {
    OneDnnMatMulShape s{m, n, k, lds, w.Stride() / elem, y_stride, bf16, bias != nullptr};
    ParkForOneDnn(ctx);
    return dnn->MatMul(s, src, w.data, bias, y);
  }
  int64_t tile = std::max<int64_t>(64, kTileBytes / std::max<int64_t>(1, k * elem));
  tile = std::min(n, (tile + 63) / 64 * 64);
  // [tile, k] in the compute dtype
  void* wt = ctx.Scratch(ComputeContext::kScratchWeights, static_cast<size_t>(tile * k * elem));
  for (int64_t j0 = 0; j0 < n; j0 += tile) {
    const int64_t tn = std::min(tile, n - j0);
    ctx.pool().ParallelRange(tn, 8, [&](int64_t b, int64_t e, int) {
      for (int64_t r = b; r < e; ++r) {
        if (bf16) {
          kern.dequantize_row_bf16(w.dtype, w.Row(j0 + r), static_cast<uint16_t*>(wt) + r * k, k);
        } else {
          kern.dequantize_row(w.dtype, w.Row(j0 + r), static_cast<float*>(wt) + r * k, k);
        }
      }
    });
    OneDnnMatMulShape s{m, tn, k, lds, k, y_stride, bf16, bias != nullptr};
    ParkForOneDnn(ctx);
    if (!dnn->MatMul(s, src, wt, bias ? bias + j0 : nullptr, y + j0)) return false;
  }
  return true;
}

}  // namespace

int64_t WeightMatrix::RowBytes() const {
  uint64_t bytes = 0;
  CHECK(DTypeBytes(dtype, static_cast<uint64_t>(cols), &bytes)) << "weight row not whole blocks";
  return static_cast<int64_t>(bytes);
}

void MatMulStrided(ComputeContext& ctx, const float* x, int64_t x_stride, int64_t m,
                   const WeightMatrix& w, const float* bias, float* y, int64_t y_stride,
                   Precision precision) {
  CheckWeight(w);
  CHECK_GE(m, 0);
  CHECK_GE(x_stride, w.cols);
  CHECK_GE(y_stride, w.rows);
  if (m == 0 || w.rows == 0) return;
  if (w.cols == 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < w.rows; ++j) y[i * y_stride + j] = bias ? bias[j] : 0.0f;
    }
    return;
  }
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  // Packed weights take the int8 GEMV for every m (8 activation rows per pass over a task's
  // weights, which stay in cache between passes): prefill of 512 tokens ran 1.15x (q8_0) to
  // 1.5x (q4_0) faster than converting the weights to bf16 for oneDNN (docs/performance.md).
  CHECK(!w.packed() || precision == Precision::kInt8) << "packed weights take Precision::kInt8";
  if (w.packed() && TakesQ8_K(w.dtype)) {
    RunGemvQ8K(ctx, kern, x, x_stride, m, w, bias, y, y_stride);
    return;
  }
  if (w.packed()) {
    RunGemvQ8(ctx, kern, x, x_stride, m, w, bias, y, y_stride);
    return;
  }
  if (m > ctx.options().gemv_max_rows &&
      RunOneDnn(ctx, kern, x, x_stride, m, w, bias, y, y_stride, precision)) {
    return;
  }
  if (precision == Precision::kInt8 && m <= kGemvMaxRowsPerPass && TakesQ8_0(w.dtype)) {
    RunGemvQ8(ctx, kern, x, x_stride, m, w, bias, y, y_stride);
    return;
  }
  if (precision == Precision::kInt8 && m <= kGemvMaxRowsPerPass && TakesQ8_K(w.dtype)) {
    RunGemvQ8K(ctx, kern, x, x_stride, m, w, bias, y, y_stride);
    return;
  }
  RunGemv(ctx, kern, x, x_stride, m, w, bias, y, y_stride);
}

void MatMul(ComputeContext& ctx, const float* x, int64_t m, const WeightMatrix& w,
            const float* bias, float* y, Precision precision) {
  MatMulStrided(ctx, x, w.cols, m, w, bias, y, w.rows, precision);
}

void MatMulMulti(ComputeContext& ctx, const float* x, int64_t m,
                 std::span<const WeightMatrix* const> ws, std::span<float* const> ys,
                 Precision precision) {
  CHECK_EQ(ws.size(), ys.size());
  CHECK_GE(m, 0);
  const int64_t k = ws.empty() ? 0 : ws[0]->cols;
  // Fused: few rows (every dtype takes our GEMV), or any m when every weight is packed (the
  // int8 GEMV serves every m): the activations are quantized once for all the products, one
  // parallel region runs them all, and its tasks are cut over all of them (even runs).
  const bool few_rows = m <= std::min(kGemvMaxRowsPerPass, ctx.options().gemv_max_rows);
  bool all_packed = precision == Precision::kInt8;
  for (const WeightMatrix* w : ws) all_packed = all_packed && w->packed();
  bool fuse = ws.size() > 1 && m > 0 && k > 0 && (few_rows || all_packed);
  for (const WeightMatrix* w : ws) fuse = fuse && w->cols == k;
  if (!fuse) {
    for (size_t i = 0; i < ws.size(); ++i) MatMul(ctx, x, m, *ws[i], nullptr, ys[i], precision);
    return;
  }
  if (ws.size() > static_cast<size_t>(GemvTasks::kMaxParts)) {
    for (size_t i = 0; i < ws.size(); ++i) MatMul(ctx, x, m, *ws[i], nullptr, ys[i], precision);
    return;
  }
  // One part per weight; the tasks cut all of them laid end to end (gemv_tasks.h).
  enum class Kind { kGemv, kBf16Split, kInt8Q8_0, kInt8Q8_K };
  Kind kinds[GemvTasks::kMaxParts];
  bool any_q8_0 = false, any_q8_k = false;
  bool any_packed_q8_0 = false;  // a packed q8_0 / q4_0 part: needs f32 scales and sums
  bool any_split = false;        // a bf16 part for the pair-split GEMV
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  for (size_t i = 0; i < ws.size(); ++i) {
    const WeightMatrix& w = *ws[i];
    CheckWeight(w);
    const bool int8 = precision == Precision::kInt8;
    const Kind kind = int8 && TakesQ8_0(w.dtype)   ? Kind::kInt8Q8_0
                      : int8 && TakesQ8_K(w.dtype) ? Kind::kInt8Q8_K
                      : TakesBf16Split(kern, w)    ? Kind::kBf16Split
                                                   : Kind::kGemv;
    CHECK(!w.packed() || kind == Kind::kInt8Q8_0 || kind == Kind::kInt8Q8_K)
        << "packed weights take Precision::kInt8";
    any_split = any_split || kind == Kind::kBf16Split;
    any_q8_0 = any_q8_0 || kind == Kind::kInt8Q8_0;
    any_q8_k = any_q8_k || kind == Kind::kInt8Q8_K;
    any_packed_q8_0 = any_packed_q8_0 || (w.packed() && kind == Kind::kInt8Q8_0);
    kinds[i] = kind;
  }
  const GemvTasks tasks(ws, ctx.num_threads());
  Q8Input in;  // shared by every int8 part of each activation format
  if (any_q8_0) in = QuantizeForGemv(ctx, kern, x, k, m, k, any_packed_q8_0);
  const BlockQ8_K* xk = any_q8_k ? QuantizeForGemvK(ctx, kern, x, k, m, k) : nullptr;
  const float* xs = any_split ? SplitForBf16Gemv(ctx, x, k, m, k) : nullptr;
  // Few rows: one block (i0 = 0, i1 = m); more (all packed, so int8 parts only): blocks of
  // kGemvRowsPerTask activation rows.
  ForGemvTasks(ctx, tasks, m, [&](int p, int64_t b, int64_t e, int64_t i0, int64_t i1) {
    const WeightMatrix& w = *ws[p];
    const int64_t n = w.rows, mm = i1 - i0;
    float* y = ys[p] + i0 * n;
    switch (kinds[p]) {
      case Kind::kInt8Q8_0:
        GemvQ8Task(kern, in.FromRow(i0), mm, w, b, e, nullptr, y, n);
        break;
      case Kind::kInt8Q8_K:
        GemvQ8KTask(kern, xk + i0 * (k / kQK_K), k / kQK_K, mm, w, b, e, nullptr, y, n);
        break;
      case Kind::kGemv:
        kern.gemv(x + i0 * k, k, mm, w, b, e, nullptr, y, n);
        break;
      case Kind::kBf16Split:
        kern.gemv_bf16_split(xs + i0 * k, k, mm, w, b, e, nullptr, y, n);
        break;
    }
  });
}

void GatherRows(ComputeContext& ctx, const WeightMatrix& w, const int32_t* ids, int64_t n,
                float* out) {
  CheckWeight(w);
  const cpu::CpuKernels& kern = cpu::KernelsFor(ctx.isa());
  std::vector<uint8_t> row(w.packed() ? static_cast<size_t>(w.RowBytes()) : 0);
  for (int64_t i = 0; i < n; ++i) {
    CHECK(ids[i] >= 0 && ids[i] < w.rows) << "row id out of range";
    const void* src = w.packed() ? row.data() : w.Row(ids[i]);
    if (w.packed()) UnpackGemvRows(w, ids[i], ids[i] + 1, row.data());
    kern.dequantize_row(w.dtype, src, out + i * w.cols, w.cols);
  }
}

}  // namespace ocular::kernels
