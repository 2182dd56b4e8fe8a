#include "kernels/compute_context.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "base/log.h"
#include "kernels/onednn.h"

namespace ocular::kernels {
namespace {

uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Asks the kernel for the AMX tile-data state (Linux >= 5.16); without it the first tile
// instruction faults.
bool RequestAmxPermission() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// "vendor/family/model" from cpuid (e.g. AuthenticAMD/25/17): hosts that report the same
// features can differ in what each instruction costs (512-bit operations split in two, or
// not), so a benchmark's log says which one it ran on.
std::string CpuIdentity() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return "unknown";
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  if (!__get_cpuid(1, &a, &b, &c, &d)) return vendor;
  const unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
  const unsigned family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
  const unsigned model =
      base_family == 0x6 || base_family == 0xf ? base_model | (((a >> 16) & 0xf) << 4) : base_model;
  return std::string(vendor) + "/" + std::to_string(family) + "/" + std::to_string(model);
}

}  // namespace

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

std::optional<Isa> IsaFromName(std::string_view name) {
  if (name == "scalar") return Isa::kScalar;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx512") return Isa::kAvx512;
  return std::nullopt;
}

Isa CpuFeatures::BestIsa() const {
  if (avx512f && avx512bw && avx512vl && avx512dq && avx512_vnni && fma && f16c) {
    return Isa::kAvx512;
  }
  if (avx2 && fma && f16c) return Isa::kAvx2;
  return Isa::kScalar;
}

std::string CpuFeatures::ToString() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512_bf16, "avx512_bf16");
  add(avx512_fp16, "avx512_fp16");
  add(avx512_vnni, "avx512_vnni");
  add(amx_tile, "amx_tile");
  add(amx_bf16, "amx_bf16");
  add(amx_int8, "amx_int8");
  add(amx_permitted, "amx_permitted");
  return s;
}

CpuFeatures DetectCpuFeatures() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return CpuFeatures{};
  const uint64_t xcr0 = ReadXcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = (xcr0 & 0xe6) == 0xe6;
  const bool os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);
  if (!os_avx) return CpuFeatures{};
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = (b >> 5) & 1;
  if (os_avx512) {
    f.avx512f = (b >> 16) & 1;
    f.avx512dq = (b >> 17) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
    f.avx512_vnni = (c >> 11) & 1;
    f.avx512_fp16 = (d >> 23) & 1;
  }
  if (os_amx) {
    f.amx_bf16 = (d >> 22) & 1;
    f.amx_tile = (d >> 24) & 1;
    f.amx_int8 = (d >> 25) & 1;
  }
  unsigned sub_a = 0, sub_b = 0, sub_c = 0, sub_d = 0;
  __cpuid_count(7, 1, sub_a, sub_b, sub_c, sub_d);
  if (os_avx512) f.avx512_bf16 = (sub_a >> 5) & 1;
  if (!f.f16c || !f.fma) f.avx2 = false;
  return f;
}

Result<ComputeOptions> ComputeOptions::FromEnvironment() {
  ComputeOptions o;
  if (const char* v = std::getenv("OCULAR_ISA"); v != nullptr && *v != '\0') {
    std::optional<Isa> isa = IsaFromName(v);
    if (!isa) return InvalidArgument("OCULAR_ISA must be scalar, avx2 or avx512");
    o.max_isa = *isa;
  }
  return o;
}

ComputeContext::ComputeContext(ThreadPool& pool, ComputeOptions options)
    : pool_(pool), options_(options), features_(DetectCpuFeatures()) {
  if (features_.amx_tile) features_.amx_permitted = RequestAmxPermission();
  isa_ = std::min(features_.BestIsa(), options_.max_isa);
  if (options_.use_onednn) onednn_ = std::make_unique<OneDnnState>(pool_.num_threads());
}

ComputeContext::~ComputeContext() = default;

void* ComputeContext::Scratch(ScratchSlot slot, size_t bytes) {
  AlignedBuffer& b = scratch_[slot];
  if (b.size() < bytes) b = AlignedBuffer::Large(bytes);  // huge pages when large
  return b.data();
}

std::string ComputeContext::Describe() const {
  std::string s = "isa=" + std::string(IsaName(isa_)) + " threads=" +
                  std::to_string(pool_.num_threads()) + " cpu=[" + features_.ToString() + "]";
  if (onednn_) s += " onednn=" + onednn_->IsaName();
  s += " cpuid=" + CpuIdentity();
  return s;
}

}  // namespace ocular::kernels
