#include "analysis/test_video.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <memory>

namespace ocular::analysis::testing {
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

// Y'CbCr 4:2:0: a background whose luma/chroma depend on the second, and a 16x16 square
// moving one pixel per frame.
void Fill(AVFrame* f, int i, int fps) {
  const int sec = i / fps;
  const int w = f->width, h = f->height;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const bool square = x >= (i % w) && x < (i % w) + 16 && y >= h / 4 && y < h / 4 + 16;
      f->data[0][y * f->linesize[0] + x] = uint8_t(square ? 235 : 40 + (sec * 37) % 150);
    }
  }
  for (int y = 0; y < h / 2; ++y) {
    for (int x = 0; x < w / 2; ++x) {
      f->data[1][y * f->linesize[1] + x] = uint8_t(64 + (sec * 53) % 128);
      f->data[2][y * f->linesize[2] + x] = uint8_t(192 - (sec * 29) % 128);
    }
  }
}

}  // namespace

Status WriteTestVideo(const std::filesystem::path& path, int width, int height, int fps, int seconds, int gop) {
  if (width <= 0 || height <= 0 || width % 2 || height % 2 || fps <= 0 || seconds <= 0) {
    return InvalidArgument("bad test video size");
  }
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (codec == nullptr) return Unimplemented("no MPEG-4 encoder");
  Encoder e;
  if (avformat_alloc_output_context2(&e.oc, nullptr, "mp4", path.c_str()) < 0) return Internal("mp4 muxer");
  AVStream* st = avformat_new_stream(e.oc, nullptr);
  e.enc = avcodec_alloc_context3(codec);
  if (st == nullptr || e.enc == nullptr) return ResourceExhausted("out of memory");
  e.enc->width = width;
  e.enc->height = height;
  e.enc->time_base = AVRational{1, fps};
  e.enc->framerate = AVRational{fps, 1};
  e.enc->pix_fmt = AV_PIX_FMT_YUV420P;
  e.enc->gop_size = gop;
  e.enc->max_b_frames = 0;
  e.enc->bit_rate = 200'000;
  e.enc->thread_count = 1;
  if (e.oc->oformat->flags & AVFMT_GLOBALHEADER) e.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (avcodec_open2(e.enc, codec, nullptr) < 0) return Internal("cannot open the encoder");
  if (avcodec_parameters_from_context(st->codecpar, e.enc) < 0) return Internal("codec parameters");
  st->time_base = e.enc->time_base;
  st->avg_frame_rate = e.enc->framerate;
  if (avio_open(&e.oc->pb, path.c_str(), AVIO_FLAG_WRITE) < 0) return InvalidArgument("cannot write the video");
  if (avformat_write_header(e.oc, nullptr) < 0) return Internal("mp4 header");
  e.frame = av_frame_alloc();
  e.pkt = av_packet_alloc();
  if (e.frame == nullptr || e.pkt == nullptr) return ResourceExhausted("out of memory");
  e.frame->format = e.enc->pix_fmt;
  e.frame->width = width;
  e.frame->height = height;
  if (av_frame_get_buffer(e.frame, 0) < 0) return ResourceExhausted("out of memory");
  auto drain = [&]() -> Status {
    while (avcodec_receive_packet(e.enc, e.pkt) == 0) {
      av_packet_rescale_ts(e.pkt, e.enc->time_base, st->time_base);
      e.pkt->stream_index = st->index;
      if (av_interleaved_write_frame(e.oc, e.pkt) < 0) return Internal("mp4 write");
    }
    return OkStatus();
  };
  for (int i = 0; i < fps * seconds; ++i) {
    if (av_frame_make_writable(e.frame) < 0) return Internal("frame");
    Fill(e.frame, i, fps);
    e.frame->pts = i;
    if (avcodec_send_frame(e.enc, e.frame) < 0) return Internal("encode");
    RETURN_IF_ERROR(drain());
  }
  avcodec_send_frame(e.enc, nullptr);
  RETURN_IF_ERROR(drain());
  if (av_write_trailer(e.oc) < 0) return Internal("mp4 trailer");
  return OkStatus();
}

}  // namespace ocular::analysis::testing
