// torch-style antialiased bicubic against a direct float64 evaluation of the same definition
// (kernel a = -0.5, support 2*max(scale,1), normalised weights, clamp + round): within one
// level, and exact where an axis keeps its size.
#include <gtest/gtest.h>

#include <cmath>

#include "media/aa_resize.h"
#include "media/test_images.h"

namespace ocular::media {
namespace {

std::vector<std::vector<double>> Weights(int in, int out, std::vector<int>& first) {
  const double scale = static_cast<double>(in) / out;
  const double support = scale >= 1 ? 2 * scale : 2.0;
  const double inv = scale >= 1 ? 1 / scale : 1.0;
  auto k = [](double x) {
    x = std::fabs(x);
    if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return 0.0;
  };
  std::vector<std::vector<double>> w(out);
  first.assign(out, 0);
  for (int i = 0; i < out; ++i) {
    const double c = scale * (i + 0.5);
    int lo = std::max(0, static_cast<int>(c - support + 0.5));
    int hi = std::min(in, static_cast<int>(c + support + 0.5));
    double total = 0;
    for (int x = lo; x < hi; ++x) {
      w[i].push_back(k((x - c + 0.5) * inv));
      total += w[i].back();
    }
    for (double& v : w[i]) v /= total;
    first[i] = lo;
  }
  return w;
}

RgbImage Reference(const RgbImage& in, int ow, int oh) {
  std::vector<int> fx, fy;
  auto wx = Weights(in.width, ow, fx);
  auto wy = Weights(in.height, oh, fy);
  std::vector<double> tmp(static_cast<size_t>(in.height) * ow * 3);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < ow; ++x)
      for (int c = 0; c < 3; ++c) {
        double a = 0;
        for (size_t j = 0; j < wx[x].size(); ++j) a += in.row(y)[(fx[x] + j) * 3 + c] * wx[x][j];
        tmp[(static_cast<size_t>(y) * ow + x) * 3 + c] = a;
      }
  RgbImage out;
  out.width = ow;
  out.height = oh;
  out.data.resize(out.num_bytes());
  for (int y = 0; y < oh; ++y)
    for (int i = 0; i < ow * 3; ++i) {
      double a = 0;
      for (size_t j = 0; j < wy[y].size(); ++j) a += tmp[(fy[y] + j) * ow * 3 + i] * wy[y][j];
      out.row(y)[i] = static_cast<uint8_t>(std::nearbyint(std::clamp(a, 0.0, 255.0)));
    }
  return out;
}

TEST(AaResize, MatchesDefinitionWithinOneLevel) {
  RgbImage img = testing::Pattern(100, 75, 3);
  for (auto [w, h] : std::vector<std::pair<int, int>>{{96, 64}, {100, 64}, {64, 75}, {160, 96}, {37, 150}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    RgbImage got = TorchAntialiasBicubicResize(img, w, h);
    RgbImage want = Reference(img, w, h);
    ASSERT_EQ(got.data.size(), want.data.size());
    int over = 0, diff = 0;
    for (size_t i = 0; i < got.data.size(); ++i) {
      int d = std::abs(int{got.data[i]} - int{want.data[i]});
      diff += d != 0;
      over += d > 1;
    }
    EXPECT_EQ(over, 0);
    EXPECT_LT(diff, static_cast<int>(got.data.size() / 50));
  }
  // Same size on both axes: identity.
  EXPECT_EQ(TorchAntialiasBicubicResize(img, 100, 75).data, img.data);
}

}  // namespace
}  // namespace ocular::media
