// Where windowed analysis gets its frames: a source decodes only the frames a window asks
// for, when it asks, so memory is bounded by the window and not by the length of the input.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analysis/window_plan.h"
#include "base/status.h"
#include "media/image.h"
#include "media/video_decoder.h"

namespace ocular::analysis {

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual SourceInfo info() const = 0;
  // RGB frames at `indices` (ascending, repeats allowed, each < total_frames), one per index.
  virtual Result<std::vector<media::RgbImage>> Decode(std::span<const int64_t> indices) = 0;
};

// A list of images used as a video at `fps` frames per second (all the same size). The
// images are held by the caller's list, so this source's memory is the list's.
class ImageListSource final : public FrameSource {
 public:
  static Result<ImageListSource> Create(std::vector<media::RgbImage> frames, double fps);
  SourceInfo info() const override { return {static_cast<int64_t>(frames_.size()), fps_}; }
  Result<std::vector<media::RgbImage>> Decode(std::span<const int64_t> indices) override;

 private:
  ImageListSource(std::vector<media::RgbImage> frames, double fps) : frames_(std::move(frames)), fps_(fps) {}
  std::vector<media::RgbImage> frames_;
  double fps_ = 0;
};

// An encoded video (MP4/MOV, Matroska/WebM) held in memory; each Decode opens the container
// afresh and decodes only the requested frames (seeking near the first), so decoded frames
// never outlive the window that asked for them.
class VideoBytesSource final : public FrameSource {
 public:
  static Result<VideoBytesSource> Create(std::vector<uint8_t> bytes, const media::VideoLimits& limits);
  SourceInfo info() const override { return {info_.total_frames, info_.fps}; }
  const media::VideoInfo& video_info() const { return info_; }
  Result<std::vector<media::RgbImage>> Decode(std::span<const int64_t> indices) override;
  int64_t decoded_frames() const { return decoded_frames_; }  // work done so far

 private:
  VideoBytesSource(std::vector<uint8_t> bytes, const media::VideoLimits& limits, media::VideoInfo info)
      : bytes_(std::move(bytes)), limits_(limits), info_(info) {}
  std::vector<uint8_t> bytes_;
  media::VideoLimits limits_;
  media::VideoInfo info_;
  int64_t decoded_frames_ = 0;
};

}  // namespace ocular::analysis
