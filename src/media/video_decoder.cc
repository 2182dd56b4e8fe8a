#include "media/video_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "media/sniff.h"

namespace ocular::media {
namespace {

// Demuxer names as FFmpeg spells them (the mov demuxer covers mp4/mov).
constexpr const char* kDemuxerAllowList = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm";
constexpr const char* kDecoderAllowList =
    "h264,hevc,vp8,vp9,av1,libdav1d,libaom-av1,ffv1,mjpeg,png,rawvideo,mpeg4";
constexpr int kIoBufferSize = 64 * 1024;

bool CodecAllowed(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_HEVC:
    case AV_CODEC_ID_VP8:
    case AV_CODEC_ID_VP9:
    case AV_CODEC_ID_AV1:
    case AV_CODEC_ID_FFV1:
    case AV_CODEC_ID_MJPEG:
    case AV_CODEC_ID_PNG:
    case AV_CODEC_ID_RAWVIDEO:
    case AV_CODEC_ID_MPEG4:
      return true;
    default:
      return false;
  }
}

struct MemoryInput {
  const uint8_t* data = nullptr;
  int64_t size = 0;
  int64_t pos = 0;
};

int ReadMemory(void* opaque, uint8_t* buf, int n) {
  auto* m = static_cast<MemoryInput*>(opaque);
  const int64_t left = m->size - m->pos;
  if (left <= 0 || n <= 0) return AVERROR_EOF;
  const int k = static_cast<int>(std::min<int64_t>(left, n));
  std::memcpy(buf, m->data + m->pos, static_cast<size_t>(k));
  m->pos += k;
  return k;
}

int64_t SeekMemory(void* opaque, int64_t offset, int whence) {
  auto* m = static_cast<MemoryInput*>(opaque);
  if (whence & AVSEEK_SIZE) return m->size;
  whence &= ~AVSEEK_FORCE;
  int64_t base = 0;
  if (whence == SEEK_SET) {
    base = 0;
  } else if (whence == SEEK_CUR) {
    base = m->pos;
  } else if (whence == SEEK_END) {
    base = m->size;
  } else {
    return AVERROR(EINVAL);
  }
  int64_t target = 0;
  if (__builtin_add_overflow(base, offset, &target) || target < 0 || target > m->size) {
    return AVERROR(EINVAL);
  }
  m->pos = target;
  return target;
}

// No demuxer may open a second resource (external references, playlists, segments).
int RefuseIoOpen(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

// One video packet of the chosen stream, in decode order (from a demux-only scan).
struct PacketEntry {
  int64_t pts = AV_NOPTS_VALUE;
  bool key = false;
  bool discard = false;  // decoded (may be a reference) but never output (e.g. before an edit list)
};

// One open container + decoder; owns every FFmpeg object (released in the destructor).
class VideoReader {
 public:
  VideoReader() = default;
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;
  ~VideoReader() { Close(); }

  // `with_decoder` false: demuxer only (no stream probing, no decoder), for packet scans.
  Status Open(std::span<const uint8_t> bytes, const VideoLimits& limits, bool with_decoder = true);
  Result<int64_t> CountPackets(int64_t cap);
  Status DecodeSampled(const std::vector<int64_t>& targets, const VideoLimits& limits, SampledVideo& out);

  VideoInfo info;

 private:
  void Close();
  // Closes and reopens on the same bytes (decoder and demuxer back at the start); keeps info.
  Status Reopen(const VideoLimits& limits);
  // Every packet of stream `stream` in decode order (demux only; cap on the count).
  Result<std::vector<PacketEntry>> ScanPackets(const VideoLimits& limits);
  // Decodes only what the sampled frames need: runs of packets that no target depends on are
  // not read into the decoder (the decoder restarts at the clean keyframe before the next
  // target), and frames outside the targets that nothing references are not decoded
  // (AVDISCARD_NONREF). Frames are identified by timestamp. Sets `retry` (and returns) when the
  // stream does not allow this (missing or repeated timestamps) or a target did not come out.
  Status DecodeSkipping(const std::vector<int64_t>& targets, const VideoLimits& limits, SampledVideo& out,
                        bool& retry);
  // Decodes every frame from the start, identifying frames by their count (HF's pyav loop).
  Status DecodeSequentially(const std::vector<int64_t>& targets, const VideoLimits& limits, SampledVideo& out);
  // Sends the packet in packet_ (nullptr: drain) and handles every frame that comes out:
  // `on_frame` gets each decoded frame (frame size already checked).
  template <typename OnFrame>
  Status SendAndReceive(const AVPacket* pkt, const VideoLimits& limits, SampledVideo& out, OnFrame&& on_frame);
  Result<RgbImage> ToRgb(const AVFrame* frame);

  std::span<const uint8_t> bytes_;
  MemoryInput mem_;
  AVIOContext* avio_ = nullptr;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* decoder_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  SwsContext* sws_ = nullptr;
  int stream_ = -1;
  bool packets_read_ = false;  // av_read_frame was called on this demuxer
  AVRational time_base_{0, 1};
  AVRational frame_rate_{0, 1};
};

void VideoReader::Close() {
  sws_freeContext(sws_);
  sws_ = nullptr;
  av_frame_free(&frame_);
  av_packet_free(&packet_);
  avcodec_free_context(&decoder_);
  avformat_close_input(&format_);  // does not free the custom AVIOContext
  if (avio_ != nullptr) {
    av_freep(&avio_->buffer);
    avio_context_free(&avio_);
  }
  stream_ = -1;
  packets_read_ = false;
}

Status VideoReader::Reopen(const VideoLimits& limits) {
  const VideoInfo keep = info;
  Close();
  RETURN_IF_ERROR(Open(bytes_, limits));
  info = keep;
  return OkStatus();
}

Status VideoReader::Open(std::span<const uint8_t> bytes, const VideoLimits& limits, bool with_decoder) {
  bytes_ = bytes;
  mem_ = MemoryInput{bytes.data(), static_cast<int64_t>(bytes.size()), 0};
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return ResourceExhausted("out of memory");
  avio_ = avio_alloc_context(buffer, kIoBufferSize, 0, &mem_, ReadMemory, nullptr, SeekMemory);
  if (avio_ == nullptr) {
    av_free(buffer);
    return ResourceExhausted("out of memory");
  }
  AVFormatContext* fmt = avformat_alloc_context();
  if (fmt == nullptr) return ResourceExhausted("out of memory");
  fmt->pb = avio_;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  fmt->format_whitelist = av_strdup(kDemuxerAllowList);
  fmt->codec_whitelist = av_strdup(kDecoderAllowList);
  fmt->protocol_whitelist = av_strdup("none");
  fmt->io_open = RefuseIoOpen;
  fmt->probesize = 1 << 20;
  fmt->max_analyze_duration = 10 * int64_t{AV_TIME_BASE};
  fmt->max_streams = 16;
  if (avformat_open_input(&fmt, nullptr, nullptr, nullptr) < 0) {
    // avformat_open_input frees a user-supplied context on failure.
    return InvalidArgument("not a supported video container (MP4/MOV, Matroska/WebM)");
  }
  format_ = fmt;
  if (!with_decoder) {
    packet_ = av_packet_alloc();
    return packet_ == nullptr ? ResourceExhausted("out of memory") : OkStatus();
  }
  if (avformat_find_stream_info(format_, nullptr) < 0) return DataLoss("corrupt video container");
  stream_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream_ < 0) return InvalidArgument("no video stream");
  const AVStream* st = format_->streams[stream_];
  const AVCodecParameters* par = st->codecpar;
  if (!CodecAllowed(par->codec_id)) return InvalidArgument("unsupported video codec");
  if (par->width <= 0 || par->height <= 0) return DataLoss("video stream has no frame size");
  if (static_cast<uint64_t>(par->width) > limits.max_side ||
      static_cast<uint64_t>(par->height) > limits.max_side ||
      static_cast<uint64_t>(par->width) * static_cast<uint64_t>(par->height) > limits.max_frame_pixels) {
    return ResourceExhausted("video frame size exceeds the limit");
  }
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (codec == nullptr) return Unimplemented("no decoder for the video codec");
  decoder_ = avcodec_alloc_context3(codec);
  if (decoder_ == nullptr) return ResourceExhausted("out of memory");
  if (avcodec_parameters_to_context(decoder_, par) < 0) return DataLoss("corrupt video codec parameters");
  // Frame threads (both cores by default): packets that are not needed are skipped per packet
  // (skip_frame is handed to each frame thread with its packet).
  decoder_->thread_count = std::max(1, limits.decoder_threads);
  decoder_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  decoder_->max_pixels = static_cast<int64_t>(limits.max_frame_pixels);
  decoder_->codec_whitelist = av_strdup(kDecoderAllowList);
  if (avcodec_open2(decoder_, codec, nullptr) < 0) return DataLoss("cannot open the video decoder");
  frame_ = av_frame_alloc();
  packet_ = av_packet_alloc();
  if (frame_ == nullptr || packet_ == nullptr) return ResourceExhausted("out of memory");

  time_base_ = st->time_base;
  frame_rate_ = st->avg_frame_rate;
  if (frame_rate_.num <= 0 || frame_rate_.den <= 0) frame_rate_ = st->r_frame_rate;
  if (frame_rate_.num <= 0 || frame_rate_.den <= 0) frame_rate_ = AVRational{24, 1};
  info.width = par->width;
  info.height = par->height;
  info.fps = av_q2d(frame_rate_);
  info.codec = codec->name;
  info.total_frames = st->nb_frames > 0 ? st->nb_frames : 0;
  info.frame_count_from_header = st->nb_frames > 0;
  return OkStatus();
}

Result<int64_t> VideoReader::CountPackets(int64_t cap) {
  int64_t n = 0;
  while (true) {
    packets_read_ = true;
    int rc = av_read_frame(format_, packet_);
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return DataLoss("corrupt video data");
    if (packet_->stream_index == stream_) ++n;
    av_packet_unref(packet_);
    if (n > cap) return ResourceExhausted("video has too many frames");
  }
  return n;
}

Result<RgbImage> VideoReader::ToRgb(const AVFrame* f) {
  const auto src_format = static_cast<AVPixelFormat>(f->format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(src_format);
  if (desc == nullptr) return DataLoss("video frame has an unknown pixel format");
  sws_ = sws_getCachedContext(sws_, f->width, f->height, src_format, f->width, f->height, AV_PIX_FMT_RGB24,
                              SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_BITEXACT, nullptr,
                              nullptr, nullptr);
  if (sws_ == nullptr) return Unimplemented("unsupported video pixel format");
  if ((desc->flags & AV_PIX_FMT_FLAG_RGB) == 0) {
    // YUV: use the stream's matrix and range (BT.601 limited when unspecified).
    int cs = SWS_CS_DEFAULT;
    switch (f->colorspace) {
      case AVCOL_SPC_BT709: cs = SWS_CS_ITU709; break;
      case AVCOL_SPC_BT2020_NCL:
      case AVCOL_SPC_BT2020_CL: cs = SWS_CS_BT2020; break;
      case AVCOL_SPC_SMPTE240M: cs = SWS_CS_SMPTE240M; break;
      case AVCOL_SPC_FCC: cs = SWS_CS_FCC; break;
      default: break;
    }
    const int full_range = f->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
    sws_setColorspaceDetails(sws_, sws_getCoefficients(cs), full_range, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                             0, 1 << 16, 1 << 16);
  }
  RgbImage rgb;
  rgb.width = f->width;
  rgb.height = f->height;
  rgb.data.resize(rgb.num_bytes() + 64);  // slack for vectorised row writes
  uint8_t* dst[4] = {rgb.data.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {f->width * 3, 0, 0, 0};
  if (sws_scale(sws_, f->data, f->linesize, 0, f->height, dst, dst_stride) != f->height) {
    return DataLoss("video frame conversion failed");
  }
  rgb.data.resize(rgb.num_bytes());
  return rgb;
}

Result<std::vector<PacketEntry>> VideoReader::ScanPackets(const VideoLimits& limits) {
  VideoReader scan;
  RETURN_IF_ERROR(scan.Open(bytes_, limits, /*with_decoder=*/false));
  if (stream_ < 0 || stream_ >= static_cast<int>(scan.format_->nb_streams)) {
    return DataLoss("corrupt video container");
  }
  std::vector<PacketEntry> packets;
  while (true) {
    int rc = av_read_frame(scan.format_, scan.packet_);
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return DataLoss("corrupt video data");
    if (scan.packet_->stream_index == stream_) {
      packets.push_back(PacketEntry{scan.packet_->pts, (scan.packet_->flags & AV_PKT_FLAG_KEY) != 0,
                                    (scan.packet_->flags & AV_PKT_FLAG_DISCARD) != 0});
    }
    av_packet_unref(scan.packet_);
    if (static_cast<int64_t>(packets.size()) > limits.max_total_frames) {
      return ResourceExhausted("video has too many frames");
    }
  }
  return packets;
}

template <typename OnFrame>
Status VideoReader::SendAndReceive(const AVPacket* pkt, const VideoLimits& limits, SampledVideo& out,
                                   OnFrame&& on_frame) {
  int rc = avcodec_send_packet(decoder_, pkt);
  if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) return DataLoss("corrupt video data");
  while (true) {
    rc = avcodec_receive_frame(decoder_, frame_);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return OkStatus();
    if (rc < 0) return DataLoss("corrupt video data");
    if (++out.decoded_frames > limits.max_decoded_frames) {
      av_frame_unref(frame_);
      return ResourceExhausted("video decoding exceeded its frame budget");
    }
    if (frame_->width != info.width || frame_->height != info.height) {
      av_frame_unref(frame_);
      return DataLoss("video frame size differs from the stream header");
    }
    Status st = on_frame(frame_);
    av_frame_unref(frame_);
    RETURN_IF_ERROR(st);
  }
}

Status VideoReader::DecodeSequentially(const std::vector<int64_t>& targets, const VideoLimits& limits,
                                       SampledVideo& out) {
  out.frames.clear();
  size_t next = 0;
  int64_t index = -1;
  auto on_frame = [&](const AVFrame* f) -> Status {
    ++index;
    if (next < targets.size() && index >= targets[next]) {
      ASSIGN_OR_RETURN(RgbImage rgb, ToRgb(f));
      while (next < targets.size() && index >= targets[next]) {
        out.frames.push_back(rgb);
        ++next;
      }
    }
    return OkStatus();
  };
  bool eof = false;
  while (next < targets.size() && !eof) {
    packets_read_ = true;
    int rc = av_read_frame(format_, packet_);
    if (rc == AVERROR_EOF) {
      eof = true;
      RETURN_IF_ERROR(SendAndReceive(nullptr, limits, out, on_frame));  // drain
      continue;
    }
    if (rc < 0) return DataLoss("corrupt video data");
    if (packet_->stream_index != stream_) {
      av_packet_unref(packet_);
      continue;
    }
    Status st = SendAndReceive(packet_, limits, out, on_frame);
    av_packet_unref(packet_);
    RETURN_IF_ERROR(st);
  }
  if (next < targets.size()) return DataLoss("video has fewer frames than its header declares");
  return OkStatus();
}

Status VideoReader::DecodeSkipping(const std::vector<int64_t>& targets, const VideoLimits& limits,
                                   SampledVideo& out, bool& retry) {
  retry = true;
  ASSIGN_OR_RETURN(std::vector<PacketEntry> packets, ScanPackets(limits));
  const int64_t n = static_cast<int64_t>(packets.size());
  // Display order = timestamp order; frame i of the clip (what counting decoded frames gives)
  // is the packet with the i-th smallest timestamp. Needs unique, present timestamps.
  // Packets flagged discard are decoded but never output: they are not frames of the clip.
  std::vector<int64_t> by_pts;  // [frames] decode indices in display order
  for (int64_t j = 0; j < n; ++j) {
    if (packets[j].pts == AV_NOPTS_VALUE) return OkStatus();
    if (!packets[j].discard) by_pts.push_back(j);
  }
  std::sort(by_pts.begin(), by_pts.end(), [&](int64_t a, int64_t b) { return packets[a].pts < packets[b].pts; });
  const int64_t frames = static_cast<int64_t>(by_pts.size());
  for (int64_t i = 1; i < frames; ++i) {
    if (packets[by_pts[i]].pts == packets[by_pts[i - 1]].pts) return OkStatus();
  }
  if (targets.back() >= frames) {
    retry = false;
    return DataLoss("video has fewer frames than its header declares");
  }
  // A clean keyframe starts a run that decodes on its own: no later packet before the next
  // keyframe shows earlier than it (open-GOP leading frames would need the previous GOP).
  std::vector<bool> clean(static_cast<size_t>(n), false);  // [n], decode order
  for (int64_t j = n - 1, min_after = INT64_MAX; j >= 0; --j) {
    if (packets[j].key) {
      clean[j] = packets[j].pts <= min_after;
      min_after = INT64_MAX;
    }
    min_after = std::min(min_after, packets[j].pts);
  }
  // send[j]: packet j goes to the decoder, i.e. it lies between a target's packet and the
  // last clean keyframe at or before it.
  // (Runs overlap only by containing each other's start, so marking backwards can stop at the
  // first packet already marked.)
  std::vector<int64_t> run_start(static_cast<size_t>(n));  // [n] last clean keyframe <= j, else 0
  for (int64_t j = 0, k = 0; j < n; ++j) run_start[j] = k = clean[j] ? j : k;
  std::vector<bool> send(static_cast<size_t>(n), false);  // [n], decode order
  std::vector<int64_t> wanted_pts;                        // target timestamps
  for (int64_t t : targets) {
    const int64_t d = by_pts[t];
    wanted_pts.push_back(packets[d].pts);
    for (int64_t j = d; j >= run_start[d] && !send[j]; --j) send[j] = true;
  }
  std::sort(wanted_pts.begin(), wanted_pts.end());
  wanted_pts.erase(std::unique(wanted_pts.begin(), wanted_pts.end()), wanted_pts.end());
  auto wanted = [&](int64_t pts) { return std::binary_search(wanted_pts.begin(), wanted_pts.end(), pts); };

  // The scan used its own demuxer; this one must still be at the start (packets read while
  // probing stream info are replayed by av_read_frame).
  if (packets_read_) RETURN_IF_ERROR(Reopen(limits));
  out.frames.assign(targets.size(), RgbImage{});
  std::vector<bool> got(targets.size(), false);
  size_t missing = targets.size();
  auto on_frame = [&](const AVFrame* f) -> Status {
    const int64_t pts = f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE || !wanted(pts)) return OkStatus();
    const auto it = std::lower_bound(by_pts.begin(), by_pts.end(), pts,
                                     [&](int64_t j, int64_t v) { return packets[j].pts < v; });
    const int64_t index = it - by_pts.begin();
    std::vector<size_t> slots;  // targets showing this frame (more than one only if repeated)
    for (size_t k = 0; k < targets.size(); ++k) {
      if (targets[k] == index && !got[k]) slots.push_back(k);
    }
    if (slots.empty()) return OkStatus();
    ASSIGN_OR_RETURN(RgbImage rgb, ToRgb(f));
    for (size_t i = 0; i < slots.size(); ++i) {
      out.frames[slots[i]] = i + 1 < slots.size() ? rgb : std::move(rgb);
      got[slots[i]] = true;
      --missing;
    }
    return OkStatus();
  };
  int64_t j = 0;
  int64_t last_needed = 0;
  for (int64_t t : targets) last_needed = std::max(last_needed, by_pts[t]);
  bool decoder_open = true;  // false after a drain: the decoder needs a flush before new packets
  while (j <= last_needed && missing > 0) {
    packets_read_ = true;
    int rc = av_read_frame(format_, packet_);
    if (rc < 0) break;  // EOF or damage before the last target: the sequential path decides
    if (packet_->stream_index != stream_) {
      av_packet_unref(packet_);
      continue;
    }
    if (packet_->pts != packets[j].pts) {  // not the packet sequence the scan saw
      av_packet_unref(packet_);
      return OkStatus();
    }
    if (!send[j]) {
      // A run nobody needs: finish what is in flight, then restart at the next keyframe.
      if (decoder_open) {
        RETURN_IF_ERROR(SendAndReceive(nullptr, limits, out, on_frame));
        decoder_open = false;
        ++out.seeks;
      }
    } else {
      if (!decoder_open) {
        avcodec_flush_buffers(decoder_);
        decoder_open = true;
      }
      decoder_->skip_frame = wanted(packet_->pts) ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
      Status st = SendAndReceive(packet_, limits, out, on_frame);
      if (!st.ok()) {
        av_packet_unref(packet_);
        return st;
      }
    }
    av_packet_unref(packet_);
    ++j;
  }
  if (decoder_open && missing > 0) RETURN_IF_ERROR(SendAndReceive(nullptr, limits, out, on_frame));
  if (missing == 0) retry = false;
  return OkStatus();
}

Status VideoReader::DecodeSampled(const std::vector<int64_t>& targets, const VideoLimits& limits,
                                  SampledVideo& out) {
  if (targets.empty()) return OkStatus();
  if (limits.skip_unneeded_frames) {
    bool retry = false;
    Status st = DecodeSkipping(targets, limits, out, retry);
    if (!retry) return st;
    // The stream does not allow skipping: start over and decode everything.
    if (packets_read_) RETURN_IF_ERROR(Reopen(limits));
  }
  return DecodeSequentially(targets, limits, out);
}

}  // namespace

Result<SampledVideo> DecodeVideo(std::span<const uint8_t> bytes, const VideoLimits& limits,
                                 const VideoSamplingConfig& sampling) {
  if (bytes.empty()) return InvalidArgument("empty video data");
  if (bytes.size() > limits.max_input_bytes) return ResourceExhausted("video data exceeds the size limit");
  // Our own sniffing first: playlists (#EXTM3U), HTML and other text never reach a demuxer.
  if (!SniffVideoContainer(bytes)) return InvalidArgument("not a supported video container (MP4/MOV, Matroska/WebM)");

  // The reader is heap-allocated: FFmpeg keeps pointers into it (the AVIO opaque).
  auto reader = std::make_unique<VideoReader>();
  RETURN_IF_ERROR(reader->Open(bytes, limits));
  VideoInfo info = reader->info;
  if (!info.frame_count_from_header) {
    // No count in the header (e.g. Matroska): count the stream's packets (demux only), then
    // start over with a fresh reader for decoding.
    ASSIGN_OR_RETURN(info.total_frames, reader->CountPackets(limits.max_total_frames));
    reader = std::make_unique<VideoReader>();
    RETURN_IF_ERROR(reader->Open(bytes, limits));
    reader->info = info;
  }
  if (info.total_frames <= 0) return DataLoss("video has no frames");
  if (info.total_frames > limits.max_total_frames) return ResourceExhausted("video has too many frames");
  if (static_cast<double>(info.total_frames) / info.fps > limits.max_duration_s) {
    return ResourceExhausted("video is longer than the duration limit");
  }
  SampledVideo out;
  out.info = info;
  ASSIGN_OR_RETURN(out.indices, SampleFrameIndices(info.total_frames, info.fps, sampling));
  out.frames.reserve(out.indices.size());
  RETURN_IF_ERROR(reader->DecodeSampled(out.indices, limits, out));
  return out;
}

void SilenceFfmpegLogging() { av_log_set_level(AV_LOG_QUIET); }

Result<SampledVideo> SampleImageSequence(std::vector<RgbImage> frames, double fps,
                                         const VideoSamplingConfig& sampling) {
  if (frames.empty()) return InvalidArgument("empty frame list");
  for (const RgbImage& f : frames) {
    if (f.width != frames[0].width || f.height != frames[0].height) {
      return InvalidArgument("all frames of a video must have the same size");
    }
  }
  SampledVideo out;
  out.info.width = frames[0].width;
  out.info.height = frames[0].height;
  out.info.total_frames = static_cast<int64_t>(frames.size());
  out.info.fps = (fps > 0 && std::isfinite(fps)) ? fps : kDefaultVideoFps;
  out.info.codec = "images";
  ASSIGN_OR_RETURN(out.indices, SampleFrameIndices(out.info.total_frames, out.info.fps, sampling));
  for (int64_t i : out.indices) out.frames.push_back(frames[static_cast<size_t>(i)]);
  return out;
}

// Lazy access for windowed analysis (issue 9): probe once, then decode only the frames one
// window needs, each call with a fresh reader that seeks near its first target.
namespace {

Result<std::unique_ptr<VideoReader>> OpenForFrames(std::span<const uint8_t> bytes, const VideoLimits& limits) {
  if (bytes.empty()) return InvalidArgument("empty video data");
  if (bytes.size() > limits.max_input_bytes) return ResourceExhausted("video data exceeds the size limit");
  if (!SniffVideoContainer(bytes)) return InvalidArgument("not a supported video container (MP4/MOV, Matroska/WebM)");
  auto reader = std::make_unique<VideoReader>();
  RETURN_IF_ERROR(reader->Open(bytes, limits));
  return reader;
}

}  // namespace

Result<VideoInfo> ProbeVideo(std::span<const uint8_t> bytes, const VideoLimits& limits) {
  ASSIGN_OR_RETURN(auto reader, OpenForFrames(bytes, limits));
  VideoInfo info = reader->info;
  if (!info.frame_count_from_header) {
    ASSIGN_OR_RETURN(info.total_frames, reader->CountPackets(limits.max_total_frames));
  }
  if (info.total_frames <= 0) return DataLoss("video has no frames");
  if (info.total_frames > limits.max_total_frames) return ResourceExhausted("video has too many frames");
  if (static_cast<double>(info.total_frames) / info.fps > limits.max_duration_s) {
    return ResourceExhausted("video is longer than the duration limit");
  }
  return info;
}

Result<SampledVideo> DecodeVideoFrames(std::span<const uint8_t> bytes, const VideoLimits& limits,
                                       const VideoInfo& info, std::span<const int64_t> indices) {
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= info.total_frames || (i > 0 && indices[i] < indices[i - 1])) {
      return InvalidArgument("frame indices must be ascending and inside the video");
    }
  }
  ASSIGN_OR_RETURN(auto reader, OpenForFrames(bytes, limits));
  reader->info = info;
  SampledVideo out;
  out.info = info;
  out.indices.assign(indices.begin(), indices.end());
  out.frames.reserve(indices.size());
  RETURN_IF_ERROR(reader->DecodeSampled(out.indices, limits, out));
  return out;
}

}  // namespace ocular::media
