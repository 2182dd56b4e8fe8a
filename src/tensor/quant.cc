#include "tensor/quant.h"

#include <cmath>
#include <cstring>

#include "base/check.h"
#include "tensor/half.h"

namespace ocular::ref {

void Q4KScaleMin(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

namespace {

void DequantQ8_0(const BlockQ8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = F16ToF32(b[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[i * kQK8_0 + j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void DequantQ4_0(const BlockQ4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = F16ToF32(b[i].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[i * kQK4_0 + j] = d * static_cast<float>((b[i].qs[j] & 0xF) - 8);
      y[i * kQK4_0 + j + kQK4_0 / 2] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

void DequantQ4_K(const BlockQ4_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = F16ToF32(b[i].d), dmin = F16ToF32(b[i].dmin);
    const uint8_t* q = b[i].qs;
    for (int j = 0; j < kQK_K; j += 64) {
      int is = j / 32;
      uint8_t sc, m;
      Q4KScaleMin(is, b[i].scales, &sc, &m);
      float d1 = d * sc, m1 = dmin * m;
      Q4KScaleMin(is + 1, b[i].scales, &sc, &m);
      float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
      q += 32;
    }
  }
}

void DequantQ6_K(const BlockQ6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    float d = F16ToF32(b[i].d);
    const uint8_t* ql = b[i].ql;
    const uint8_t* qh = b[i].qh;
    const int8_t* sc = b[i].scales;
    for (int n = 0; n < kQK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        int is = l / 16;
        int q1 = static_cast<int>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        int q2 = static_cast<int>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        int q3 = static_cast<int>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        int q4 = static_cast<int>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

}  // namespace

void DequantizeRow(DType dtype, const void* src, float* dst, int64_t n) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  CHECK(info.supported) << DTypeName(dtype);
  CHECK_EQ(n % info.block_elems, 0);
  int64_t nb = n / info.block_elems;
  switch (dtype) {
    case DType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::kF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = F16ToF32(s[i]);
      return;
    }
    case DType::kBF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToF32(s[i]);
      return;
    }
    case DType::kQ8_0: DequantQ8_0(static_cast<const BlockQ8_0*>(src), dst, nb); return;
    case DType::kQ4_0: DequantQ4_0(static_cast<const BlockQ4_0*>(src), dst, nb); return;
    case DType::kQ4_K: DequantQ4_K(static_cast<const BlockQ4_K*>(src), dst, nb); return;
    case DType::kQ6_K: DequantQ6_K(static_cast<const BlockQ6_K*>(src), dst, nb); return;
    default: CHECK(false) << "no dequantizer for " << DTypeName(dtype);
  }
}

namespace {

// The symmetric 8-bit rounding of q8_0 and q8_K: d = amax / 127, q = lround(x / d) over
// `n` values; returns d.
float QuantizeBlock127(const float* x, int n, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < n; ++j) q[j] = static_cast<int8_t>(std::lround(x[j] * id));
  return d;
}

}  // namespace

void QuantizeRowQ8_0(const float* x, BlockQ8_0* y, int64_t n) {
  CHECK_EQ(n % kQK8_0, 0);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    y[i].d = F32ToF16(QuantizeBlock127(x + i * kQK8_0, kQK8_0, y[i].qs));
  }
}

namespace {

// lround(v) clamped to [lo, hi].
int RoundClamp(float v, int lo, int hi) {
  const long r = std::lround(v);
  return static_cast<int>(r < lo ? lo : (r > hi ? hi : r));
}

}  // namespace

void QuantizeRowQ4_K(const float* x, BlockQ4_K* y, int64_t n) {
  CHECK_EQ(n % kQK_K, 0);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    float step[8], off[8], max_step = 0.0f, max_off = 0.0f;
    for (int s = 0; s < 8; ++s) {
      float lo = 0.0f, hi = 0.0f;
      for (int c = 0; c < 32; ++c) {
        lo = std::fmin(lo, xb[32 * s + c]);
        hi = std::fmax(hi, xb[32 * s + c]);
      }
      step[s] = (hi - lo) / 15.0f;
      off[s] = -lo;
      max_step = std::fmax(max_step, step[s]);
      max_off = std::fmax(max_off, off[s]);
    }
    BlockQ4_K& b = y[i];
    b.d = F32ToF16(max_step / 63.0f);
    b.dmin = F32ToF16(max_off / 63.0f);
    const float d = F16ToF32(b.d), dmin = F16ToF32(b.dmin);
    uint8_t sc[8], mn[8];
    for (int s = 0; s < 8; ++s) {
      sc[s] = static_cast<uint8_t>(d > 0.0f ? RoundClamp(step[s] / d, 0, 63) : 0);
      mn[s] = static_cast<uint8_t>(dmin > 0.0f ? RoundClamp(off[s] / dmin, 0, 63) : 0);
    }
    // The 12 scale bytes (Q4KScaleMin's layout): 0-3 scales 0-3 and the top bits of scales
    // 4-7, 4-7 the same for the mins, 8-11 the low nibbles of scales and mins 4-7.
    for (int j = 0; j < 4; ++j) {
      b.scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
      b.scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
      b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
    for (int s = 0; s < 8; ++s) {
      const float st = d * sc[s], o = dmin * mn[s];
      for (int c = 0; c < 32; ++c) {
        const int q = st > 0.0f ? RoundClamp((xb[32 * s + c] + o) / st, 0, 15) : 0;
        uint8_t& byte = b.qs[32 * (s / 2) + c];  // even sub-blocks low nibbles, odd high
        byte = static_cast<uint8_t>(s % 2 == 0 ? q : (byte & 0xF) | (q << 4));
      }
    }
  }
}

void QuantizeRowQ6_K(const float* x, BlockQ6_K* y, int64_t n) {
  CHECK_EQ(n % kQK_K, 0);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    float step[16], max_step = 0.0f;
    for (int s = 0; s < 16; ++s) {
      float amax = 0.0f;
      for (int c = 0; c < 16; ++c) amax = std::fmax(amax, std::fabs(xb[16 * s + c]));
      step[s] = amax / 31.0f;
      max_step = std::fmax(max_step, step[s]);
    }
    BlockQ6_K& b = y[i];
    b.d = F32ToF16(max_step / 127.0f);
    const float d = F16ToF32(b.d);
    uint8_t u[kQK_K];  // quants + 32 in value order
    for (int s = 0; s < 16; ++s) {
      const int sc = d > 0.0f ? RoundClamp(step[s] / d, 0, 127) : 0;
      b.scales[s] = static_cast<int8_t>(sc);
      const float st = d * static_cast<float>(sc);
      for (int c = 0; c < 16; ++c) {
        const int q = st > 0.0f ? RoundClamp(xb[16 * s + c] / st, -32, 31) : 0;
        u[16 * s + c] = static_cast<uint8_t>(q + 32);
      }
    }
    // Per 128 values: ql holds the low nibbles of values l and l + 64 (byte l) and l + 32 and
    // l + 96 (byte l + 32); qh the top 2 bits of l, l + 32, l + 64, l + 96 (bits 0-1 .. 6-7).
    for (int h = 0; h < 2; ++h) {
      const uint8_t* v = u + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * h + l] = static_cast<uint8_t>((v[l] & 0xF) | ((v[l + 64] & 0xF) << 4));
        b.ql[64 * h + l + 32] = static_cast<uint8_t>((v[l + 32] & 0xF) | ((v[l + 96] & 0xF) << 4));
        b.qh[32 * h + l] = static_cast<uint8_t>((v[l] >> 4) | ((v[l + 32] >> 4) << 2) |
                                                ((v[l + 64] >> 4) << 4) | ((v[l + 96] >> 4) << 6));
      }
    }
  }
}

void QuantizeRowQ8_K(const float* x, BlockQ8_K* y, int64_t n) {
  CHECK_EQ(n % kQK_K, 0);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    y[i].d = QuantizeBlock127(x + i * kQK_K, kQK_K, y[i].qs);
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y[i].qs[16 * g + j];
      y[i].bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n) {
  CHECK_EQ(n % kQK4_0, 0);
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const float* xb = x + i * kQK4_0;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK4_0; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    float d = max / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      int lo = static_cast<int>(xb[j] * id + 8.5f);
      int hi = static_cast<int>(xb[j + kQK4_0 / 2] * id + 8.5f);
      lo = lo > 15 ? 15 : (lo < 0 ? 0 : lo);
      hi = hi > 15 ? 15 : (hi < 0 ? 0 : hi);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void ConvertRowF32ToBf16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = F32ToBf16(src[i]);
}
void ConvertRowF32ToF16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = F32ToF16(src[i]);
}

}  // namespace ocular::ref
