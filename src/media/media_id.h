// Media id: SHA-256 over a canonical, versioned encoding of everything that determines the
// model's input for one image or video (RELIABILITY.md: complete, collision-resistant keys).
// Fields are tagged and length-prefixed so no two different inputs share an encoding.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "media/image.h"
#include "media/patchify.h"

namespace ocular::media {

struct MediaId {
  Sha256Digest digest{};
  std::string Hex() const { return ToHex(digest); }
  bool operator==(const MediaId&) const = default;
};

struct MediaIdInputs {
  std::string_view kind;       // "image" or "video"
  int32_t source_height = 0;   // decoded size before resizing
  int32_t source_width = 0;
  int64_t min_pixels = 0;      // pixel budget used by smart_resize
  int64_t max_pixels = 0;
  int32_t resized_height = 0;
  int32_t resized_width = 0;
  std::string_view resample;   // "pil_bicubic" or "torch_aa_bicubic"
  Normalization normalization = Normalization::kSlowRescaleThenNormalize;
  std::span<const int64_t> frame_indices;  // video: sampled source frames
  std::span<const RgbImage* const> frames; // the resized u8 frames fed to patchify
};

MediaId ComputeMediaId(const MediaIdInputs& in);

}  // namespace ocular::media
