#include "model/qwen3vl/gen/random_fill.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/half.h"
#include "tensor/quant.h"

namespace ocular::qwen3vl::gen {
namespace {

// splitmix64 finaliser: a bijective mix with full avalanche.
inline uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Sum of four 16-bit uniforms: mean 4 * 32767.5, variance 4 * (65536^2 - 1) / 12.
constexpr double kIrwinHallMean = 4 * 32767.5;
const double kIrwinHallInvStd = 1.0 / std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0);

}  // namespace

void QuantizeRowQ8_0Fast(const float* x, BlockQ8_0* y, int64_t n) {
  CHECK(n % kQK8_0 == 0);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float* xb = x + i * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    int8_t q[kQK8_0];
    for (int j = 0; j < kQK8_0; ++j) {
      // Round half away from zero, as lround: |v| <= ~127, where v + 0.5 is exact or rounds
      // within the same integer, so truncation gives the same integer.
      const float v = xb[j] * id;
      q[j] = static_cast<int8_t>(static_cast<int>(v + (v >= 0.0f ? 0.5f : -0.5f)));
    }
    std::memcpy(y[i].qs, q, kQK8_0);
  }
}

FillRule RuleFor(const WeightSpec& spec) {
  switch (spec.role) {
    case WeightRole::kMatrix:
    case WeightRole::kPatchEmbed:
      return {0.0f, static_cast<float>(1.0 / std::sqrt(static_cast<double>(spec.fan_in)))};
    case WeightRole::kEmbedding:
      return {0.0f, static_cast<float>(1.0 / std::sqrt(static_cast<double>(spec.shape.back())))};
    case WeightRole::kNorm:
      return {1.0f, 0.02f};
    case WeightRole::kBias:
      return {0.0f, 0.02f};
    case WeightRole::kPosEmbed:
      return {0.0f, 0.02f};
  }
  return {0.0f, 1.0f};
}

void FillF32(uint64_t seed, uint64_t tensor_index, const FillRule& rule, uint64_t offset,
             std::span<float> out) {
  const uint64_t key = Mix(seed ^ Mix(tensor_index + 0x632be59bd9b4e019ull));
  const float scale = static_cast<float>(rule.stddev * kIrwinHallInvStd);
  const float shift = static_cast<float>(rule.mean - rule.stddev * kIrwinHallMean * kIrwinHallInvStd);
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t r = Mix(key + (offset + i) * 0x9e3779b97f4a7c15ull);
    uint32_t sum = static_cast<uint32_t>(r & 0xffff) + static_cast<uint32_t>((r >> 16) & 0xffff) +
                   static_cast<uint32_t>((r >> 32) & 0xffff) + static_cast<uint32_t>(r >> 48);
    out[i] = static_cast<float>(sum) * scale + shift;
  }
}

void ConvertRows(DType dtype, const float* src, int64_t rows, int64_t row_len, uint8_t* dst) {
  const int64_t n = rows * row_len;
  switch (dtype) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
      ref::ConvertRowF32ToF16(src, reinterpret_cast<uint16_t*>(dst), n);
      return;
    case DType::kBF16:
      ref::ConvertRowF32ToBf16(src, reinterpret_cast<uint16_t*>(dst), n);
      return;
    case DType::kQ8_0:
      CHECK(row_len % kQK8_0 == 0);
      QuantizeRowQ8_0Fast(src, reinterpret_cast<BlockQ8_0*>(dst), n);
      return;
    case DType::kQ4_0:
      CHECK(row_len % kQK4_0 == 0);
      ref::QuantizeRowQ4_0(src, reinterpret_cast<BlockQ4_0*>(dst), n);
      return;
    case DType::kQ4_K:
      CHECK(row_len % kQK_K == 0);
      ref::QuantizeRowQ4_K(src, reinterpret_cast<BlockQ4_K*>(dst), n);
      return;
    case DType::kQ6_K:
      CHECK(row_len % kQK_K == 0);
      ref::QuantizeRowQ6_K(src, reinterpret_cast<BlockQ6_K*>(dst), n);
      return;
    default:
      CHECK(false) << "gen cannot write dtype " << DTypeName(dtype);
  }
}

}  // namespace ocular::qwen3vl::gen
