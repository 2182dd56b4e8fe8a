// The Isa::kAvx512 table (AVX-512 F/BW/VL/DQ). Kernels not yet vectorised use the scalar ones.
#include "kernels/cpu/cpu_kernels.h"

namespace ocular::kernels::cpu {

const CpuKernels& Avx512Kernels() { return ScalarKernels(); }

}  // namespace ocular::kernels::cpu
