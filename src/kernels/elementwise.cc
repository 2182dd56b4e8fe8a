// Dispatch of the conversion, normalisation, activation and rotary kernels (kernels.h).
#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/kernels.h"

namespace ocular::kernels {
namespace {
const cpu::CpuKernels& K(const ComputeContext& ctx) { return cpu::KernelsFor(ctx.isa()); }

// Below this many elements a kernel runs on the calling thread (waking the pool costs more).
constexpr int64_t kParallelElems = 1 << 16;

// Runs fn(begin, end) over [0, n) items of `item_elems` elements each, split over the pool
// when the work is large enough.
template <typename Fn>
void ForRanges(const ComputeContext& ctx, int64_t n, int64_t item_elems, Fn&& fn) {
  if (n <= 1 || n * item_elems < kParallelElems || ctx.num_threads() == 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, item_elems));
  ctx.pool().ParallelRange(n, grain, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

// A row of n values of `dtype`: a supported dtype and whole blocks.
void CheckRow(DType dtype, int64_t n) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  CHECK(info.supported) << "unsupported dtype " << DTypeName(dtype);
  CHECK(n >= 0 && n % info.block_elems == 0);
}
}  // namespace

void DequantizeRow(const ComputeContext& ctx, DType dtype, const void* src, float* dst,
                   int64_t n) {
  CheckRow(dtype, n);
  K(ctx).dequantize_row(dtype, src, dst, n);
}
void DequantizeRowToBf16(const ComputeContext& ctx, DType dtype, const void* src, uint16_t* dst,
                         int64_t n) {
  CheckRow(dtype, n);
  K(ctx).dequantize_row_bf16(dtype, src, dst, n);
}
void ConvertF32ToBf16(const ComputeContext& ctx, const float* src, uint16_t* dst, int64_t n) {
  K(ctx).convert_f32_to_bf16(src, dst, n);
}
void ConvertF32ToF16(const ComputeContext& ctx, const float* src, uint16_t* dst, int64_t n) {
  K(ctx).convert_f32_to_f16(src, dst, n);
}
void RoundToBf16(const ComputeContext& ctx, float* x, int64_t n) { K(ctx).round_to_bf16(x, n); }

void RmsNorm(const ComputeContext& ctx, const float* x, const float* weight, float eps,
             float* y, int64_t rows, int64_t dim) {
  CHECK(rows >= 0 && dim > 0);
  ForRanges(ctx, rows, dim, [&](int64_t b, int64_t e) {
    K(ctx).rms_norm(x + b * dim, weight, eps, y + b * dim, e - b, dim);
  });
}
void LayerNorm(const ComputeContext& ctx, const float* x, const float* weight,
               const float* bias, float eps, float* y, int64_t rows, int64_t dim) {
  CHECK(rows >= 0 && dim > 0);
  ForRanges(ctx, rows, dim, [&](int64_t b, int64_t e) {
    K(ctx).layer_norm(x + b * dim, weight, bias, eps, y + b * dim, e - b, dim);
  });
}
void Softmax(const ComputeContext& ctx, float* x, int64_t n) {
  CHECK_GE(n, 1);
  K(ctx).softmax(x, n);
}
void SwiGlu(const ComputeContext& ctx, const float* gate, const float* up, float* out,
            int64_t n) {
  ForRanges(ctx, n, 1, [&](int64_t b, int64_t e) {
    K(ctx).swiglu(gate + b, up + b, out + b, e - b);
  });
}
void GeluErf(const ComputeContext& ctx, float* x, int64_t n) {
  ForRanges(ctx, n, 1, [&](int64_t b, int64_t e) { K(ctx).gelu_erf(x + b, e - b); });
}
void GeluTanh(const ComputeContext& ctx, float* x, int64_t n) {
  ForRanges(ctx, n, 1, [&](int64_t b, int64_t e) { K(ctx).gelu_tanh(x + b, e - b); });
}
void AddInPlace(const ComputeContext& ctx, float* y, const float* x, int64_t n) {
  ForRanges(ctx, n, 1, [&](int64_t b, int64_t e) { K(ctx).add_in_place(y + b, x + b, e - b); });
}
void Scale(const ComputeContext& ctx, float* x, float s, int64_t n) { K(ctx).scale(x, s, n); }

void RopeNeox(const ComputeContext& ctx, float* x, int64_t tokens, int heads, int head_dim,
              int64_t token_stride, const float* cos, const float* sin, int rot_dim) {
  CHECK(rot_dim >= 0 && rot_dim % 2 == 0 && rot_dim <= head_dim);
  CHECK_GE(token_stride, static_cast<int64_t>(heads) * head_dim);
  const int64_t half = rot_dim / 2;
  ForRanges(ctx, tokens, static_cast<int64_t>(heads) * head_dim, [&](int64_t b, int64_t e) {
    K(ctx).rope_neox(x + b * token_stride, e - b, heads, head_dim, token_stride, cos + b * half,
                     sin + b * half, rot_dim);
  });
}

void MropeCosSin(const int64_t* pos_t, const int64_t* pos_h, const int64_t* pos_w,
                 int64_t tokens, float theta, int head_dim, const int sections[3], float* cos,
                 float* sin) {
  CHECK(head_dim > 0 && head_dim % 2 == 0);
  const int half = head_dim / 2;
  CHECK_LE(3 * sections[1], 3 * half + 1);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int i = 0; i < half; ++i) {
      // inv_freq as HF computes it in f32: 1 / theta^(float(2i) / head_dim).
      const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
      const float inv_freq = 1.0f / std::pow(theta, exponent);
      int64_t pos = pos_t[t];
      if (i % 3 == 1 && i < 3 * sections[1]) {
        pos = pos_h[t];
      } else if (i % 3 == 2 && i < 3 * sections[2]) {
        pos = pos_w[t];
      }
      const float angle = static_cast<float>(pos) * inv_freq;
      cos[t * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin[t * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
}

}  // namespace ocular::kernels
