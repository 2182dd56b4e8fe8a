// The Isa::kAvx2 table (AVX2 + FMA + F16C): simd_body.h over 8-lane vectors.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "base/check.h"
#include "kernels/cpu/const_dispatch.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/vec_avx2.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels::cpu {
namespace avx2 {
#include "kernels/cpu/simd_body.h"
}  // namespace avx2

const CpuKernels& Avx2Kernels() { return avx2::Table(); }

}  // namespace ocular::kernels::cpu
