// The Isa::kAvx2 table (AVX2 + FMA + F16C). Kernels not yet vectorised use the scalar ones.
#include "kernels/cpu/cpu_kernels.h"

namespace ocular::kernels::cpu {

const CpuKernels& Avx2Kernels() { return ScalarKernels(); }

}  // namespace ocular::kernels::cpu
