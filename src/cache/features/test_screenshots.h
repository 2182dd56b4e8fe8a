// Generated GUI-like screenshots for tests and benchmarks of near-duplicate matching: flat
// themed backgrounds, title bars, sidebars, panels of "text" (dark word-sized bars), buttons
// and photo-like gradient blocks. Deterministic per seed. Not used by the server.
#pragma once

#include <cstdint>
#include <vector>

#include "cache/features/perceptual_hash.h"

namespace ocular::features::testing {

struct Image {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3], u8
  Rgb8View view() const { return {rgb.data(), width, height, 3 * width}; }
};

// Fills the rectangle (clipped to the image) with colour c (RGB).
void FillRect(Image& img, int64_t x0, int64_t y0, int64_t w, int64_t h, const uint8_t c[3]);

// An independent screenshot: theme, layout and content all drawn from `seed`.
Image MakeScreenshot(uint32_t seed, int64_t width = 1280, int64_t height = 720);

// A page of one application: the theme and frame (background, title bar, sidebar) come from
// `app_seed`, the panels and their text from `page_seed`. Two pages of the same app share
// most of their pixels, as consecutive screenshots of a GUI-automation run do.
Image MakeAppPage(uint32_t app_seed, uint32_t page_seed, int64_t width = 1280,
                  int64_t height = 720);

}  // namespace ocular::features::testing
