#include "cache/features/perceptual_hash.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

namespace ocular::features {
namespace {

constexpr int kSide = 32;  // resized image: [kSide, kSide]
constexpr int kKeep = 8;   // DCT rows/cols 1..kKeep are hashed

// One source pixel's share of one output cell along an axis.
struct AxisWeight {
  int64_t src;
  int dst;
  double weight;  // coverage / cell width, so each cell's weights sum to 1
};

// Area-average weights mapping `n` source pixels onto kSide cells.
std::vector<AxisWeight> AreaWeights(int64_t n) {
  std::vector<AxisWeight> weights;
  const double cell = static_cast<double>(n) / kSide;
  for (int d = 0; d < kSide; ++d) {
    const double begin = d * cell, end = (d + 1) * cell;
    const int64_t first = static_cast<int64_t>(std::floor(begin));
    const int64_t last = std::min<int64_t>(n - 1, static_cast<int64_t>(std::ceil(end)) - 1);
    for (int64_t s = first; s <= last; ++s) {
      const double overlap =
          std::min(end, static_cast<double>(s + 1)) - std::max(begin, static_cast<double>(s));
      if (overlap > 0.0) weights.push_back({s, d, overlap / cell});
    }
  }
  return weights;
}

}  // namespace

Result<uint64_t> PerceptualHash(const Rgb8View& image) {
  if (image.pixels == nullptr || image.width <= 0 || image.height <= 0) {
    return InvalidArgument("perceptual hash needs a non-empty image");
  }
  if (image.stride_bytes < 3 * image.width) {
    return InvalidArgument("image stride is smaller than its row");
  }
  const std::vector<AxisWeight> wx = AreaWeights(image.width);
  const std::vector<AxisWeight> wy = AreaWeights(image.height);

  // Horizontal pass: each source row -> kSide luma cells. Vertical pass folds rows into `small`.
  std::array<double, kSide * kSide> small{};  // [kSide, kSide], f64
  std::array<double, kSide> row_cells;        // [kSide], f64
  size_t next_wy = 0;
  for (int64_t y = 0; y < image.height; ++y) {
    const uint8_t* row = image.pixels + y * image.stride_bytes;
    row_cells.fill(0.0);
    for (const AxisWeight& w : wx) {
      const uint8_t* p = row + 3 * w.src;
      row_cells[w.dst] += w.weight * (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
    }
    // wy is ordered by destination cell and, within it, by source row; rows feed at most a few
    // cells, found by scanning from the first weight that can mention this row.
    while (next_wy < wy.size() && wy[next_wy].src < y) ++next_wy;
    for (size_t i = next_wy; i < wy.size() && wy[i].src <= y + 1; ++i) {
      if (wy[i].src != y) continue;
      double* dst = &small[static_cast<size_t>(wy[i].dst) * kSide];
      for (int x = 0; x < kSide; ++x) dst[x] += wy[i].weight * row_cells[x];
    }
  }

  // DCT-II basis for the frequencies we keep: basis[u][x] = cos(pi (2x + 1) u / (2 kSide)).
  // (The orthonormal scale factor is the same for every u >= 1 and does not change the median
  // comparison, so it is left out.)
  std::array<std::array<double, kSide>, kKeep + 1> basis;
  for (int u = 0; u <= kKeep; ++u) {
    for (int x = 0; x < kSide; ++x) {
      basis[u][x] = std::cos(std::numbers::pi * (2 * x + 1) * u / (2.0 * kSide));
    }
  }
  // Rows first: tmp[y][v] = sum_x small[y][x] basis[v][x]; then coeff[u][v] over y.
  std::array<std::array<double, kKeep + 1>, kSide> tmp{};
  for (int y = 0; y < kSide; ++y) {
    for (int v = 1; v <= kKeep; ++v) {
      double s = 0.0;
      for (int x = 0; x < kSide; ++x) s += small[y * kSide + x] * basis[v][x];
      tmp[y][v] = s;
    }
  }
  std::array<double, kKeep * kKeep> coeff;  // [u - 1][v - 1], f64
  for (int u = 1; u <= kKeep; ++u) {
    for (int v = 1; v <= kKeep; ++v) {
      double s = 0.0;
      for (int y = 0; y < kSide; ++y) s += tmp[y][v] * basis[u][y];
      coeff[(u - 1) * kKeep + (v - 1)] = s;
    }
  }
  // Rounding noise of an exactly flat region (~1e-13 of the pixel scale) must not decide bits:
  // coefficients below 1e-9 of the image's mean luma count as zero, so flat images hash to 0.
  double mean = 0.0;
  for (double v : small) mean += v;
  mean /= kSide * kSide;
  for (double& c : coeff) {
    if (std::fabs(c) < 1e-9 * (mean + 1.0)) c = 0.0;
  }
  std::array<double, kKeep* kKeep> sorted = coeff;
  std::sort(sorted.begin(), sorted.end());
  const double median = 0.5 * (sorted[31] + sorted[32]);
  uint64_t hash = 0;
  for (int i = 0; i < kKeep * kKeep; ++i) {
    if (coeff[i] > median) hash |= uint64_t{1} << i;
  }
  return hash;
}

}  // namespace ocular::features
