// torch/torchvision antialiased bicubic resize of uint8 images (the HF *video* processor
// path, golden README §3): `interpolate(mode="bicubic", antialias=True, align_corners=False)`
// computed in float32, then clamp to [0, 255] and round half-to-even back to uint8.
// Separable like torch's CPU kernel: width pass first into a float temporary, then height.
// Kernel a = -0.5 (PIL-compatible), support 2 x max(scale, 1), weights normalised to sum 1
// in float32; taps accumulated in order in float32.
#pragma once

#include <cstdint>

#include "media/image.h"

namespace ocular {
class ThreadPool;
}

namespace ocular::media {

RgbImage TorchAntialiasBicubicResize(const RgbImage& in, int32_t out_width, int32_t out_height,
                                     ThreadPool* pool = nullptr);

}  // namespace ocular::media
