#include "cache/features/test_screenshots.h"

#include <algorithm>
#include <random>

namespace ocular::features::testing {
namespace {

class Dice {
 public:
  explicit Dice(uint32_t seed) : rng_(seed) {}
  int64_t Uni(int lo, int hi) { return static_cast<int64_t>(lo + rng_() % (hi - lo + 1)); }
  uint8_t Byte(int lo, int hi) { return static_cast<uint8_t>(Uni(lo, hi)); }
  bool OneIn(uint32_t n) { return rng_() % n == 0; }
  bool Coin() { return rng_() % 2 != 0; }

 private:
  std::mt19937 rng_;
};

// Background, title bar and (maybe) a sidebar.
void DrawFrame(Image& img, Dice& d) {
  const bool dark = d.OneIn(3);
  const uint8_t bg[3] = {dark ? uint8_t{30} : d.Byte(235, 255), dark ? uint8_t{32} : d.Byte(235, 255),
                         dark ? uint8_t{36} : d.Byte(235, 255)};
  FillRect(img, 0, 0, img.width, img.height, bg);
  const uint8_t accent[3] = {d.Byte(0, 255), d.Byte(0, 255), d.Byte(0, 255)};
  FillRect(img, 0, 0, img.width, 30, accent);                                  // title bar
  if (d.Coin()) FillRect(img, 0, 30, d.Uni(150, 300), img.height, accent);  // sidebar
}

// Panels of text lines, buttons and maybe a photo-like gradient block.
void DrawContent(Image& img, Dice& d) {
  const int64_t width = img.width, height = img.height;
  const int panels = static_cast<int>(d.Uni(2, 6));
  for (int p = 0; p < panels; ++p) {
    const int64_t pw = d.Uni(200, 700), ph = d.Uni(120, 500);
    const int64_t px = d.Uni(0, static_cast<int>(width - pw)),
                  py = d.Uni(40, static_cast<int>(height - ph));
    const uint8_t panel[3] = {d.Byte(150, 255), d.Byte(150, 255), d.Byte(150, 255)};
    FillRect(img, px, py, pw, ph, panel);
    const uint8_t ink[3] = {d.Byte(0, 60), d.Byte(0, 60), d.Byte(0, 60)};
    for (int64_t y = py + 12; y + 10 < py + ph; y += d.Uni(16, 22)) {  // text lines
      for (int64_t x = px + 10; x < px + pw - 20;) {
        const int64_t word = d.Uni(8, 60);
        FillRect(img, x, y, std::min(word, px + pw - 10 - x), d.Uni(7, 10), ink);
        x += word + d.Uni(4, 8);
        if (d.OneIn(12)) break;  // ragged line ends
      }
    }
    if (d.Coin()) {  // a button
      const uint8_t button[3] = {d.Byte(0, 255), d.Byte(0, 255), d.Byte(0, 255)};
      FillRect(img, px + pw - 110, py + ph - 40, 90, 28, button);
    }
  }
  if (d.Coin()) {  // a photo-like gradient block
    const int64_t gx = d.Uni(0, static_cast<int>(width - 300)),
                  gy = d.Uni(40, static_cast<int>(height - 200));
    for (int64_t y = gy; y < gy + 200; ++y) {
      for (int64_t x = gx; x < gx + 300; ++x) {
        uint8_t* px = &img.rgb[static_cast<size_t>((y * width + x) * 3)];
        px[0] = static_cast<uint8_t>((x - gx) * 255 / 300);
        px[1] = static_cast<uint8_t>((y - gy) * 255 / 200);
        px[2] = 128;
      }
    }
  }
}

}  // namespace

void FillRect(Image& img, int64_t x0, int64_t y0, int64_t w, int64_t h, const uint8_t c[3]) {
  for (int64_t y = std::max<int64_t>(0, y0); y < std::min(img.height, y0 + h); ++y) {
    for (int64_t x = std::max<int64_t>(0, x0); x < std::min(img.width, x0 + w); ++x) {
      uint8_t* p = &img.rgb[static_cast<size_t>((y * img.width + x) * 3)];
      p[0] = c[0];
      p[1] = c[1];
      p[2] = c[2];
    }
  }
}

Image MakeScreenshot(uint32_t seed, int64_t width, int64_t height) {
  Image img{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  Dice d(seed);
  DrawFrame(img, d);
  DrawContent(img, d);
  return img;
}

Image MakeAppPage(uint32_t app_seed, uint32_t page_seed, int64_t width, int64_t height) {
  Image img{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  Dice frame(app_seed);
  DrawFrame(img, frame);
  Dice content(page_seed * 2654435761u + app_seed);
  DrawContent(img, content);
  return img;
}

}  // namespace ocular::features::testing
