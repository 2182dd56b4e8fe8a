// Content sniffing from magic bytes: the declared type of untrusted media is never trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "media/image.h"

namespace ocular::media {

std::optional<ImageFormat> SniffImageFormat(std::span<const uint8_t> bytes);

enum class VideoContainer : uint8_t { kMp4 = 1, kMatroska = 2 };  // mp4/mov, mkv/webm
std::optional<VideoContainer> SniffVideoContainer(std::span<const uint8_t> bytes);

// Normalised MIME check: "image/jpeg" and "image/jpg" both mean JPEG; parameters after ';'
// and ASCII case are ignored.
bool MimeMatchesImage(std::string_view mime, ImageFormat format);

}  // namespace ocular::media
