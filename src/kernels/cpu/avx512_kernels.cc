// The Isa::kAvx512 table (AVX-512 F/BW/VL/DQ): simd_body.h over 16-lane vectors.
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/const_dispatch.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gemv_bf16.h"
#include "kernels/cpu/gemv_kquant.h"
#include "kernels/cpu/vec_avx512.h"
#include "kernels/ref/ref.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels::cpu {
namespace avx512 {
#include "kernels/cpu/simd_body.h"
}  // namespace avx512

const CpuKernels& Avx512Kernels() { return avx512::Table(); }

}  // namespace ocular::kernels::cpu
