#include "kernels/onednn.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "base/aligned_buffer.h"
#include "base/check.h"

namespace ocular::kernels {

struct OneDnnState::Impl {
  int num_threads;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  // A failed build is cached too (as an empty primitive) so it is not retried every call.
  struct Entry {
    std::unique_ptr<dnnl::matmul> prim;
    dnnl::memory::desc scratchpad_md;
  };
  std::map<OneDnnMatMulShape, Entry> cache;
  // One scratchpad for every primitive (user scratchpad mode), grown to the largest one.
  // In oneDNN's default mode each execution allocated its own (a bf16 matmul packs the
  // weights into it, 25 MB for a [6144, 2048] matrix), and every call paid page faults on
  // fresh pages: about a fifth of a 512-token prefill.
  AlignedBuffer scratchpad;
};

OneDnnState::OneDnnState(int num_threads) : impl_(std::make_unique<Impl>()) {
  impl_->num_threads = num_threads < 1 ? 1 : num_threads;
}

OneDnnState::~OneDnnState() = default;

std::string OneDnnState::IsaName() const {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx2: return "avx2";
    default: return "other";
  }
}

bool OneDnnState::HasAmx() const {
  return dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx512_core_amx;
}

int64_t OneDnnState::num_cached_primitives() const {
  return static_cast<int64_t>(impl_->cache.size());
}

bool OneDnnState::MatMul(const OneDnnMatMulShape& s, const void* src, const void* weights,
                         const float* bias, float* dst) {
  using dt = dnnl::memory::data_type;
  const dt in_dt = s.bf16 ? dt::bf16 : dt::f32;
  const dnnl::memory::desc src_md({s.m, s.k}, in_dt, {s.lds, 1});
  // weights^T as a [k, n] matrix with strides (1, ldw): the [n, k] rows read in place.
  const dnnl::memory::desc wei_md({s.k, s.n}, in_dt, {1, s.ldw});
  const dnnl::memory::desc bias_md({1, s.n}, dt::f32, {s.n, 1});
  const dnnl::memory::desc dst_md({s.m, s.n}, dt::f32, {s.ldd, 1});

  auto it = impl_->cache.find(s);
  if (it == impl_->cache.end()) {
    // Every distinct m (prefill chunk, image size) builds a primitive; bound the cache so a
    // long-running server does not grow it without limit.
    constexpr size_t kMaxCachedPrimitives = 512;
    if (impl_->cache.size() >= kMaxCachedPrimitives) impl_->cache.clear();
    Impl::Entry entry;
    try {
      dnnl::matmul::desc desc = s.has_bias ? dnnl::matmul::desc(src_md, wei_md, bias_md, dst_md)
                                           : dnnl::matmul::desc(src_md, wei_md, dst_md);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd(desc, attr, impl_->engine);
      entry.prim = std::make_unique<dnnl::matmul>(pd);
      entry.scratchpad_md = pd.scratchpad_desc();
    } catch (const dnnl::error&) {
      entry.prim.reset();  // unsupported here: cached as a miss, the caller falls back
    }
    it = impl_->cache.emplace(s, std::move(entry)).first;
  }
  const Impl::Entry& entry = it->second;
  if (!entry.prim) return false;

  omp_set_num_threads(impl_->num_threads);
  try {
    dnnl::memory src_mem(src_md, impl_->engine, const_cast<void*>(src));
    dnnl::memory wei_mem(wei_md, impl_->engine, const_cast<void*>(weights));
    dnnl::memory dst_mem(dst_md, impl_->engine, dst);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, wei_mem}, {DNNL_ARG_DST, dst_mem}};
    if (s.has_bias) {
      args.emplace(DNNL_ARG_BIAS,
                   dnnl::memory(bias_md, impl_->engine, const_cast<float*>(bias)));
    }
    const size_t pad_bytes = entry.scratchpad_md.get_size();
    if (pad_bytes > 0) {
      if (impl_->scratchpad.size() < pad_bytes) impl_->scratchpad = AlignedBuffer::Large(pad_bytes);
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   dnnl::memory(entry.scratchpad_md, impl_->engine, impl_->scratchpad.data()));
    }
    entry.prim->execute(impl_->stream, args);
    impl_->stream.wait();
  } catch (const dnnl::error&) {
    return false;
  }
  return true;
}

}  // namespace ocular::kernels
