// bench_kernels [--threads N] [--reps R] [--only gemv|matmul|attention] [--dtypes q8_0,q4_0]
//               [--gemv-rows 1,4]:
// kernel figures against this machine's limits.
//  - memory read bandwidth: both threads stream a 1 GiB buffer;
//  - decode GEMV (m = 1 and 4 rows, or --gemv-rows) for each weight dtype over a set of
//    [6144, 2048] matrices totalling >= 768 MiB, so every call reads from DRAM as in a real
//    decode step: GB/s of weights read and the fraction of the measured bandwidth; and the
//    same product on 2048 rows held in cache (the kernel's compute limit); q8_0 / q4_0 / q4_k /
//    q6_k also in the packed GEMV layout the model uses where it pays ("int8 packed"); q4_k /
//    q6_k int8 on q8_K activations;
//  - large matmul [512 x 2048] x [2048 x 6144] (prefill-like) in f32 and bf16 compute with
//    bf16 and q8_0 weights: GFLOP/s against the measured f32 FMA peak (x2 for bf16 dot
//    products where the CPU has AVX512_BF16; AMX, where present, reports oneDNN's ISA); and
//    q8_0 / q4_0 weights packed for the int8 GEMV (AVX-512): GOP/s against the measured
//    vpdpbusd peak;
//  - ViT attention (one 784- or 3520-token image, 16 heads of 64), f32 and bf16: GFLOP/s of
//    FullAttention;
//  - causal paged attention (the text decoder's prefill: 915 tokens, 16 / 8 heads of 128, f32
//    cache): GFLOP/s of PagedAttention over the unmasked half;
//  - decode paged attention (1 and 4 sequences of one token over 1024 cached ones, a cache
//    per layer for 16 layers so K and V come from DRAM): GB/s of K + V read.
// Every figure is the median (min-max) of R runs.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

struct Stats {
  double median, min, max;
};

template <typename Fn>
Stats Measure(int reps, Fn&& fn) {  // fn returns a figure (bigger is better)
  std::vector<double> v;
  for (int r = 0; r < reps; ++r) v.push_back(fn());
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

double Seconds(int64_t ns) { return static_cast<double>(ns) * 1e-9; }

double ReadBandwidthGbs(ComputeContext& ctx, const float* buf, int64_t n) {
  const auto& kern = cpu::KernelsFor(ctx.isa());
  std::vector<float> sink(ctx.num_threads());
  const int64_t t0 = NowNs();
  ctx.pool().ParallelRange(n, 1 << 16, [&](int64_t b, int64_t e, int t) {
    sink[t] += kern.dot(buf + b, buf + b, e - b);  // same address twice: one DRAM stream
  });
  const double s = Seconds(NowNs() - t0);
  if (sink[0] == 12345.0f) std::printf(" ");
  return static_cast<double>(n) * 4 / s / 1e9;
}

__attribute__((target("avx512f,fma"))) double FmaPeakAvx512(int64_t iters) {
  __m512 a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 8; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  }
  __m512 s = a[0];
  for (int i = 1; i < 8; ++i) s = _mm512_add_ps(s, a[i]);
  alignas(64) float t[16];
  _mm512_store_ps(t, s);
  return t[0];
}

__attribute__((target("avx2,fma"))) double FmaPeakAvx2(int64_t iters) {
  __m256 a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  }
  float t[8];
  _mm256_storeu_ps(t, a[0]);
  return t[0];
}

// FMA GFLOP/s of all threads on register-only FMA chains (8 independent per thread).
double FmaPeakGflops(ComputeContext& ctx) {
  const bool avx512 = ctx.isa() == Isa::kAvx512;
  const int64_t iters = 20'000'000;
  const int lanes = avx512 ? 16 : 8;
  std::vector<double> sink(ctx.num_threads());
  const int64_t t0 = NowNs();
  ctx.pool().ParallelFor(ctx.num_threads(), [&](int64_t, int t) {
    sink[t] = avx512 ? FmaPeakAvx512(iters) : FmaPeakAvx2(iters);
  });
  const double s = Seconds(NowNs() - t0);
  return static_cast<double>(iters) * 8 * lanes * 2 * ctx.num_threads() / s / 1e9;
}

// 512-bit vpdpbusd (64 u8 x s8 products each) on register-only chains (12 independent per
// thread): the int8 ceiling the packed GEMV's prefill-sized products run against.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) double DotPeakVnni(int64_t iters) {
  __m512i a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_epi32(i);
  const __m512i w = _mm512_set1_epi8(3), x = _mm512_set1_epi8(-2);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_dpbusd_epi32(a[i], w, x);
  }
  __m512i s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_epi32(s, a[i]);
  alignas(64) int32_t t[16];
  _mm512_store_si512(t, s);
  return static_cast<double>(t[0]);
}

// GOP/s (2 per multiply-add) of all threads, AVX-512 hosts only (0 elsewhere).
double Int8DotPeakGops(ComputeContext& ctx) {
  if (ctx.isa() != Isa::kAvx512) return 0;
  const int64_t iters = 10'000'000;
  std::vector<double> sink(ctx.num_threads());
  const int64_t t0 = NowNs();
  ctx.pool().ParallelFor(ctx.num_threads(), [&](int64_t, int t) { sink[t] = DotPeakVnni(iters); });
  const double s = Seconds(NowNs() - t0);
  return static_cast<double>(iters) * 12 * 64 * 2 * ctx.num_threads() / s / 1e9;
}

// Weight storage of `count` [rows, cols] matrices of `dtype` filled with valid random values.
struct WeightSet {
  std::vector<AlignedBuffer> bufs;
  std::vector<WeightMatrix> mats;
  int64_t bytes_each = 0;
};

WeightSet MakeWeights(DType dtype, int64_t rows, int64_t cols, int count) {
  WeightSet set;
  uint64_t row_bytes = 0;
  CHECK(DTypeBytes(dtype, cols, &row_bytes));
  set.bytes_each = static_cast<int64_t>(row_bytes) * rows;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> f(cols);
  for (int i = 0; i < count; ++i) {
    AlignedBuffer b = AlignedBuffer::InHugePages(set.bytes_each);  // as the model holds them
    uint8_t* p = b.as<uint8_t>();
    for (int64_t r = 0; r < rows; ++r) {
      if (r < 16 || i == 0) {
        for (float& x : f) x = d(rng);
      }
      uint8_t* row = p + r * row_bytes;
      switch (dtype) {
        case DType::kF32: std::memcpy(row, f.data(), cols * 4); break;
        case DType::kF16: ref::ConvertRowF32ToF16(f.data(), reinterpret_cast<uint16_t*>(row), cols); break;
        case DType::kBF16: ref::ConvertRowF32ToBf16(f.data(), reinterpret_cast<uint16_t*>(row), cols); break;
        case DType::kQ8_0: ref::QuantizeRowQ8_0(f.data(), reinterpret_cast<BlockQ8_0*>(row), cols); break;
        case DType::kQ4_0: ref::QuantizeRowQ4_0(f.data(), reinterpret_cast<BlockQ4_0*>(row), cols); break;
        default:  // k-quants: random bytes with small f16 super-scales
          for (uint64_t j = 0; j < row_bytes; ++j) row[j] = static_cast<uint8_t>(rng());
          for (int64_t blk = 0; blk < cols / kQK_K; ++blk) {
            if (dtype == DType::kQ6_K) {
              reinterpret_cast<BlockQ6_K*>(row)[blk].d = F32ToF16(0.001f);
              continue;
            }
            auto* q = reinterpret_cast<BlockQ4_K*>(row) + blk;
            q->d = F32ToF16(0.01f);
            q->dmin = F32ToF16(0.01f);
          }
      }
    }
    set.mats.push_back(WeightMatrix{dtype, rows, cols, p, 0});
    set.bufs.push_back(std::move(b));
  }
  return set;
}

int Main(int argc, char** argv) {
  int threads = 2, reps = 5;
  std::string only;    // "gemv", "matmul" or "attention": run just that part (after the limits)
  std::string dtypes;  // GEMV weight dtypes to run, e.g. "q8_0,q4_0" (empty: all)
  std::vector<int64_t> gemv_rows = {1, 4};  // activation rows per GEMV (1..8)
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    if (std::strcmp(argv[i], "--dtypes") == 0) dtypes = argv[i + 1];
    if (std::strcmp(argv[i], "--gemv-rows") == 0) {
      gemv_rows.clear();
      for (const char* p = argv[i + 1]; *p != '\0';) {
        char* end = nullptr;
        const long v = std::strtol(p, &end, 10);
        if (end == p || v < 1 || v > 8) {
          std::fprintf(stderr, "bench_kernels: --gemv-rows takes numbers 1..8, e.g. 1,2,4,8\n");
          return 2;
        }
        gemv_rows.push_back(v);
        p = *end == ',' ? end + 1 : end;
      }
    }
  }
  ThreadPool pool(threads);
  Result<ComputeOptions> opts = ComputeOptions::FromEnvironment();
  if (!opts.ok()) {
    std::fprintf(stderr, "bench_kernels: %s\n", opts.status().ToString().c_str());
    return 2;
  }
  ComputeContext ctx(pool, *opts);
  std::printf("context: %s\n", ctx.Describe().c_str());

  const int64_t buf_floats = (int64_t{1} << 30) / 4;
  AlignedBuffer big = AlignedBuffer::InHugePages(buf_floats * 4);
  std::memset(big.data(), 0, buf_floats * 4);
  ReadBandwidthGbs(ctx, big.as<float>(), buf_floats);  // warm-up (page faults)
  const Stats bw = Measure(reps, [&] { return ReadBandwidthGbs(ctx, big.as<float>(), buf_floats); });
  std::printf("memory read bandwidth   %7.1f GB/s (%.1f-%.1f), %d threads\n", bw.median, bw.min,
              bw.max, threads);
  big = AlignedBuffer();
  const Stats peak = Measure(reps, [&] { return FmaPeakGflops(ctx); });
  std::printf("f32 FMA peak            %7.1f GFLOP/s (%.1f-%.1f)\n", peak.median, peak.min,
              peak.max);
  const Stats dot_peak = Measure(reps, [&] { return Int8DotPeakGops(ctx); });
  if (dot_peak.median > 0) {
    std::printf("int8 dot peak           %7.1f GOP/s (%.1f-%.1f), vpdpbusd\n", dot_peak.median,
                dot_peak.min, dot_peak.max);
  }

  const int64_t rows = 6144, cols = 2048;
  std::vector<float> x(8 * cols, 0.5f), y(8 * rows);
  for (DType dt : {DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K,
                   DType::kQ6_K}) {
    if (!only.empty() && only != "gemv") break;
    if (!dtypes.empty() && dtypes.find(std::string(DTypeName(dt))) == std::string::npos) continue;
    uint64_t each = 0;
    CHECK(DTypeBytes(dt, rows * cols, &each));
    const int count = static_cast<int>(std::max<uint64_t>(2, (768ull << 20) / each + 1));
    WeightSet ws = MakeWeights(dt, rows, cols, count);
    const bool packable = GemvPackable(dt);
    const bool int8 = packable;
    // The same matrices in the packed GEMV layout (as the model holds them where it pays).
    WeightSet packed;
    if (packable && GemvPackingPays(ctx)) {
      for (const WeightMatrix& w : ws.mats) {
        AlignedBuffer b = AlignedBuffer::InHugePages(GemvPackedBytes(dt, w.rows, w.cols));
        packed.mats.push_back(PackForGemv(ctx, w, b.data()));
        packed.bufs.push_back(std::move(b));
      }
    }
    for (int mode = 0; mode < 3; ++mode) {  // f32, int8, int8 on packed weights
      const Precision p = mode == 0 ? Precision::kF32 : Precision::kInt8;
      if (p == Precision::kInt8 && !int8) continue;
      if (mode == 2 && packed.mats.empty()) continue;
      const std::vector<WeightMatrix>& mats = mode == 2 ? packed.mats : ws.mats;
      for (int64_t m : gemv_rows) {
        auto run = [&] {
          const int64_t t0 = NowNs();
          for (const WeightMatrix& w : mats) MatMul(ctx, x.data(), m, w, nullptr, y.data(), p);
          return static_cast<double>(ws.bytes_each) * count / Seconds(NowNs() - t0) / 1e9;
        };
        run();
        const Stats s = Measure(reps, run);
        // The same product on 2048 rows (~4 MB at q8_0) that stay in cache (L3), repeated:
        // the kernel's compute limit.
        WeightMatrix small = mats[0];
        small.rows = 2048;
        auto run_cached = [&] {
          const int64_t t0 = NowNs();
          for (int i = 0; i < 400; ++i) MatMul(ctx, x.data(), m, small, nullptr, y.data(), p);
          return static_cast<double>(small.rows * small.Stride()) * 400 / Seconds(NowNs() - t0) / 1e9;
        };
        run_cached();
        const Stats c = Measure(reps, run_cached);
        std::printf("gemv %-5s %s m=%lld [%lld x %lld]  %7.1f GB/s (%.1f-%.1f) = %5.1f%% of read bw; in cache %6.1f GB/s\n",
                    std::string(DTypeName(dt)).c_str(),
                    mode == 2 ? "int8 packed" : p == Precision::kInt8 ? "int8       " : "f32        ",
                    static_cast<long long>(m), static_cast<long long>(rows),
                    static_cast<long long>(cols), s.median, s.min, s.max,
                    100.0 * s.median / bw.median, c.median);
      }
    }
  }

  const int64_t mm = 512;
  std::vector<float> xa(mm * cols), ya(mm * rows);
  for (size_t i = 0; i < xa.size(); ++i) xa[i] = static_cast<float>(i % 17) * 0.01f;
  const double flops = 2.0 * mm * rows * cols;
  for (DType dt : {DType::kBF16, DType::kQ8_0, DType::kF32}) {
    if (!only.empty() && only != "matmul") break;
    WeightSet ws = MakeWeights(dt, rows, cols, 1);
    for (Precision p : {Precision::kF32, Precision::kBf16}) {
      auto run = [&] {
        const int64_t t0 = NowNs();
        MatMul(ctx, xa.data(), mm, ws.mats[0], nullptr, ya.data(), p);
        return flops / Seconds(NowNs() - t0) / 1e9;
      };
      run();
      const Stats s = Measure(reps, run);
      const bool bf = p == Precision::kBf16;
      const double ref_peak = bf && ctx.features().avx512_bf16 ? 2 * peak.median : peak.median;
      std::printf("matmul [%lld x %lld] x %-5s %s compute  %7.1f GFLOP/s (%.1f-%.1f) = %5.1f%% of %s peak %.0f\n",
                  static_cast<long long>(mm), static_cast<long long>(cols),
                  std::string(DTypeName(dt)).c_str(), bf ? "bf16" : "f32 ", s.median, s.min,
                  s.max, 100.0 * s.median / ref_peak, bf ? "bf16-dot" : "f32 FMA", ref_peak);
    }
  }

  // The packed int8 GEMV at prefill-sized m (the text decoder's q8_0 / q4_0 prefill):
  // GOP/s against the vpdpbusd peak.
  for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
    if ((!only.empty() && only != "matmul") || dot_peak.median <= 0 || !GemvPackingPays(ctx)) break;
    WeightSet ws = MakeWeights(dt, rows, cols, 1);
    AlignedBuffer b = AlignedBuffer::InHugePages(GemvPackedBytes(dt, rows, cols));
    const WeightMatrix packed = PackForGemv(ctx, ws.mats[0], b.data());
    auto run = [&] {
      const int64_t t0 = NowNs();
      MatMul(ctx, xa.data(), mm, packed, nullptr, ya.data(), Precision::kInt8);
      return flops / Seconds(NowNs() - t0) / 1e9;
    };
    run();
    const Stats s = Measure(reps, run);
    std::printf(
        "matmul [%lld x %lld] x %-5s int8 packed %7.1f GOP/s (%.1f-%.1f) = %5.1f%% of the int8 dot "
        "peak %.0f\n",
        static_cast<long long>(mm), static_cast<long long>(cols),
        std::string(DTypeName(dt)).c_str(), s.median, s.min, s.max,
        100.0 * s.median / dot_peak.median, dot_peak.median);
  }

  // ViT attention: one image's segment (n tokens: 448x448 and 1280x720 images), 16 heads of
  // 64 (the 2B vision tower's shape), f32 and bf16 precision. FLOPs: 4 n^2 d (QK^T and PV).
  if (only.empty() || only == "attention") {
    for (int64_t n : {int64_t{784}, int64_t{3520}}) {
      const int heads = 16, hd = 64;
      const int64_t row = int64_t{heads} * hd;
      std::vector<float> q(n * row), k(n * row), v(n * row), o(n * row);
      std::mt19937 rng(9);
      std::uniform_real_distribution<float> d(-1.0f, 1.0f);
      for (auto* buf : {&q, &k, &v}) {
        for (float& f : *buf) f = d(rng);
      }
      const int64_t cu[2] = {0, n};
      FullAttentionArgs a;
      a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = o.data();
      a.q_stride = a.k_stride = a.v_stride = a.out_stride = row;
      a.cu_seqlens = cu, a.num_segments = 1;
      a.num_heads = a.num_kv_heads = heads, a.head_dim = hd;
      a.scale = 1.0f / std::sqrt(float(hd));
      const double flops = 4.0 * double(n) * double(n) * double(row);
      for (Precision p : {Precision::kF32, Precision::kBf16}) {
        a.precision = p;
        auto run = [&] {
          const int64_t t0 = NowNs();
          FullAttention(ctx, a);
          return flops / Seconds(NowNs() - t0) / 1e9;
        };
        run();
        const Stats s = Measure(reps, run);
        const bool bf = p == Precision::kBf16 && ctx.features().avx512_bf16;
        const double ref_peak = bf ? 2 * peak.median : peak.median;
        std::printf("attention n=%-5lld %s %7.1f GFLOP/s (%.1f-%.1f) = %5.1f%% of %s peak %.0f\n",
                    static_cast<long long>(n), p == Precision::kBf16 ? "bf16" : "f32 ", s.median,
                    s.min, s.max, 100.0 * s.median / ref_peak, bf ? "bf16-dot" : "f32 FMA",
                    ref_peak);
      }
    }
    // The text decoder's causal prefill attention: one 915-token chunk (a 1280x720 image and
    // a short prompt) over the paged f32 cache, 16 query heads / 8 kv heads of 128 (the 2B
    // decoder), blocks of 16 slots. FLOPs count only the unmasked half: 2 n (n + 1) d heads.
    {
      const int32_t n = 915, heads = 16, kv_heads = 8, hd = 128, block = 16;
      PagedKvView cache;
      cache.block_size = block, cache.num_kv_heads = kv_heads, cache.head_dim = hd;
      cache.num_blocks = (n + block - 1) / block;
      const int64_t slot_floats = int64_t{kv_heads} * hd;
      std::vector<float> kc(cache.num_blocks * block * slot_floats);  // [blocks, 16, 8, 128] f32
      std::vector<float> vc(kc.size());
      std::vector<float> q(int64_t{n} * heads * hd), o(q.size());  // [n, 16, 128] f32
      std::mt19937 rng(10);
      std::uniform_real_distribution<float> d(-1.0f, 1.0f);
      for (auto* buf : {&kc, &vc, &q}) {
        for (float& f : *buf) f = d(rng);
      }
      cache.k = kc.data(), cache.v = vc.data();
      std::vector<int32_t> table(cache.num_blocks);
      for (int32_t b = 0; b < cache.num_blocks; ++b) table[b] = cache.num_blocks - 1 - b;
      const int32_t* tables[1] = {table.data()};
      const int64_t q_start = 0;
      PagedAttentionArgs a;
      a.q = q.data(), a.out = o.data();
      a.q_stride = a.out_stride = int64_t{heads} * hd;
      a.num_heads = heads, a.scale = 1.0f / std::sqrt(float(hd));
      a.num_seqs = 1, a.q_starts = &q_start, a.q_counts = &n, a.kv_lens = &n;
      a.block_tables = tables;
      const double flops = 2.0 * double(n) * double(n + 1) * hd * heads;
      auto run = [&] {
        const int64_t t0 = NowNs();
        PagedAttention(ctx, cache, a);
        return flops / Seconds(NowNs() - t0) / 1e9;
      };
      run();
      const Stats s = Measure(reps, run);
      std::printf("causal paged attention n=%d f32 %7.1f GFLOP/s (%.1f-%.1f) = %5.1f%% of f32 FMA peak %.0f\n",
                  n, s.median, s.min, s.max, 100.0 * s.median / peak.median, peak.median);
    }
    // Decode steps: 1 or 4 sequences of one query token over 1024 cached tokens each (16 / 8
    // heads of 128, scattered 16-slot blocks), f32 and bf16 caches in 2 MiB pages (as
    // KvStorage holds them) and the f32 cache in 4 KiB pages: GB/s of K and V read. As in a
    // decode step, each call reads another layer's cache (16 layers, more than the L3 holds),
    // so K and V come from DRAM. One kv head's keys are a token row (2-4 KiB) apart.
    for (const int32_t seqs : {1, 4}) {
      const int32_t kv_len = 1024, heads = 16, kv_heads = 8, hd = 128, block = 16, layers = 16;
      const int64_t slot_floats = int64_t{kv_heads} * hd;
      const int64_t blocks = int64_t{seqs} * kv_len / block;
      const size_t bytes = static_cast<size_t>(blocks * block * slot_floats * 4);  // f32, per layer
      std::mt19937 rng(11);
      std::uniform_real_distribution<float> d(-1.0f, 1.0f);
      std::vector<int32_t> order(static_cast<size_t>(blocks));
      for (int64_t b = 0; b < blocks; ++b) order[b] = static_cast<int32_t>(b);
      std::shuffle(order.begin(), order.end(), rng);
      std::vector<const int32_t*> tables(seqs);
      for (int s = 0; s < seqs; ++s) tables[s] = order.data() + int64_t{s} * kv_len / block;
      std::vector<float> q(int64_t{seqs} * heads * hd), o(q.size());  // [seqs, 16, 128] f32
      for (float& f : q) f = d(rng);
      std::vector<int64_t> q_starts(seqs);
      for (int s = 0; s < seqs; ++s) q_starts[s] = s;
      std::vector<int32_t> q_counts(seqs, 1), kv_lens(seqs, kv_len);
      PagedAttentionArgs a;
      a.q = q.data(), a.out = o.data();
      a.q_stride = a.out_stride = int64_t{heads} * hd;
      a.num_heads = heads, a.scale = 1.0f / std::sqrt(float(hd));
      a.num_seqs = seqs, a.q_starts = q_starts.data(), a.q_counts = q_counts.data();
      a.kv_lens = kv_lens.data(), a.block_tables = tables.data();
      std::vector<float> row(bytes / 4);
      for (float& f : row) f = d(rng);
      struct Variant {
        DType dtype;
        bool huge;
      };
      for (const Variant v : {Variant{DType::kF32, false}, Variant{DType::kF32, true},
                              Variant{DType::kBF16, true}}) {
        const bool bf16 = v.dtype == DType::kBF16;
        const size_t vbytes = bf16 ? bytes / 2 : bytes;
        std::vector<AlignedBuffer> bufs;  // [layers][k, v]
        std::vector<PagedKvView> caches(layers);
        for (int l = 0; l < layers; ++l) {
          for (int i = 0; i < 2; ++i) {
            bufs.push_back(v.huge ? AlignedBuffer::InHugePages(vbytes) : AlignedBuffer(vbytes));
            if (bf16) {
              ref::ConvertRowF32ToBf16(row.data(), bufs.back().as<uint16_t>(),
                                       static_cast<int64_t>(bytes / 4));
            } else {
              std::memcpy(bufs.back().data(), row.data(), bytes);
            }
          }
          PagedKvView& c = caches[l];
          c.block_size = block, c.num_kv_heads = kv_heads, c.head_dim = hd;
          c.num_blocks = blocks, c.k = bufs[2 * l].data(), c.v = bufs[2 * l + 1].data();
          c.dtype = v.dtype;
        }
        const double kv_bytes = double(layers) * vbytes * 2;
        double us = 0;
        auto run = [&] {
          const int64_t t0 = NowNs();
          for (int i = 0; i < 5; ++i) {
            for (const PagedKvView& c : caches) PagedAttention(ctx, c, a);
          }
          us = Seconds(NowNs() - t0) / (5 * layers) * 1e6;
          return 5 * kv_bytes / Seconds(NowNs() - t0) / 1e9;
        };
        run();
        std::vector<double> times;
        const Stats s = Measure(reps, [&] {
          const double gbs = run();
          times.push_back(us);
          return gbs;
        });
        std::sort(times.begin(), times.end());
        std::printf("decode paged attention %d x 1 token, kv 1024, %s cache, %s pages  %6.1f GB/s (%.1f-%.1f) of K+V = %5.1f%% of read bw, %.0f us per layer\n",
                    seqs, bf16 ? "bf16" : "f32 ", v.huge ? "2 MiB" : "4 KiB", s.median, s.min,
                    s.max, 100.0 * s.median / bw.median, times[times.size() / 2]);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace ocular::kernels

int main(int argc, char** argv) { return ocular::kernels::Main(argc, argv); }
