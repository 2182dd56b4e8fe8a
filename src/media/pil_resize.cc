#include "media/pil_resize.h"

#include <cmath>

#include "base/check.h"
#include "base/thread_pool.h"

namespace ocular::media {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double BicubicFilter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

inline uint8_t Clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

template <typename Fn>
void ForRows(ThreadPool* pool, int64_t n, Fn&& fn) {
  if (pool != nullptr && n >= 16) {
    pool->ParallelRange(n, 8, [&](int64_t b, int64_t e, int) { fn(b, e); });
  } else {
    fn(0, n);
  }
}

// Horizontal pass over source rows [row0, row0 + out.height).
void Horizontal(const RgbImage& in, int32_t row0, const FixedTaps& t, RgbImage& out, ThreadPool* pool) {
  ForRows(pool, out.height, [&](int64_t yb, int64_t ye) {
    for (int64_t y = yb; y < ye; ++y) {
      const uint8_t* src = in.row(static_cast<int32_t>(y) + row0);
      uint8_t* dst = out.row(static_cast<int32_t>(y));
      for (int32_t x = 0; x < out.width; ++x) {
        const int32_t* k = &t.k[static_cast<size_t>(x) * t.ksize];
        const uint8_t* s = src + static_cast<size_t>(t.first[x]) * 3;
        int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
        for (int32_t j = 0; j < t.count[x]; ++j) {
          s0 += s[j * 3 + 0] * k[j];
          s1 += s[j * 3 + 1] * k[j];
          s2 += s[j * 3 + 2] * k[j];
        }
        dst[x * 3 + 0] = Clip8(s0);
        dst[x * 3 + 1] = Clip8(s1);
        dst[x * 3 + 2] = Clip8(s2);
      }
    }
  });
}

// Vertical pass; `first` indices are relative to in's row 0. Integer sums are exact, so the
// row-at-a-time order (vectorisable) gives Pillow's per-pixel results.
void Vertical(const RgbImage& in, const FixedTaps& t, int32_t first_shift, RgbImage& out,
              ThreadPool* pool) {
  const size_t row_len = static_cast<size_t>(out.width) * 3;
  ForRows(pool, out.height, [&](int64_t yb, int64_t ye) {
    std::vector<int32_t> acc(row_len);  // [width * 3], i32
    for (int64_t y = yb; y < ye; ++y) {
      const int32_t* k = &t.k[static_cast<size_t>(y) * t.ksize];
      const int32_t first = t.first[y] - first_shift;
      std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
      int32_t* a = acc.data();
      for (int32_t j = 0; j < t.count[y]; ++j) {
        const uint8_t* s = in.row(first + j);
        const int32_t w = k[j];
        for (size_t i = 0; i < row_len; ++i) a[i] += s[i] * w;
      }
      uint8_t* dst = out.row(static_cast<int32_t>(y));
      for (size_t i = 0; i < row_len; ++i) dst[i] = Clip8(a[i]);
    }
  });
}

}  // namespace

FixedTaps PilBicubicTaps(int32_t in_size, int32_t out_size) {
  CHECK(in_size > 0 && out_size > 0);
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;
  FixedTaps t;
  t.ksize = static_cast<int32_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.k.assign(static_cast<size_t>(out_size) * t.ksize, 0);
  std::vector<double> w(t.ksize);
  for (int32_t xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int32_t xmin = static_cast<int32_t>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int32_t xmax = static_cast<int32_t>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int32_t x = 0; x < xmax; ++x) {
      w[x] = BicubicFilter((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int32_t x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      // Pillow: (int)(+-0.5 + v * 2^22), i.e. round half away from zero.
      t.k[static_cast<size_t>(xx) * t.ksize + x] =
          v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    t.first[xx] = xmin;
    t.count[xx] = xmax;
  }
  return t;
}

RgbImage PilBicubicResize(const RgbImage& in, int32_t out_width, int32_t out_height, ThreadPool* pool) {
  const bool need_h = out_width != in.width;
  const bool need_v = out_height != in.height;
  if (!need_h && !need_v) {
    RgbImage copy;
    copy.width = in.width;
    copy.height = in.height;
    copy.data = in.data;
    return copy;
  }
  FixedTaps vt = PilBicubicTaps(in.height, out_height);
  RgbImage out;
  out.width = out_width;
  out.height = out_height;
  out.data.resize(out.num_bytes());
  if (!need_h) {
    Vertical(in, vt, 0, out, pool);
    return out;
  }
  FixedTaps ht = PilBicubicTaps(in.width, out_width);
  // Only the source rows the vertical pass reads.
  const int32_t row_first = vt.first[0];
  const int32_t row_last = vt.first[out_height - 1] + vt.count[out_height - 1];
  RgbImage temp;
  temp.width = out_width;
  temp.height = need_v ? row_last - row_first : in.height;
  temp.data.resize(temp.num_bytes());
  Horizontal(in, need_v ? row_first : 0, ht, temp, pool);
  if (!need_v) return temp;
  Vertical(temp, vt, row_first, out, pool);
  return out;
}

}  // namespace ocular::media
