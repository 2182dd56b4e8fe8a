#include "media/test_clip.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
}

namespace ocular::media::testing {
namespace {

struct Encoder {
  AVFormatContext* oc = nullptr;
  AVCodecContext* enc = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* pkt = nullptr;
  ~Encoder() {
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&enc);
    if (oc != nullptr && oc->pb != nullptr) avio_closep(&oc->pb);
    avformat_free_context(oc);
  }
};

}  // namespace

Result<std::string> WriteClip(const std::filesystem::path& path, const ClipSpec& spec,
                              const std::function<void(Yuv420Frame&)>& fill) {
  if (spec.width <= 0 || spec.height <= 0 || spec.width % 2 || spec.height % 2 || spec.fps <= 0 ||
      spec.frames <= 0) {
    return InvalidArgument("bad test clip size");
  }
  const AVCodec* codec = avcodec_find_encoder_by_name(spec.encoder.c_str());
  if (codec == nullptr && !spec.fallback_encoder.empty()) {
    codec = avcodec_find_encoder_by_name(spec.fallback_encoder.c_str());
  }
  if (codec == nullptr) return NotFound("encoder " + spec.encoder + " is not available");
  const bool x264 = std::string(codec->name) == "libx264";
  Encoder e;
  if (avformat_alloc_output_context2(&e.oc, nullptr, spec.container.c_str(), path.c_str()) < 0) {
    return Internal("no " + spec.container + " muxer");
  }
  AVStream* st = avformat_new_stream(e.oc, nullptr);
  e.enc = avcodec_alloc_context3(codec);
  if (st == nullptr || e.enc == nullptr) return ResourceExhausted("out of memory");
  e.enc->width = spec.width;
  e.enc->height = spec.height;
  e.enc->time_base = AVRational{1, spec.fps};
  e.enc->framerate = AVRational{spec.fps, 1};
  e.enc->pix_fmt = AV_PIX_FMT_YUV420P;
  e.enc->gop_size = spec.gop;
  if (spec.max_b_frames >= 0) e.enc->max_b_frames = spec.max_b_frames;
  if (spec.bit_rate > 0) e.enc->bit_rate = spec.bit_rate;
  if (spec.threads > 0) e.enc->thread_count = spec.threads;
  if (e.oc->oformat->flags & AVFMT_GLOBALHEADER) e.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (x264 && !spec.x264_preset.empty()) av_opt_set(e.enc->priv_data, "preset", spec.x264_preset.c_str(), 0);
  if (x264 && !spec.x264_params.empty()) {
    av_opt_set(e.enc->priv_data, "x264-params", spec.x264_params.c_str(), 0);
  }
  if (avcodec_open2(e.enc, codec, nullptr) < 0) return Internal("cannot open the encoder");
  if (avcodec_parameters_from_context(st->codecpar, e.enc) < 0) return Internal("codec parameters");
  st->time_base = e.enc->time_base;
  st->avg_frame_rate = e.enc->framerate;
  if (avio_open(&e.oc->pb, path.c_str(), AVIO_FLAG_WRITE) < 0) return InvalidArgument("cannot write the clip");
  if (avformat_write_header(e.oc, nullptr) < 0) return Internal("cannot write the header");
  e.frame = av_frame_alloc();
  e.pkt = av_packet_alloc();
  if (e.frame == nullptr || e.pkt == nullptr) return ResourceExhausted("out of memory");
  e.frame->format = e.enc->pix_fmt;
  e.frame->width = spec.width;
  e.frame->height = spec.height;
  if (av_frame_get_buffer(e.frame, 0) < 0) return ResourceExhausted("out of memory");
  auto drain = [&]() -> Status {
    while (avcodec_receive_packet(e.enc, e.pkt) == 0) {
      av_packet_rescale_ts(e.pkt, e.enc->time_base, st->time_base);
      e.pkt->stream_index = st->index;
      if (av_interleaved_write_frame(e.oc, e.pkt) < 0) return Internal("cannot write a packet");
    }
    return OkStatus();
  };
  for (int i = 0; i < spec.frames; ++i) {
    if (av_frame_make_writable(e.frame) < 0) return ResourceExhausted("out of memory");
    Yuv420Frame f;
    f.index = i;
    f.width = spec.width;
    f.height = spec.height;
    f.y = e.frame->data[0];
    f.u = e.frame->data[1];
    f.v = e.frame->data[2];
    f.y_stride = e.frame->linesize[0];
    f.c_stride = e.frame->linesize[1];
    fill(f);
    e.frame->pts = i;
    e.frame->pict_type = f.force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    if (avcodec_send_frame(e.enc, e.frame) < 0) return Internal("encode failed");
    RETURN_IF_ERROR(drain());
  }
  avcodec_send_frame(e.enc, nullptr);
  RETURN_IF_ERROR(drain());
  if (av_write_trailer(e.oc) < 0) return Internal("cannot write the trailer");
  return std::string(codec->name);
}

}  // namespace ocular::media::testing
