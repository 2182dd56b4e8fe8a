// Kernel bodies written once over a vector type V with kLanes f32 lanes and the primitives of
// vec_avx2.h / vec_avx512.h. Included by avx2_kernels.cc and avx512_kernels.cc inside their
// ISA namespace (after the matching vec_*.h), so each file compiles them with its own flags.
// No include guard on purpose: each ISA file includes it once.
//
// Accuracy (what the tests derive their tolerances from): sums and products in f32 (reordered
// relative to the references); Exp has a relative error of a few ulp on [-87.33, 88.37],
// returns 0 below and +inf above 88.72 (between 88.37 and 88.72 it saturates at e^88.37).

inline V Exp(V x) {
  const V hi = Set1(88.3762626647949f), lo = Set1(-87.3365447504f);
  V xc = Max(Min(x, hi), lo);
  V n = RoundNearest(Mul(xc, Set1(1.44269504088896341f)));
  V r = Fma(n, Set1(-0.693359375f), xc);
  r = Fma(n, Set1(2.12194440e-4f), r);
  V p = Set1(1.9875691500e-4f);
  p = Fma(p, r, Set1(1.3981999507e-3f));
  p = Fma(p, r, Set1(8.3334519073e-3f));
  p = Fma(p, r, Set1(4.1665795894e-2f));
  p = Fma(p, r, Set1(1.6666665459e-1f));
  p = Fma(p, r, Set1(5.0000001201e-1f));
  V y = Add(Fma(Mul(p, r), r, r), Set1(1.0f));
  y = Mul(y, Pow2(n));
  y = IfLess(x, lo, Zero(), y);
  return IfLess(Set1(88.7228391f), x, Set1(__builtin_inff()), y);
}

// ---- conversions ------------------------------------------------------------------------------
template <typename LoadFn>
void WidenRow(LoadFn load, const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(dst + i, load(src + i));
  if (i < n) {
    alignas(64) uint16_t t[kLanes] = {};
    for (int64_t j = i; j < n; ++j) t[j - i] = src[j];
    StoreN(dst + i, load(t), n - i);
  }
}

void ConvertF32ToBf16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) StoreBf16(dst + i, Load(src + i));
  if (i < n) {
    alignas(64) uint16_t t[kLanes];
    StoreBf16(t, LoadN(src + i, n - i));
    for (int64_t j = i; j < n; ++j) dst[j] = t[j - i];
  }
}

void ConvertF32ToF16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) StoreF16(dst + i, Load(src + i));
  if (i < n) {
    alignas(64) uint16_t t[kLanes];
    StoreF16(t, LoadN(src + i, n - i));
    for (int64_t j = i; j < n; ++j) dst[j] = t[j - i];
  }
}

void RoundToBf16(float* x, int64_t n) {
  alignas(64) uint16_t t[kLanes];
  for (int64_t i = 0; i < n; i += kLanes) {
    const int64_t c = n - i < kLanes ? n - i : kLanes;
    StoreBf16(t, c == kLanes ? Load(x + i) : LoadN(x + i, c));
    StoreN(x + i, LoadBf16(t), c);
  }
}

// f16 scale -> f32 with the F16C instruction (exact, like the reference F16ToF32).
inline float Half(uint16_t h) { return _cvtsh_ss(h); }

// Block decoders: 32 (q8_0, q4_0) values as 32 / kLanes vectors, already scaled.
constexpr int kBlockVecs = 32 / kLanes;

inline void DecodeQ8_0(const BlockQ8_0& b, V* out) {
  const V d = Set1(Half(b.d));
  Int8x16(b.qs, out);
  Int8x16(b.qs + 16, out + 16 / kLanes);
  for (int v = 0; v < kBlockVecs; ++v) out[v] = Mul(d, out[v]);
}

inline void DecodeQ4_0(const BlockQ4_0& b, V* out) {
  const V d = Set1(Half(b.d)), eight = Set1(8.0f);
  Nibbles16(b.qs, out, out + 16 / kLanes);
  for (int v = 0; v < kBlockVecs; ++v) out[v] = Mul(d, Sub(out[v], eight));
}

// Scales of a q4_k block, unpacked once: group g (0..3) uses (d1, m1) for its low nibbles
// and (d2, m2) for its high nibbles; values are d_s * q - m_s as in the reference.
struct Q4KScales {
  float d[8], m[8];
};
inline Q4KScales UnpackQ4K(const BlockQ4_K& b) {
  Q4KScales s;
  const float d = Half(b.d), dmin = Half(b.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    ocular::ref::Q4KScaleMin(j, b.scales, &sc, &m);
    s.d[j] = d * sc;
    s.m[j] = dmin * m;
  }
  return s;
}

// One 64-value group g (0..3) of a q4_k block: out[0 .. 64 / kLanes).
inline void DecodeQ4_KGroup(const BlockQ4_K& b, const Q4KScales& s, int g, V* out) {
  const V d1 = Set1(s.d[2 * g]), m1 = Set1(s.m[2 * g]);
  const V d2 = Set1(s.d[2 * g + 1]), m2 = Set1(s.m[2 * g + 1]);
  const uint8_t* q = b.qs + 32 * g;
  constexpr int h = 16 / kLanes;
  // values 0..31: low nibbles of q[0..32); 32..63: high nibbles.
  Nibbles16(q, out, out + 2 * h);
  Nibbles16(q + 16, out + h, out + 3 * h);
  for (int v = 0; v < 2 * h; ++v) out[v] = Sub(Mul(d1, out[v]), m1);
  for (int v = 2 * h; v < 4 * h; ++v) out[v] = Sub(Mul(d2, out[v]), m2);
}

// A q6_k block's 256 quants minus 32 as signed bytes in value order (the reference's order).
inline void UnpackQ6K(const BlockQ6_K& b, int8_t* q) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* o = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      o[l] = static_cast<int8_t>(((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
      o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

void DequantizeRow(DType dtype, const void* src, float* dst, int64_t n) {
  switch (dtype) {
    case DType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::kF16:
      WidenRow([](const uint16_t* p) { return LoadF16(p); }, static_cast<const uint16_t*>(src),
               dst, n);
      return;
    case DType::kBF16:
      WidenRow([](const uint16_t* p) { return LoadBf16(p); }, static_cast<const uint16_t*>(src),
               dst, n);
      return;
    case DType::kQ8_0: {
      const BlockQ8_0* b = static_cast<const BlockQ8_0*>(src);
      V out[kBlockVecs];
      for (int64_t i = 0; i < n / 32; ++i) {
        DecodeQ8_0(b[i], out);
        for (int v = 0; v < kBlockVecs; ++v) Store(dst + 32 * i + v * kLanes, out[v]);
      }
      return;
    }
    case DType::kQ4_0: {
      const BlockQ4_0* b = static_cast<const BlockQ4_0*>(src);
      V out[kBlockVecs];
      for (int64_t i = 0; i < n / 32; ++i) {
        DecodeQ4_0(b[i], out);
        for (int v = 0; v < kBlockVecs; ++v) Store(dst + 32 * i + v * kLanes, out[v]);
      }
      return;
    }
    case DType::kQ4_K: {
      const BlockQ4_K* b = static_cast<const BlockQ4_K*>(src);
      V out[64 / kLanes];
      for (int64_t i = 0; i < n / 256; ++i) {
        const Q4KScales sc = UnpackQ4K(b[i]);
        for (int g = 0; g < 4; ++g) {
          DecodeQ4_KGroup(b[i], sc, g, out);
          for (int v = 0; v < 64 / kLanes; ++v) Store(dst + 256 * i + 64 * g + v * kLanes, out[v]);
        }
      }
      return;
    }
    case DType::kQ6_K: {
      // (d * scale) * q per value, as the reference rounds it.
      const BlockQ6_K* b = static_cast<const BlockQ6_K*>(src);
      alignas(64) int8_t q[256];
      V out[16 / kLanes];
      for (int64_t i = 0; i < n / 256; ++i) {
        UnpackQ6K(b[i], q);
        const float d = Half(b[i].d);
        for (int s = 0; s < 16; ++s) {
          const V ds = Set1(d * b[i].scales[s]);
          Int8x16(q + 16 * s, out);
          for (int v = 0; v < 16 / kLanes; ++v) Store(dst + 256 * i + 16 * s + v * kLanes, Mul(ds, out[v]));
        }
      }
      return;
    }
    default: ocular::ref::DequantizeRow(dtype, src, dst, n); return;
  }
}

void DequantizeRowBf16(DType dtype, const void* src, uint16_t* dst, int64_t n) {
  if (dtype == DType::kBF16) {
    std::memcpy(dst, src, static_cast<size_t>(n) * 2);
    return;
  }
  if (dtype == DType::kQ8_0 || dtype == DType::kQ4_0) {
    // Straight from the decoded registers to bf16 (the same values and rounding as through
    // an f32 row, without the round trip through memory: prefill converts every weight).
    V out[kBlockVecs];
    for (int64_t i = 0; i < n / 32; ++i) {
      if (dtype == DType::kQ8_0) {
        DecodeQ8_0(static_cast<const BlockQ8_0*>(src)[i], out);
      } else {
        DecodeQ4_0(static_cast<const BlockQ4_0*>(src)[i], out);
      }
      for (int v = 0; v < kBlockVecs; ++v) StoreBf16(dst + 32 * i + v * kLanes, out[v]);
    }
    return;
  }
  const int64_t block = GetDTypeInfo(dtype).block_elems;
  const int64_t chunk = 256;  // a multiple of every block size we dequantize
  alignas(64) float t[chunk];
  const uint8_t* s = static_cast<const uint8_t*>(src);
  const int64_t chunk_bytes = chunk / block * GetDTypeInfo(dtype).block_bytes;
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t c = n - i < chunk ? n - i : chunk;
    DequantizeRow(dtype, s + (i / chunk) * chunk_bytes, t, c);
    ConvertF32ToBf16(t, dst + i, c);
  }
}

// ---- GEMV -------------------------------------------------------------------------------------
// acc[i][u] += w_vec * x_i[c .. c + kLanes) for i < M, into accumulator u.
template <int M>
inline void FmaRows(V w, const float* const* x, int64_t c, V (*acc)[2], int u) {
  for (int i = 0; i < M; ++i) acc[i][u] = Fma(w, Load(x[i] + c), acc[i][u]);
}

template <int M>
void GemvM(const float* x, int64_t x_stride, const WeightMatrix& w, int64_t row_begin,
           int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  const int64_t k = w.cols;
  const float* xr[M];
  for (int i = 0; i < M; ++i) xr[i] = x + i * x_stride;
  // Zero-padded copies of the x tails so the plain-dtype loops can use whole vectors.
  const int64_t k_main = k / kLanes * kLanes;
  alignas(64) float x_tail[M][kLanes] = {};
  for (int i = 0; i < M; ++i) {
    for (int64_t c = k_main; c < k; ++c) x_tail[i][c - k_main] = xr[i][c];
  }
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t stride = w.Stride();  // once: Row() works it out from the dtype on every call
  for (int64_t j = row_begin; j < row_end; ++j) {
    V acc[M][2];
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = Zero();
    const void* row = base + j * stride;
    switch (w.dtype) {
      case DType::kF32:
      case DType::kF16:
      case DType::kBF16: {
        auto load = [&](int64_t c) {
          if (w.dtype == DType::kF32) return Load(static_cast<const float*>(row) + c);
          if (w.dtype == DType::kF16) return LoadF16(static_cast<const uint16_t*>(row) + c);
          return LoadBf16(static_cast<const uint16_t*>(row) + c);
        };
        int64_t c = 0;
        for (; c + 2 * kLanes <= k_main; c += 2 * kLanes) {
          FmaRows<M>(load(c), xr, c, acc, 0);
          FmaRows<M>(load(c + kLanes), xr, c + kLanes, acc, 1);
        }
        for (; c < k_main; c += kLanes) FmaRows<M>(load(c), xr, c, acc, 0);
        if (k_main < k) {
          alignas(64) float wt[kLanes] = {};
          ocular::ref::DequantizeRow(
              w.dtype,
              static_cast<const uint8_t*>(row) + k_main * GetDTypeInfo(w.dtype).block_bytes,
              wt, k - k_main);
          const V wv = Load(wt);
          for (int i = 0; i < M; ++i) acc[i][1] = Fma(wv, Load(x_tail[i]), acc[i][1]);
        }
        break;
      }
      case DType::kQ8_0:
      case DType::kQ4_0: {
        V q[kBlockVecs];
        for (int64_t b = 0; b < k / 32; ++b) {
          if (w.dtype == DType::kQ8_0) {
            DecodeQ8_0(static_cast<const BlockQ8_0*>(row)[b], q);
          } else {
            DecodeQ4_0(static_cast<const BlockQ4_0*>(row)[b], q);
          }
          for (int v = 0; v < kBlockVecs; ++v) FmaRows<M>(q[v], xr, 32 * b + v * kLanes, acc, v & 1);
        }
        break;
      }
      case DType::kQ4_K: {
        V q[64 / kLanes];
        const BlockQ4_K* blocks = static_cast<const BlockQ4_K*>(row);
        for (int64_t b = 0; b < k / 256; ++b) {
          const Q4KScales sc = UnpackQ4K(blocks[b]);
          for (int g = 0; g < 4; ++g) {
            DecodeQ4_KGroup(blocks[b], sc, g, q);
            for (int v = 0; v < 64 / kLanes; ++v) {
              FmaRows<M>(q[v], xr, 256 * b + 64 * g + v * kLanes, acc, v & 1);
            }
          }
        }
        break;
      }
      default: {  // q6_k: dequantize 256 values at a time (the same values), then FMA
        alignas(64) float t[256];
        const int64_t bb = GetDTypeInfo(w.dtype).block_bytes;
        const int64_t be = GetDTypeInfo(w.dtype).block_elems;
        for (int64_t c = 0; c < k; c += 256) {
          const int64_t cn = k - c < 256 ? k - c : 256;
          DequantizeRow(w.dtype, static_cast<const uint8_t*>(row) + c / be * bb, t, cn);
          for (int64_t v = 0; v < cn; v += kLanes) {
            FmaRows<M>(Load(t + v), xr, c + v, acc, 0);
          }
        }
        break;
      }
    }
    for (int i = 0; i < M; ++i) {
      y[i * y_stride + j] = ReduceSum(Add(acc[i][0], acc[i][1])) + (bias ? bias[j] : 0.0f);
    }
  }
}

void Gemv(const float* x, int64_t x_stride, int64_t m, const WeightMatrix& w, int64_t row_begin,
          int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  WithGemvRows(m, [&](auto rows) {
    GemvM<decltype(rows)::value>(x, x_stride, w, row_begin, row_end, bias, y, y_stride);
  });
}

// ---- GEMV on q8_0-quantized activations (Precision::kInt8) -------------------------------
// 32 int8 weights of a block in one 256-bit register.
inline __m256i WeightBytes(const WeightMatrix& w, const void* row, int64_t b, float* d) {
  if (w.dtype == DType::kQ8_0) {
    const BlockQ8_0& blk = static_cast<const BlockQ8_0*>(row)[b];
    *d = Half(blk.d);
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs));
  }
  const BlockQ4_0& blk = static_cast<const BlockQ4_0*>(row)[b];
  *d = Half(blk.d);
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs));
  const __m128i m = _mm_set1_epi8(0x0f);
  const __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
  return _mm256_sub_epi8(nib, _mm256_set1_epi8(8));
}

template <int M>
void GemvQ8M(const BlockQ8_0* xq, int64_t xq_stride, const WeightMatrix& w, int64_t row_begin,
             int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 32;
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t stride = w.Stride();
  for (int64_t j = row_begin; j < row_end; ++j) {
    const void* row = base + j * stride;
    __m256 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      float dw;
      const __m256i wq = WeightBytes(w, row, b, &dw);
      for (int i = 0; i < M; ++i) {
        const BlockQ8_0& xb = xq[i * xq_stride + b];
        const __m256i dot =
            DotI8(wq, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs)));
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * Half(xb.d)), acc[i]);
      }
    }
    for (int i = 0; i < M; ++i) {
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
      s = _mm_add_ps(s, _mm_movehl_ps(s, s));
      s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
      y[i * y_stride + j] = _mm_cvtss_f32(s) + (bias ? bias[j] : 0.0f);
    }
  }
}

#ifdef __AVX512BW__
// The same products two weight blocks at a time on 512-bit VNNI (the AVX-512 table only).
// The activations are first laid out for this loop, once per call: int8 values of block pairs
// in the lane order the weights arrive in, their f32 scales, and (q4_0) 8 x the sum of each
// 4-byte group, so the unsigned nibbles can go straight into vpdpbusd and the -8 offset is
// one integer subtraction. Products and sums are exact integers per block, as in GemvQ8M.
struct Q8Activations {
  std::vector<int8_t> qs;     // [pairs, m, 64] int8: pair p of every row, side by side
  std::vector<float> sx;      // [pairs, m, 16] f32: each lane's block scale (A or B)
  std::vector<int32_t> corr;  // [pairs, m, 16] int32 (q4_0 only)
};

void PrepareQ8Activations(const BlockQ8_0* xq, int64_t xq_stride, int64_t m, int64_t nb,
                          bool q4, Q8Activations* a) {
  const int64_t pairs = nb / 2;
  a->qs.resize(static_cast<size_t>(pairs * m * 64));
  a->sx.resize(static_cast<size_t>(pairs * m * 16));
  if (q4) a->corr.resize(static_cast<size_t>(pairs * m * 16));
  for (int64_t p = 0; p < pairs; ++p) {
    for (int64_t i = 0; i < m; ++i) {
      const BlockQ8_0* x = xq + i * xq_stride;
      const int64_t slot = p * m + i;
      int8_t* dst = a->qs.data() + slot * 64;
      float* sx = a->sx.data() + slot * 16;
      const float da = Half(x[2 * p].d), db = Half(x[2 * p + 1].d);
      // Lane l (int32 group of 4 bytes) holds block B's values from lane 8 on (q8_0), or in
      // lanes 4-7 and 12-15 (q4_0's nibble order), as the weights' lanes do.
      for (int l = 0; l < 16; ++l) sx[l] = (q4 ? l % 8 >= 4 : l >= 8) ? db : da;
      const int8_t* xa = x[2 * p].qs;
      const int8_t* xb = x[2 * p + 1].qs;
      if (!q4) {
        std::memcpy(dst, xa, 32);
        std::memcpy(dst + 32, xb, 32);
        continue;
      }
      // q4_0 weights of a pair arrive as [lo nibbles A, lo B, hi A, hi B] (16 bytes each):
      // values 0-15 of A, 0-15 of B, 16-31 of A, 16-31 of B.
      std::memcpy(dst, xa, 16);
      std::memcpy(dst + 16, xb, 16);
      std::memcpy(dst + 32, xa + 16, 16);
      std::memcpy(dst + 48, xb + 16, 16);
      int32_t* c = a->corr.data() + slot * 16;
      for (int l = 0; l < 16; ++l) {
        c[l] = 8 * (int32_t{dst[4 * l]} + dst[4 * l + 1] + dst[4 * l + 2] + dst[4 * l + 3]);
      }
    }
  }
}

// One template per weight type so the inner loop carries no type test; the activations are
// laid out once per call in a per-thread buffer (no allocation once it has grown).
template <int M, bool kQ4>
void GemvQ8M512T(const BlockQ8_0* xq, int64_t xq_stride, const WeightMatrix& w,
                 int64_t row_begin, int64_t row_end, const float* bias, float* y,
                 int64_t y_stride) {
  const int64_t nb = w.cols / 32, pairs = nb / 2;
  thread_local Q8Activations a;
  PrepareQ8Activations(xq, xq_stride, M, nb, kQ4, &a);
  // Lanes (int32 groups of 4 bytes) belonging to block B of a pair.
  constexpr __mmask16 kLanesB = kQ4 ? 0xF0F0 : 0xFF00;
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m512i zero = _mm512_setzero_si512();
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t stride = w.Stride();
  for (int64_t j = row_begin; j < row_end; ++j) {
    const void* row = base + j * stride;
    __m512 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
    const int8_t* xs = a.qs.data();
    const float* sxs = a.sx.data();
    const int32_t* cs = kQ4 ? a.corr.data() : nullptr;
    for (int64_t p = 0; p < pairs; ++p) {
      __m512i wv;
      float da, db;
      if constexpr (kQ4) {
        const BlockQ4_0* blk = static_cast<const BlockQ4_0*>(row) + 2 * p;
        da = Half(blk[0].d);
        db = Half(blk[1].d);
        const __m256i q = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[0].qs))),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[1].qs)), 1);
        wv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, nibble)),
                                _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble), 1);
      } else {
        const BlockQ8_0* blk = static_cast<const BlockQ8_0*>(row) + 2 * p;
        da = Half(blk[0].d);
        db = Half(blk[1].d);
        wv = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[0].qs))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[1].qs)), 1);
      }
      // vpdpbusd takes unsigned x signed bytes: q4_0 nibbles are already unsigned; for q8_0
      // the weights' signs move onto the activations.
      const __mmask64 neg = kQ4 ? 0 : _mm512_movepi8_mask(wv);
      const __m512i wu = kQ4 ? wv : _mm512_abs_epi8(wv);
      const __m512 sw = _mm512_mask_blend_ps(kLanesB, _mm512_set1_ps(da), _mm512_set1_ps(db));
      for (int i = 0; i < M; ++i) {
        __m512i xv = _mm512_loadu_si512(xs + i * 64);
        if constexpr (!kQ4) xv = _mm512_mask_sub_epi8(xv, neg, zero, xv);
        __m512i dot = _mm512_dpbusd_epi32(zero, wu, xv);
        if constexpr (kQ4) dot = _mm512_sub_epi32(dot, _mm512_loadu_si512(cs + i * 16));
        const __m512 sx = _mm512_loadu_ps(sxs + i * 16);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(sw, sx), acc[i]);
      }
      xs += M * 64;
      sxs += M * 16;
      if constexpr (kQ4) cs += M * 16;
    }
    for (int i = 0; i < M; ++i) {
      float s = _mm512_reduce_add_ps(acc[i]);
      if (nb % 2 != 0) {  // the odd last block, as in GemvQ8M
        float dw;
        const __m256i wq = WeightBytes(w, row, nb - 1, &dw);
        const BlockQ8_0& xb = xq[i * xq_stride + nb - 1];
        const __m256i dot =
            DotI8(wq, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs)));
        __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * Half(xb.d)));
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
        r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        r = _mm_add_ss(r, _mm_shuffle_ps(r, r, 1));
        s += _mm_cvtss_f32(r);
      }
      y[i * y_stride + j] = s + (bias ? bias[j] : 0.0f);
    }
  }
}

template <int M>
void GemvQ8M512(const BlockQ8_0* xq, int64_t xq_stride, const WeightMatrix& w,
                int64_t row_begin, int64_t row_end, const float* bias, float* y,
                int64_t y_stride) {
  if (w.dtype == DType::kQ4_0) {
    GemvQ8M512T<M, true>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
  } else {
    GemvQ8M512T<M, false>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
  }
}
#define OCULAR_GEMVQ8M GemvQ8M512

// The int8 GEMV over WeightLayout::kGemvPacked weights (kernels.h): each 64-byte load holds
// one 4-value word of 16 rows, so a vpdpbusd against the broadcast activation word advances
// 16 rows, and the per-block scale work (convert, scale product, fma) is one vector op per
// 16 rows instead of per row. Unsigned weights (q4_0 nibbles, q8_0 values + 128) go straight
// into vpdpbusd; the offset comes off as offset x (sum of the block's activations), the
// integer accumulators starting from that term (xoff, precomputed per activation block and
// broadcast from memory: no per-block subtraction). Integer block dots are exact; each row's
// f32 terms are summed in block order.
template <int M, bool kQ4>
void GemvPackedM(const BlockQ8_0* xq, const float* xd, const int32_t* xoff, int64_t xq_stride,
                 const WeightMatrix& w, int64_t group_begin, int64_t group_end, const float* bias,
                 float* y, int64_t y_stride) {
  constexpr int kWords = kQ4 ? 4 : 8;
  // Two integer accumulators per activation row while registers allow: shorter chains.
  constexpr bool kSplit = M <= 4;
  // Software prefetch in the one stream of the group, 8 KiB ahead into L2, for more than one
  // activation row; none for one. Measured from DRAM with every variant interleaved pass by
  // pass in one process (the host's bandwidth flips between ~34 and ~62 GB/s within
  // seconds, so separate runs cannot compare them; docs/performance.md): q8_0 m = 1 read
  // 33-35 GB/s without prefetch against 27-29 with 4 KiB into L1, and 52 against 36 in the
  // fast periods (the L1's few miss buffers held by prefetches cap a core below what its L2
  // prefetcher streams); q4_0 m = 1 the same or better without; at m = 4 no prefetch is the
  // slowest (q4_0 18-22 GB/s) and 8 KiB into L2 the fastest (q8_0 31-43, q4_0 26-35 against
  // 27-32 and 25-32 for 4 KiB into L1).
  constexpr int kPrefetch = M == 1 ? 0 : 8192;
  const int64_t nb = w.cols / 32;
  const int64_t gbytes = GemvGroupBytes(w.dtype, w.cols);
  // One activation row against groups of 32 KiB or more (q4_0 with 6,144 columns, q8_0
  // with 2,048 or more): the group streamed between two uses of an activation line pushes
  // the activation out of the L1, and its reloads then hold the miss buffers the weight
  // stream needs. Prefetching it into L1 a few blocks ahead: in the fast bandwidth level,
  // variants alternated pass by pass ([R x C] over 400 MB of copies), q4_0 [2048 x 6144]
  // 46.4 against 39.6 GB/s, q8_0 [2048 x 6144] 45.3 / 40.4, [6144 x 2048] 45.8 / 42.4,
  // [2048 x 2048] 42.8 / 39.9; the slow level +1-4%. Groups under 32 KiB (q4_0 with 2,048
  // columns: 18 KiB) keep the activation and lost 1-3% with it. Whole decode steps
  // alternated step by step: q4_0 ahead in 6 of 8 runs (+1-4% in the fast level), q8_0 in 8
  // of 8 (+1-9%).
  const bool prefetch_x = M == 1 && gbytes >= kActivationPrefetchGroupBytes;
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (int64_t g = group_begin; g < group_end; ++g) {
    const uint8_t* group = static_cast<const uint8_t*>(w.data) + g * gbytes;
    __m512 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      // Block pair b / 2: its scale line, then the two blocks' quants.
      const uint8_t* pair = group + (b / 2) * (64 + 2 * kWords * 64);
      const uint8_t* qb = pair + 64 + (b % 2) * kWords * 64;
      const uint16_t* scales = reinterpret_cast<const uint16_t*>(pair + (b % 2) * 32);
      if (prefetch_x) {
        _mm_prefetch(reinterpret_cast<const char*>(xq + b + 4), _MM_HINT_T0);
        if (b % 16 == 0) {
          _mm_prefetch(reinterpret_cast<const char*>(xd + b + 32), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(xoff + b + 32), _MM_HINT_T0);
        }
      }
      if constexpr (kPrefetch > 0) {
        for (int t = 0; t < kWords; ++t) {
          _mm_prefetch(reinterpret_cast<const char*>(qb + kPrefetch + t * 64), _MM_HINT_T1);
        }
        if (b % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(pair + kPrefetch), _MM_HINT_T1);
      }
      __m512i s0[M], s1[M];
      for (int i = 0; i < M; ++i) {
        s0[i] = _mm512_set1_epi32(xoff[i * xq_stride + b]);
        if constexpr (kSplit) s1[i] = _mm512_setzero_si512();
      }
      auto word = [&](int i, int byte) { return xq[i * xq_stride + b].qs + byte; };
      if constexpr (kQ4) {
        for (int t = 0; t < 4; ++t) {
          const __m512i q = _mm512_load_si512(qb + t * 64);
          const __m512i lo = _mm512_and_si512(q, low4);
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
          for (int i = 0; i < M; ++i) {
            s0[i] = DpbusdBroadcast(s0[i], lo, word(i, 4 * t));
            if constexpr (kSplit) {
              s1[i] = DpbusdBroadcast(s1[i], hi, word(i, 16 + 4 * t));
            } else {
              s0[i] = DpbusdBroadcast(s0[i], hi, word(i, 16 + 4 * t));
            }
          }
        }
      } else {
        for (int t = 0; t < 8; ++t) {
          const __m512i q = _mm512_load_si512(qb + t * 64);
          for (int i = 0; i < M; ++i) {
            if (kSplit && t % 2 == 1) {
              s1[i] = DpbusdBroadcast(s1[i], q, word(i, 4 * t));
            } else {
              s0[i] = DpbusdBroadcast(s0[i], q, word(i, 4 * t));
            }
          }
        }
      }
      const __m512 wd =
          _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales)));
      for (int i = 0; i < M; ++i) {
        const __m512i s = kSplit ? _mm512_add_epi32(s0[i], s1[i]) : s0[i];
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                                 _mm512_mul_ps(wd, _mm512_set1_ps(xd[i * xq_stride + b])), acc[i]);
      }
    }
    StoreRowGroup<M>(acc, bias, g * 16, w.rows, y, y_stride);
  }
}

void GemvQ8Packed(const BlockQ8_0* xq, const float* xd, const int32_t* xoff, int64_t xq_stride,
                  int64_t m, const WeightMatrix& w, int64_t group_begin, int64_t group_end,
                  const float* bias, float* y, int64_t y_stride) {
  CHECK(w.packed());
  WithGemvRows(m, [&](auto rows) {
    constexpr int M = decltype(rows)::value;
    if (w.dtype == DType::kQ4_0) {
      GemvPackedM<M, true>(xq, xd, xoff, xq_stride, w, group_begin, group_end, bias, y, y_stride);
    } else {
      GemvPackedM<M, false>(xq, xd, xoff, xq_stride, w, group_begin, group_end, bias, y, y_stride);
    }
  });
}
#define OCULAR_GEMV_PACKED GemvQ8Packed

// Activations to q8_0 blocks, bit for bit ocular::ref::QuantizeRowQ8_0 (finite inputs):
// d = amax / 127 (f16), q = lround(x / d) (round half away from zero, avx512::RoundHalfAway),
// on 16 lanes at a time.
void QuantizeRowQ8(const float* x, BlockQ8_0* y, int64_t n) {
  CHECK_EQ(n % 32, 0);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m512 v[2] = {_mm512_loadu_ps(x + 32 * b), _mm512_loadu_ps(x + 32 * b + 16)};
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_and_ps(v[0], abs_mask), _mm512_and_ps(v[1], abs_mask)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    const __m512 vid = _mm512_set1_ps(id);
    for (int h = 0; h < 2; ++h) {
      const __m512i q = avx512::RoundHalfAway(_mm512_mul_ps(v[h], vid));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * h), _mm512_cvtepi32_epi8(q));
    }
  }
}
// q4_k / q6_k int8 GEMV: its own file (gemv_kquant_avx512.cc).
#define OCULAR_GEMV_Q8K ::ocular::kernels::cpu::GemvQ8KAvx512
#define OCULAR_QUANTIZE_Q8K ::ocular::kernels::cpu::QuantizeRowQ8KAvx512
#define OCULAR_GEMV_Q8K_PACKED ::ocular::kernels::cpu::GemvQ8KPackedAvx512
// bf16 GEMV on pair-split activations: its own file (gemv_bf16_avx512.cc).
#define OCULAR_GEMV_BF16_SPLIT ::ocular::kernels::cpu::GemvBf16SplitAvx512
#else
#define OCULAR_GEMV_BF16_SPLIT nullptr
#define OCULAR_GEMVQ8M GemvQ8M
#define OCULAR_GEMV_PACKED nullptr
#define OCULAR_GEMV_Q8K ::ocular::kernels::ref::GemvQ8K
#define OCULAR_GEMV_Q8K_PACKED nullptr
#define OCULAR_QUANTIZE_Q8K ::ocular::ref::QuantizeRowQ8_K
void QuantizeRowQ8(const float* x, BlockQ8_0* y, int64_t n) { ocular::ref::QuantizeRowQ8_0(x, y, n); }
#endif

void GemvQ8(const BlockQ8_0* xq, int64_t xq_stride, int64_t m, const WeightMatrix& w,
            int64_t row_begin, int64_t row_end, const float* bias, float* y, int64_t y_stride) {
  WithGemvRows(m, [&](auto rows) {
    OCULAR_GEMVQ8M<decltype(rows)::value>(xq, xq_stride, w, row_begin, row_end, bias, y, y_stride);
  });
}
#undef OCULAR_GEMVQ8M

// ---- reductions and element-wise ----------------------------------------------------------
// KV cache rows as stored: f32, or bf16 / f16 widened in registers (exactly, so a half row
// gives the bits its f32 widening would).
struct RowF32 {
  using T = float;
  static V Get(const float* p) { return Load(p); }
  static V GetN(const float* p, int64_t n) { return LoadN(p, n); }
};
struct RowBf16 {
  using T = uint16_t;
  static V Get(const uint16_t* p) { return LoadBf16(p); }
  static V GetN(const uint16_t* p, int64_t n) { return LoadNBf16(p, n); }
};
struct RowF16 {
  using T = uint16_t;
  static V Get(const uint16_t* p) { return LoadF16(p); }
  static V GetN(const uint16_t* p, int64_t n) { return LoadNF16(p, n); }
};

template <typename R>
float DotT(const float* a, const typename R::T* b, int64_t n) {
  V s0 = Zero(), s1 = Zero();
  int64_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    s0 = Fma(Load(a + i), R::Get(b + i), s0);
    s1 = Fma(Load(a + i + kLanes), R::Get(b + i + kLanes), s1);
  }
  for (; i + kLanes <= n; i += kLanes) s0 = Fma(Load(a + i), R::Get(b + i), s0);
  if (i < n) s1 = Fma(LoadN(a + i, n - i), R::GetN(b + i, n - i), s1);
  return ReduceSum(Add(s0, s1));
}

float Dot(const float* a, const float* b, int64_t n) { return DotT<RowF32>(a, b, n); }

float SumSquares(const float* a, int64_t n) { return Dot(a, a, n); }

// out[j] = Dot(q, keys[j], n) bit for bit, four keys at a time: the same operations per key,
// but four independent pairs of FMA chains instead of one latency-bound pair.
template <typename R>
void DotKeysT(const float* q, const typename R::T* const* keys, int count, int64_t n, float* out) {
  using T = typename R::T;
  int j = 0;
  for (; j + 4 <= count; j += 4) {
    const T* k[4] = {keys[j], keys[j + 1], keys[j + 2], keys[j + 3]};
    V s0[4] = {Zero(), Zero(), Zero(), Zero()}, s1[4] = {Zero(), Zero(), Zero(), Zero()};
    int64_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      const V a0 = Load(q + i), a1 = Load(q + i + kLanes);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        s0[t] = Fma(a0, R::Get(k[t] + i), s0[t]);
        s1[t] = Fma(a1, R::Get(k[t] + i + kLanes), s1[t]);
      }
    }
    for (; i + kLanes <= n; i += kLanes) {
      const V a0 = Load(q + i);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) s0[t] = Fma(a0, R::Get(k[t] + i), s0[t]);
    }
    if (i < n) {
      const V a = LoadN(q + i, n - i);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) s1[t] = Fma(a, R::GetN(k[t] + i, n - i), s1[t]);
    }
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) out[j + t] = ReduceSum(Add(s0[t], s1[t]));
  }
  for (; j < count; ++j) out[j] = DotT<R>(q, keys[j], n);
}

void DotKeys(const float* q, const float* const* keys, int count, int64_t n, float* out) {
  DotKeysT<RowF32>(q, keys, count, n, out);
}

float Sum(const float* a, int64_t n) {
  V s0 = Zero(), s1 = Zero();
  int64_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    s0 = Add(Load(a + i), s0);
    s1 = Add(Load(a + i + kLanes), s1);
  }
  for (; i + kLanes <= n; i += kLanes) s0 = Add(Load(a + i), s0);
  if (i < n) s1 = Add(LoadN(a + i, n - i), s1);
  return ReduceSum(Add(s0, s1));
}

// Applies f(V) -> V elementwise from src to dst (may alias).
template <typename F>
inline void Map(const float* src, float* dst, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(dst + i, f(Load(src + i), i));
  if (i < n) StoreN(dst + i, f(LoadN(src + i, n - i), i), n - i);
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  const V av = Set1(a);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(y + i, Fma(av, Load(x + i), Load(y + i)));
  if (i < n) StoreN(y + i, Fma(av, LoadN(x + i, n - i), LoadN(y + i, n - i)), n - i);
}

void AddInPlace(float* y, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(y + i, Add(Load(y + i), Load(x + i)));
  if (i < n) StoreN(y + i, Add(LoadN(y + i, n - i), LoadN(x + i, n - i)), n - i);
}

void Scale(float* x, float s, int64_t n) {
  const V sv = Set1(s);
  Map(x, x, n, [&](V v, int64_t) { return Mul(v, sv); });
}

void RmsNorm(const float* x, const float* weight, float eps, float* y, int64_t rows,
             int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    const float ss = SumSquares(xr, dim);
    const V inv = Set1(1.0f / std::sqrt(ss / static_cast<float>(dim) + eps));
    int64_t i = 0;
    for (; i + kLanes <= dim; i += kLanes) {
      V v = Mul(Load(xr + i), inv);
      if (weight) v = Mul(v, Load(weight + i));
      Store(yr + i, v);
    }
    if (i < dim) {
      V v = Mul(LoadN(xr + i, dim - i), inv);
      if (weight) v = Mul(v, LoadN(weight + i, dim - i));
      StoreN(yr + i, v, dim - i);
    }
  }
}

void LayerNorm(const float* x, const float* weight, const float* bias, float eps, float* y,
               int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    const float mean = Sum(xr, dim) / static_cast<float>(dim);
    const V mv = Set1(mean);
    V s0 = Zero();
    int64_t i = 0;
    for (; i + kLanes <= dim; i += kLanes) {
      V d = Sub(Load(xr + i), mv);
      s0 = Fma(d, d, s0);
    }
    float var = ReduceSum(s0);
    for (; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    const V inv = Set1(1.0f / std::sqrt(var / static_cast<float>(dim) + eps));
    i = 0;
    for (; i < dim; i += kLanes) {
      const int64_t c = dim - i < kLanes ? dim - i : kLanes;
      V v = Mul(Sub(c == kLanes ? Load(xr + i) : LoadN(xr + i, c), mv), inv);
      if (weight) v = Mul(v, c == kLanes ? Load(weight + i) : LoadN(weight + i, c));
      if (bias) v = Add(v, c == kLanes ? Load(bias + i) : LoadN(bias + i, c));
      StoreN(yr + i, v, c);
    }
  }
}

float ExpShiftSum(float* x, float shift, int64_t n) {
  const V sv = Set1(shift);
  V s = Zero();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V e = Exp(Sub(Load(x + i), sv));
    Store(x + i, e);
    s = Add(s, e);
  }
  float total = ReduceSum(s);
  if (i < n) {
    V e = Exp(Sub(LoadN(x + i, n - i), sv));
    alignas(64) float t[kLanes];
    Store(t, e);
    for (int64_t j = i; j < n; ++j) {
      x[j] = t[j - i];
      total += t[j - i];
    }
  }
  return total;
}

void Softmax(float* x, int64_t n) {
  V m = Set1(-__builtin_inff());
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) m = Max(m, Load(x + i));
  float mx = ReduceMax(m);
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const float sum = ExpShiftSum(x, mx, n);
  Scale(x, 1.0f / sum, n);
}

void SwiGlu(const float* gate, const float* up, float* out, int64_t n) {
  const V one = Set1(1.0f);
  int64_t i = 0;
  auto f = [&](V g, V u) { return Mul(Div(g, Add(one, Exp(Sub(Zero(), g)))), u); };
  for (; i + kLanes <= n; i += kLanes) Store(out + i, f(Load(gate + i), Load(up + i)));
  if (i < n) StoreN(out + i, f(LoadN(gate + i, n - i), LoadN(up + i, n - i)), n - i);
}

void GeluTanh(float* x, int64_t n) {
  // 0.5 x (1 + tanh(u)) == x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
  const V one = Set1(1.0f), c = Set1(-2.0f * 0.7978845608028654f), k = Set1(0.044715f);
  Map(x, x, n, [&](V v, int64_t) {
    V u = Mul(c, Fma(Mul(k, v), Mul(v, v), v));
    return Div(v, Add(one, Exp(u)));
  });
}

void GeluErf(float* x, int64_t n) {
  // 0.5 x erfc(-x / sqrt 2), with erfc(z) for z >= 0 from the Chebyshev fit in Numerical
  // Recipes (fractional error < 1.2e-7) and erfc(-z) = 2 - erfc(z).
  const V half = Set1(0.5f), one = Set1(1.0f);
  Map(x, x, n, [&](V v, int64_t) {
    V z = Mul(Abs(v), Set1(0.7071067811865476f));
    V t = Div(one, Fma(half, z, one));
    V p = Set1(0.17087277f);
    p = Fma(p, t, Set1(-0.82215223f));
    p = Fma(p, t, Set1(1.48851587f));
    p = Fma(p, t, Set1(-1.13520398f));
    p = Fma(p, t, Set1(0.27886807f));
    p = Fma(p, t, Set1(-0.18628806f));
    p = Fma(p, t, Set1(0.09678418f));
    p = Fma(p, t, Set1(0.37409196f));
    p = Fma(p, t, Set1(1.00002368f));
    p = Fma(p, t, Set1(-1.26551223f));
    V erfc = Mul(t, Exp(Sub(p, Mul(z, z))));
    V half_erfc = Mul(half, erfc);
    V phi = IfLess(v, Zero(), half_erfc, Sub(one, half_erfc));
    return Mul(v, phi);
  });
}

void RopeNeox(float* x, int64_t tokens, int heads, int head_dim, int64_t token_stride,
              const float* cos, const float* sin, int rot_dim) {
  const int half = rot_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int h = 0; h < heads; ++h) {
      float* a = x + t * token_stride + static_cast<int64_t>(h) * head_dim;
      float* b = a + half;
      int d = 0;
      for (; d + kLanes <= half; d += kLanes) {
        V av = Load(a + d), bv = Load(b + d), cv = Load(c + d), sv = Load(s + d);
        Store(a + d, Sub(Mul(av, cv), Mul(bv, sv)));
        Store(b + d, Add(Mul(bv, cv), Mul(av, sv)));
      }
      for (; d < half; ++d) {
        const float av = a[d], bv = b[d];
        a[d] = av * c[d] - bv * s[d];
        b[d] = bv * c[d] + av * s[d];
      }
    }
  }
}

void QkScores(const float* q, const float* kt, int64_t ld, int head_dim, int count, float scale,
              float* scores) {
  // Keys across lanes, head_dim as the reduction loop: no horizontal sums.
  constexpr int kVecs = 4;
  int j = 0;
  for (; j + kVecs * kLanes <= count; j += kVecs * kLanes) {
    V acc[kVecs];
    for (int v = 0; v < kVecs; ++v) acc[v] = Zero();
    for (int d = 0; d < head_dim; ++d) {
      const V qd = Set1(q[d]);
      const float* row = kt + d * ld + j;
      for (int v = 0; v < kVecs; ++v) acc[v] = Fma(qd, Load(row + v * kLanes), acc[v]);
    }
    for (int v = 0; v < kVecs; ++v) Store(scores + j + v * kLanes, Mul(acc[v], Set1(scale)));
  }
  for (; j < count; j += kLanes) {
    const int c = count - j < kLanes ? count - j : kLanes;
    V acc = Zero();
    for (int d = 0; d < head_dim; ++d) {
      acc = Fma(Set1(q[d]), c == kLanes ? Load(kt + d * ld + j) : LoadN(kt + d * ld + j, c), acc);
    }
    StoreN(scores + j, Mul(acc, Set1(scale)), c);
  }
}

// F full vectors (+ one partial of `tail` lanes) of acc held in registers across all keys.
template <int F, typename R>
void PvChunk(const float* p, const typename R::T* const* v_rows, int count, int d0, int tail,
             V cv, float* acc) {
  V a[F + 1];
#pragma GCC unroll 16
  for (int v = 0; v < F; ++v) a[v] = Mul(Load(acc + d0 + v * kLanes), cv);
  a[F] = tail ? Mul(LoadN(acc + d0 + F * kLanes, tail), cv) : Zero();
  for (int j = 0; j < count; ++j) {
    const V pj = Set1(p[j]);
    const typename R::T* vr = v_rows[j] + d0;
#pragma GCC unroll 16
    for (int v = 0; v < F; ++v) a[v] = Fma(pj, R::Get(vr + v * kLanes), a[v]);
    if (tail) a[F] = Fma(pj, R::GetN(vr + F * kLanes, tail), a[F]);
  }
#pragma GCC unroll 16
  for (int v = 0; v < F; ++v) Store(acc + d0 + v * kLanes, a[v]);
  if (tail) StoreN(acc + d0 + F * kLanes, a[F], tail);
}

template <typename R>
void PvAccumulateT(const float* p, const typename R::T* const* v_rows, int count, int head_dim,
                   float c, float* acc) {
  // head_dim in chunks of up to 8 vectors.
  constexpr int kVecs = 8;
  const V cv = Set1(c);
  for (int d0 = 0; d0 < head_dim; d0 += kVecs * kLanes) {
    const int width = head_dim - d0 < kVecs * kLanes ? head_dim - d0 : kVecs * kLanes;
    const int full = width / kLanes, tail = width % kLanes;
    switch (full) {
      case 0: PvChunk<0, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 1: PvChunk<1, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 2: PvChunk<2, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 3: PvChunk<3, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 4: PvChunk<4, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 5: PvChunk<5, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 6: PvChunk<6, R>(p, v_rows, count, d0, tail, cv, acc); break;
      case 7: PvChunk<7, R>(p, v_rows, count, d0, tail, cv, acc); break;
      default: PvChunk<8, R>(p, v_rows, count, d0, tail, cv, acc); break;
    }
  }
}

void PvAccumulate(const float* p, const float* const* v_rows, int count, int head_dim, float c,
                  float* acc) {
  PvAccumulateT<RowF32>(p, v_rows, count, head_dim, c, acc);
}

// The half-precision cache's rows read in place (CpuKernels::dot_keys_half / pv_accumulate_half).
void DotKeysHalf(DType dtype, const float* q, const void* const* keys, int count, int64_t n,
                 float* out) {
  const auto* k = reinterpret_cast<const uint16_t* const*>(keys);
  if (dtype == DType::kBF16) {
    DotKeysT<RowBf16>(q, k, count, n, out);
  } else {
    CHECK(dtype == DType::kF16);
    DotKeysT<RowF16>(q, k, count, n, out);
  }
}

void PvAccumulateHalf(DType dtype, const float* p, const void* const* v_rows, int count,
                      int head_dim, float c, float* acc) {
  const auto* v = reinterpret_cast<const uint16_t* const*>(v_rows);
  if (dtype == DType::kBF16) {
    PvAccumulateT<RowBf16>(p, v, count, head_dim, c, acc);
  } else {
    CHECK(dtype == DType::kF16);
    PvAccumulateT<RowF16>(p, v, count, head_dim, c, acc);
  }
}

// ---- Decode attention slot by slot (CpuKernels::dot_slot / pv_slot) -------------------------
// Each kv head's key row read once for its G query rows, with DotT's arithmetic per row.
template <typename R, int G>
void DotSlotT(const float* q, int kv_heads, int64_t n, const typename R::T* slot, float* out,
              int64_t out_stride) {
  for (int h = 0; h < kv_heads; ++h) {
    const typename R::T* k = slot + h * n;
    const float* qh = q + static_cast<int64_t>(h) * G * n;
    V s0[G], s1[G];
    for (int g = 0; g < G; ++g) s0[g] = s1[g] = Zero();
    int64_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      const V w0 = R::Get(k + i), w1 = R::Get(k + i + kLanes);
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        s0[g] = Fma(Load(qh + g * n + i), w0, s0[g]);
        s1[g] = Fma(Load(qh + g * n + i + kLanes), w1, s1[g]);
      }
    }
    for (; i + kLanes <= n; i += kLanes) {
      const V w0 = R::Get(k + i);
      for (int g = 0; g < G; ++g) s0[g] = Fma(Load(qh + g * n + i), w0, s0[g]);
    }
    if (i < n) {
      const V w = R::GetN(k + i, n - i);
      for (int g = 0; g < G; ++g) s1[g] = Fma(LoadN(qh + g * n + i, n - i), w, s1[g]);
    }
    for (int g = 0; g < G; ++g) out[(h * G + g) * out_stride] = ReduceSum(Add(s0[g], s1[g]));
  }
}

// Each kv head's value row read once for its G rows: acc = Fma(p, v, acc) per element, the
// update PvChunk applies per key.
template <typename R, int G>
void PvSlotT(const float* p, int64_t p_stride, int kv_heads, int64_t n, const typename R::T* slot,
             float* acc) {
  for (int h = 0; h < kv_heads; ++h) {
    const typename R::T* v = slot + h * n;
    V pr[G];
    float* ah[G];
    for (int g = 0; g < G; ++g) {
      pr[g] = Set1(p[(h * G + g) * p_stride]);
      ah[g] = acc + static_cast<int64_t>(h * G + g) * n;
    }
    int64_t d = 0;
    for (; d + kLanes <= n; d += kLanes) {
      const V w = R::Get(v + d);
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) Store(ah[g] + d, Fma(pr[g], w, Load(ah[g] + d)));
    }
    if (d < n) {
      const V w = R::GetN(v + d, n - d);
      for (int g = 0; g < G; ++g) StoreN(ah[g] + d, Fma(pr[g], w, LoadN(ah[g] + d, n - d)), n - d);
    }
  }
}

// f(R{}) with R the row reader of a KV cache dtype (f32, bf16, f16), then
// f(std::integral_constant<int, G>{}) inside it for the slot kernels' group G: one dispatch
// for dot_slot and pv_slot.
template <typename F>
void WithKvRow(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32: return f(RowF32{});
    case DType::kBF16: return f(RowBf16{});
    case DType::kF16: return f(RowF16{});
    default: CHECK(false) << "unsupported KV cache dtype";
  }
}

template <typename F>
void WithSlotGroup(int group, F&& f) {
  CHECK(WithConstant<kMaxSlotGroup>(group, f))
      << "the slot kernels serve 1 to " << kMaxSlotGroup << " heads per kv head";
}

void DotSlot(DType dtype, const float* q, int kv_heads, int group, int head_dim,
             const void* slot, float* out, int64_t out_stride) {
  WithKvRow(dtype, [&](auto row) {
    using R = decltype(row);
    WithSlotGroup(group, [&](auto g) {
      DotSlotT<R, decltype(g)::value>(q, kv_heads, head_dim,
                                      static_cast<const typename R::T*>(slot), out, out_stride);
    });
  });
}

void PvSlot(DType dtype, const float* p, int64_t p_stride, int kv_heads, int group, int head_dim,
            const void* slot, float* acc) {
  WithKvRow(dtype, [&](auto row) {
    using R = decltype(row);
    WithSlotGroup(group, [&](auto g) {
      PvSlotT<R, decltype(g)::value>(p, p_stride, kv_heads, head_dim,
                                     static_cast<const typename R::T*>(slot), acc);
    });
  });
}

void LoadRow(DType dtype, const void* src, float* dst, int64_t n) {
  DequantizeRow(dtype, src, dst, n);
}

void StoreRow(DType dtype, const float* src, void* dst, int64_t n) {
  switch (dtype) {
    case DType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::kBF16: ConvertF32ToBf16(src, static_cast<uint16_t*>(dst), n); return;
    case DType::kF16: ConvertF32ToF16(src, static_cast<uint16_t*>(dst), n); return;
    default: CHECK(false) << "unsupported row dtype";
  }
}

const CpuKernels& Table() {
  static const CpuKernels k = {
      .gemv = Gemv,
      .gemv_q8 = GemvQ8,
      .gemv_q8_packed = OCULAR_GEMV_PACKED,
      .quantize_row_q8_0 = QuantizeRowQ8,
      .gemv_q8k = OCULAR_GEMV_Q8K,
      .gemv_q8k_packed = OCULAR_GEMV_Q8K_PACKED,
      .gemv_bf16_split = OCULAR_GEMV_BF16_SPLIT,
      .quantize_row_q8_k = OCULAR_QUANTIZE_Q8K,
      .dequantize_row = DequantizeRow,
      .dequantize_row_bf16 = DequantizeRowBf16,
      .convert_f32_to_bf16 = ConvertF32ToBf16,
      .convert_f32_to_f16 = ConvertF32ToF16,
      .round_to_bf16 = RoundToBf16,
      .rms_norm = RmsNorm,
      .layer_norm = LayerNorm,
      .softmax = Softmax,
      .exp_shift_sum = ExpShiftSum,
      .swiglu = SwiGlu,
      .gelu_erf = GeluErf,
      .gelu_tanh = GeluTanh,
      .add_in_place = AddInPlace,
      .scale = Scale,
      .rope_neox = RopeNeox,
      .dot = Dot,
      .dot_keys = DotKeys,
      .axpy = Axpy,
      .qk_scores = QkScores,
      .pv_accumulate = PvAccumulate,
      .dot_keys_half = DotKeysHalf,
      .pv_accumulate_half = PvAccumulateHalf,
      .dot_slot = DotSlot,
      .pv_slot = PvSlot,
      .load_row = LoadRow,
      .store_row = StoreRow,
  };
  return k;
}
#undef OCULAR_GEMV_PACKED
#undef OCULAR_GEMV_Q8K_PACKED
#undef OCULAR_GEMV_BF16_SPLIT
