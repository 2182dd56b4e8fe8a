// Video decoding through FFmpeg's libraries (no ffmpeg binary, no protocols, no network):
// the container is read from memory through a custom AVIOContext; only the mp4/mov and
// matroska/webm demuxers and an allow-list of decoders are enabled; every header value
// (dimensions, frame count, duration) is checked against VideoLimits before use.
//
// Only what the sampled frames need is decoded: a demux-only pass lists the packets (decode
// order, timestamps, keyframes); runs of packets that no sampled frame depends on are never
// given to the decoder (it restarts at the clean keyframe before the next sampled frame),
// frames that are neither sampled nor referenced are discarded unparsed (AVDISCARD_NONREF),
// only sampled frames are converted to RGB, and decoding stops after the last one. Streams
// without usable timestamps are decoded sequentially (frames identified by their count).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "media/image.h"
#include "media/video_sampling.h"

namespace ocular::media {

struct VideoLimits {
  uint64_t max_input_bytes = 256ull << 20;
  uint32_t max_side = 8'192;
  uint64_t max_frame_pixels = 8'192ull * 4'320;
  int64_t max_total_frames = 216'000;   // 2 h at 30 fps
  double max_duration_s = 7'200.0;
  // Work cap: frames the decoder may produce in total (seeking keeps real use far lower).
  int64_t max_decoded_frames = 216'000;
  int decoder_threads = 2;              // libavcodec frame threads for one video
  // false: decode every frame from the start (the reference behaviour; tests compare).
  bool skip_unneeded_frames = true;
};

struct VideoInfo {
  int32_t width = 0;
  int32_t height = 0;
  int64_t total_frames = 0;       // container count, or packets counted when absent
  double fps = 0;                 // avg_frame_rate (r_frame_rate, else 24)
  bool frame_count_from_header = false;
  const char* codec = "";         // decoder name (static string)
};

struct SampledVideo {
  VideoInfo info;
  std::vector<int64_t> indices;   // sampled source frame indices, ascending
  std::vector<RgbImage> frames;   // [indices.size()] decoded RGB frames
  int64_t decoded_frames = 0;     // frames the decoder produced (work done)
  int64_t seeks = 0;              // decoder restarts at a keyframe (skipped packet runs)
};

// Errors: InvalidArgument (not a supported container/codec, playlist or other text),
// ResourceExhausted (limits), DataLoss (corrupt data, or fewer frames than the header says).
Result<SampledVideo> DecodeVideo(std::span<const uint8_t> bytes, const VideoLimits& limits,
                                 const VideoSamplingConfig& sampling);

// FFmpeg logs to stderr by default (library messages, possibly naming input details); the
// process entry point (CLI, server, tests) calls this once to silence it. Process-wide.
void SilenceFfmpegLogging();

// A list of images used as a video (e.g. PNG frames) at `fps`: all frames must share one size.
Result<SampledVideo> SampleImageSequence(std::vector<RgbImage> frames, double fps,
                                         const VideoSamplingConfig& sampling);

// Lazy decoding (windowed analysis): the container's info (frame count, fps, size) without
// decoding a frame, then only the frames at `indices` (ascending, < info.total_frames), so
// memory follows the number of frames asked for, not the length of the video.
Result<VideoInfo> ProbeVideo(std::span<const uint8_t> bytes, const VideoLimits& limits);
Result<SampledVideo> DecodeVideoFrames(std::span<const uint8_t> bytes, const VideoLimits& limits,
                                       const VideoInfo& info, std::span<const int64_t> indices);

}  // namespace ocular::media
