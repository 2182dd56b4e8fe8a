#include "media/smart_resize.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ocular::media {
namespace {

// Python round(): half to even (the default FE_TONEAREST mode of nearbyint).
int64_t RoundHalfEven(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

ResizedSize Budget(double pixels_for_budget, int64_t height, int64_t width, int64_t h_bar,
                   int64_t w_bar, int64_t t_bar, int64_t min_pixels, int64_t max_pixels,
                   int64_t factor) {
  const double f = static_cast<double>(factor);
  if (t_bar * h_bar * w_bar > max_pixels) {
    double beta = std::sqrt(pixels_for_budget / static_cast<double>(max_pixels));
    h_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(height / beta / f)) * factor);
    w_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(width / beta / f)) * factor);
  } else if (t_bar * h_bar * w_bar < min_pixels) {
    double beta = std::sqrt(static_cast<double>(min_pixels) / pixels_for_budget);
    h_bar = static_cast<int64_t>(std::ceil(height * beta / f)) * factor;
    w_bar = static_cast<int64_t>(std::ceil(width * beta / f)) * factor;
  }
  return ResizedSize{static_cast<int32_t>(h_bar), static_cast<int32_t>(w_bar)};
}

}  // namespace

std::string AspectRatioErrorMessage(int64_t height, int64_t width) {
  double ratio = static_cast<double>(std::max(height, width)) / static_cast<double>(std::min(height, width));
  char buf[64];
  // Shortest round-trip digits in fixed notation = Python's repr for these magnitudes.
  auto res = std::to_chars(buf, buf + sizeof(buf), ratio, std::chars_format::fixed);
  std::string text(buf, res.ptr);
  if (text.find('.') == std::string::npos) text += ".0";
  return "absolute aspect ratio must be smaller than 200, got " + text;
}

Result<ResizedSize> SmartResizeImage(int64_t height, int64_t width, int64_t min_pixels,
                                     int64_t max_pixels, int64_t factor) {
  if (height <= 0 || width <= 0) return InvalidArgument("image has a zero dimension");
  if (static_cast<double>(std::max(height, width)) / static_cast<double>(std::min(height, width)) > 200.0) {
    return InvalidArgument(AspectRatioErrorMessage(height, width));
  }
  const double f = static_cast<double>(factor);
  int64_t h_bar = RoundHalfEven(static_cast<double>(height) / f) * factor;
  int64_t w_bar = RoundHalfEven(static_cast<double>(width) / f) * factor;
  return Budget(static_cast<double>(height * width), height, width, h_bar, w_bar, 1, min_pixels,
                max_pixels, factor);
}

Result<ResizedSize> SmartResizeVideo(int64_t num_frames, int64_t height, int64_t width,
                                     int64_t min_pixels, int64_t max_pixels,
                                     int64_t temporal_factor, int64_t factor) {
  if (num_frames < temporal_factor) {
    return InvalidArgument("video has fewer sampled frames than the temporal patch size");
  }
  if (height < factor || width < factor) {
    return InvalidArgument("video frames must be at least " + std::to_string(factor) +
                           " pixels on each side");
  }
  if (static_cast<double>(std::max(height, width)) / static_cast<double>(std::min(height, width)) > 200.0) {
    return InvalidArgument(AspectRatioErrorMessage(height, width));
  }
  const double f = static_cast<double>(factor);
  int64_t h_bar = RoundHalfEven(static_cast<double>(height) / f) * factor;
  int64_t w_bar = RoundHalfEven(static_cast<double>(width) / f) * factor;
  int64_t t_bar = RoundHalfEven(static_cast<double>(num_frames) / static_cast<double>(temporal_factor)) *
                  temporal_factor;
  return Budget(static_cast<double>(num_frames) * static_cast<double>(height * width), height, width,
                h_bar, w_bar, t_bar, min_pixels, max_pixels, factor);
}

ResizedSize CapShortSide(ResizedSize size, int64_t src_height, int64_t src_width,
                         int64_t short_side_cap, bool* applied, int64_t factor) {
  *applied = false;
  if (short_side_cap <= 0) return size;
  const int64_t short_side = std::min(size.height, size.width);
  if (short_side <= short_side_cap) return size;
  const double scale = static_cast<double>(short_side_cap) / static_cast<double>(short_side);
  auto fit = [&](int32_t v) {
    int64_t r = static_cast<int64_t>(std::floor(v * scale / static_cast<double>(factor))) * factor;
    return static_cast<int32_t>(std::max<int64_t>(factor, r));
  };
  *applied = true;
  return ResizedSize{fit(size.height), fit(size.width)};
}

}  // namespace ocular::media
