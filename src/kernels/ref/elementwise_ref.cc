// Reference normalisation, activation and rotary kernels (double arithmetic, f32 results).
#include <cmath>

#include "base/check.h"
#include "kernels/ref/ref.h"

namespace ocular::kernels::ref {

void RmsNorm(const float* x, const float* weight, float eps, float* y, int64_t rows,
             int64_t dim) {
  CHECK_GT(dim, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    double ss = 0.0;
    for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    double inv = 1.0 / std::sqrt(ss / static_cast<double>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) {
      double v = xr[i] * inv;
      if (weight) v *= weight[i];
      yr[i] = static_cast<float>(v);
    }
  }
}

void LayerNorm(const float* x, const float* weight, const float* bias, float eps, float* y,
               int64_t rows, int64_t dim) {
  CHECK_GT(dim, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    double mean = 0.0;
    for (int64_t i = 0; i < dim; ++i) mean += xr[i];
    mean /= static_cast<double>(dim);
    double var = 0.0;
    for (int64_t i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<double>(dim);
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < dim; ++i) {
      double v = (xr[i] - mean) * inv;
      if (weight) v *= weight[i];
      if (bias) v += bias[i];
      yr[i] = static_cast<float>(v);
    }
  }
}

void Softmax(float* x, int64_t n) {
  CHECK_GE(n, 1);
  double mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::fmax(mx, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(x[i] - mx) / sum);
}

void SwiGlu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void GeluErf(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    // 0.5 v (1 + erf(v / sqrt 2)) written with erfc so large negative v keeps its precision.
    x[i] = static_cast<float>(0.5 * v * std::erfc(-v / std::sqrt(2.0)));
  }
}

void GeluTanh(float* x, int64_t n) {
  const double c = std::sqrt(2.0 / M_PI);
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    // 0.5 v (1 + tanh(u)) == v / (1 + exp(-2u)); the second form keeps its precision when
    // 1 + tanh(u) would cancel (large negative v).
    const double u = c * (v + 0.044715 * v * v * v);
    x[i] = static_cast<float>(v / (1.0 + std::exp(-2.0 * u)));
  }
}

void AddInPlace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void Scale(float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void RopeNeox(float* x, int64_t tokens, int heads, int head_dim, int64_t token_stride,
              const float* cos, const float* sin, int rot_dim) {
  CHECK(rot_dim % 2 == 0 && rot_dim <= head_dim);
  CHECK_GE(token_stride, static_cast<int64_t>(heads) * head_dim);
  const int half = rot_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int h = 0; h < heads; ++h) {
      float* xh = x + t * token_stride + static_cast<int64_t>(h) * head_dim;
      for (int d = 0; d < half; ++d) {
        double a = xh[d], b = xh[d + half];
        xh[d] = static_cast<float>(a * c[d] - b * s[d]);
        xh[d + half] = static_cast<float>(b * c[d] + a * s[d]);
      }
    }
  }
}

}  // namespace ocular::kernels::ref
