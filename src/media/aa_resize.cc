#include "media/aa_resize.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "base/thread_pool.h"

namespace ocular::media {
namespace {

float AaCubic(float x) {
  constexpr float a = -0.5f;
  if (x < 0.0f) x = -x;
  if (x < 1.0f) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2.0f) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0f;
}

struct FloatTaps {
  std::vector<int32_t> first, count;  // [out]
  int32_t ksize = 0;
  std::vector<float> w;  // [out][ksize]
};

FloatTaps AaTaps(int32_t in_size, int32_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float support = scale >= 1.0f ? 2.0f * scale : 2.0f;
  FloatTaps t;
  t.ksize = static_cast<int32_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.w.assign(static_cast<size_t>(out_size) * t.ksize, 0.0f);
  const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
  for (int32_t i = 0; i < out_size; ++i) {
    const float center = static_cast<float>(scale * (i + 0.5));
    int64_t xmin = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    int64_t xsize = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size) - xmin;
    xsize = std::clamp<int64_t>(xsize, 0, t.ksize);
    float* w = &t.w[static_cast<size_t>(i) * t.ksize];
    float total = 0.0f;
    for (int64_t j = 0; j < xsize; ++j) {
      const float arg = static_cast<float>((static_cast<float>(j + xmin) - center + 0.5) * invscale);
      w[j] = AaCubic(arg);
      total += w[j];
    }
    if (total != 0.0f) {
      for (int64_t j = 0; j < xsize; ++j) w[j] /= total;
    }
    t.first[i] = static_cast<int32_t>(xmin);
    t.count[i] = static_cast<int32_t>(xsize);
  }
  return t;
}

// Round half to even (torch.round) of a value clamped to [0, 255]: adding and subtracting
// 1.5 * 2^23 leaves the nearest integer under the default rounding mode. Unlike nearbyint
// (a libm call per value on baseline x86-64) this vectorises.
inline uint8_t RoundClampU8(float v) {
  constexpr float kMagic = 12582912.0f;
  v = std::min(255.0f, std::max(0.0f, v));
  // IEEE arithmetic (no -ffast-math here): (v + m) - m is not folded into v.
  return static_cast<uint8_t>(static_cast<int32_t>((v + kMagic) - kMagic));
}

}  // namespace

RgbImage TorchAntialiasBicubicResize(const RgbImage& in, int32_t out_width, int32_t out_height,
                                     ThreadPool* pool) {
  RgbImage out;
  out.width = out_width;
  out.height = out_height;
  if (out_width == in.width && out_height == in.height) {
    out.data = in.data;
    return out;
  }
  out.data.resize(out.num_bytes());
  const FloatTaps ht = AaTaps(in.width, out_width);
  const FloatTaps vt = AaTaps(in.height, out_height);
  // An axis whose size does not change has weights (0, 1, 0, 0) in torch: the pass is an
  // exact copy, so it is skipped.
  const bool same_width = out_width == in.width, same_height = out_height == in.height;
  // Width pass: temp [in.height][out_width][3], f32 (not needed when the width is unchanged:
  // the height pass then reads the u8 rows, whose float values are what the copy would hold).
  std::unique_ptr<float[]> temp(same_width ? nullptr : new float[static_cast<size_t>(in.height) * out_width * 3]);
  auto horizontal = [&](int64_t yb, int64_t ye) {
    for (int64_t y = yb; y < ye; ++y) {
      const uint8_t* src = in.row(static_cast<int32_t>(y));
      float* dst = &temp[static_cast<size_t>(y) * out_width * 3];
      for (int32_t x = 0; x < out_width; ++x) {
        const float* w = &ht.w[static_cast<size_t>(x) * ht.ksize];
        const uint8_t* s = src + static_cast<size_t>(ht.first[x]) * 3;
        for (int c = 0; c < 3; ++c) {
          float acc = static_cast<float>(s[c]) * w[0];
          for (int32_t j = 1; j < ht.count[x]; ++j) acc += static_cast<float>(s[j * 3 + c]) * w[j];
          dst[x * 3 + c] = acc;
        }
      }
    }
  };
  // Height pass over rows of type T (f32 from the width pass, or the u8 source rows).
  auto vertical_from = [&](auto* rows, int64_t yb, int64_t ye) {
    const size_t row_len = static_cast<size_t>(out_width) * 3;
    std::unique_ptr<float[]> acc(new float[row_len]);  // [out_width * 3], f32
    for (int64_t y = yb; y < ye; ++y) {
      const float* w = &vt.w[static_cast<size_t>(y) * vt.ksize];
      const auto* s = rows + static_cast<size_t>(vt.first[y]) * row_len;
      uint8_t* dst = out.row(static_cast<int32_t>(y));
      if (same_height) {
        const auto* r = rows + static_cast<size_t>(y) * row_len;
        for (size_t i = 0; i < row_len; ++i) dst[i] = RoundClampU8(static_cast<float>(r[i]));
        continue;
      }
      // Row at a time (vectorisable); each element still sees torch's order of operations.
      float* a = acc.get();
      for (size_t i = 0; i < row_len; ++i) a[i] = static_cast<float>(s[i]) * w[0];
      for (int32_t j = 1; j < vt.count[y]; ++j) {
        const auto* sj = s + j * row_len;
        const float wj = w[j];
        for (size_t i = 0; i < row_len; ++i) a[i] += static_cast<float>(sj[i]) * wj;
      }
      for (size_t i = 0; i < row_len; ++i) dst[i] = RoundClampU8(a[i]);
    }
  };
  auto vertical = [&](int64_t yb, int64_t ye) {
    if (same_width) {
      vertical_from(in.data.data(), yb, ye);
    } else {
      vertical_from(static_cast<const float*>(temp.get()), yb, ye);
    }
  };
  if (pool != nullptr) {
    if (!same_width) pool->ParallelRange(in.height, 8, [&](int64_t b, int64_t e, int) { horizontal(b, e); });
    pool->ParallelRange(out_height, 8, [&](int64_t b, int64_t e, int) { vertical(b, e); });
  } else {
    if (!same_width) horizontal(0, in.height);
    vertical(0, out_height);
  }
  return out;
}

}  // namespace ocular::media
