// The skipping video decoder (restarts at clean keyframes, AVDISCARD_NONREF for frames that
// are neither sampled nor referenced) against decoding every frame, on H.264 clips with
// B-frames made here with libx264 (closed GOPs, open GOPs, B-pyramid; forced I-frames every 45
// frames) and windowed requests starting mid-clip. The reference is the sequential path
// (frames identified by their count, as HF's pyav loop does). Whatever the GOP structure,
// the frames must be identical: where a run cannot start at a keyframe cleanly, the clean-
// keyframe rule or the sequential fallback must keep them so.
#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
}

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/video_decoder.h"

namespace ocular::media {
namespace {

// Encodes `frames` frames (moving pattern, 30 fps, 4:2:0) with libx264 into an MP4 (a plain,
// indexed one: written to a temporary file) and returns its bytes; empty when libx264 is
// missing. `x264_params` e.g. "open-gop=1".
std::vector<uint8_t> EncodeH264(int width, int height, int frames, int gop, const char* x264_params) {
  std::vector<uint8_t> mp4;
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) return mp4;
  AVFormatContext* oc = nullptr;
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ocular_skip_test_" + std::to_string(getpid()) + ".mp4");
  if (avformat_alloc_output_context2(&oc, nullptr, "mp4", path.c_str()) < 0) return mp4;
  AVStream* st = avformat_new_stream(oc, nullptr);
  AVCodecContext* enc = avcodec_alloc_context3(codec);
  enc->width = width;
  enc->height = height;
  enc->time_base = AVRational{1, 30};
  enc->framerate = AVRational{30, 1};
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->gop_size = gop;
  enc->max_b_frames = 3;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(enc->priv_data, "preset", "veryfast", 0);
  if (x264_params != nullptr) av_opt_set(enc->priv_data, "x264-params", x264_params, 0);
  bool ok = avcodec_open2(enc, codec, nullptr) >= 0;
  if (ok) {
    avcodec_parameters_from_context(st->codecpar, enc);
    st->time_base = enc->time_base;
    ok = avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE) >= 0 && avformat_write_header(oc, nullptr) >= 0;
  }
  AVFrame* frame = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  frame->format = enc->pix_fmt;
  frame->width = width;
  frame->height = height;
  av_frame_get_buffer(frame, 0);
  auto drain = [&] {
    while (avcodec_receive_packet(enc, pkt) == 0) {
      av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
      pkt->stream_index = st->index;
      av_interleaved_write_frame(oc, pkt);
    }
  };
  for (int i = 0; ok && i < frames; ++i) {
    av_frame_make_writable(frame);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        frame->data[0][y * frame->linesize[0] + x] = static_cast<uint8_t>((x + 3 * i) ^ (y + i / 7));
      }
    }
    for (int p = 1; p < 3; ++p) {
      for (int y = 0; y < height / 2; ++y) {
        for (int x = 0; x < width / 2; ++x) {
          frame->data[p][y * frame->linesize[p] + x] = static_cast<uint8_t>(128 + ((x * p + y + i) % 48) - 24);
        }
      }
    }
    frame->pts = i;
    // Scene cuts every 45 frames force extra keyframes (open-GOP I-frames when enabled).
    frame->pict_type = i % 45 == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    avcodec_send_frame(enc, frame);
    drain();
  }
  if (ok) {
    avcodec_send_frame(enc, nullptr);
    drain();
    av_write_trailer(oc);
  }
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&enc);
  if (oc->pb != nullptr) avio_closep(&oc->pb);
  avformat_free_context(oc);
  if (ok) {
    std::ifstream f(path, std::ios::binary);
    mp4.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::filesystem::remove(path);
  return mp4;
}

void ExpectSameFrames(const SampledVideo& got, const SampledVideo& ref) {
  ASSERT_EQ(got.indices, ref.indices);
  ASSERT_EQ(got.frames.size(), ref.frames.size());
  for (size_t i = 0; i < ref.frames.size(); ++i) {
    EXPECT_TRUE(got.frames[i].data == ref.frames[i].data) << "sampled frame " << i << " = " << ref.indices[i];
  }
}

class VideoSkipTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VideoSkipTest, SameFramesAsDecodingEverything) {
  SilenceFfmpegLogging();
  const std::vector<uint8_t> mp4 = EncodeH264(160, 96, 240, 60, GetParam());
  if (mp4.empty()) GTEST_SKIP() << "libx264 not available";
  VideoLimits all;
  all.skip_unneeded_frames = false;
  VideoSamplingConfig cfg;  // 2 fps of 8 s: 16 frames, every 16th
  auto ref = DecodeVideo(mp4, all, cfg);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->decoded_frames, 240);
  auto got = DecodeVideo(mp4, VideoLimits{}, cfg);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameFrames(*got, *ref);
  EXPECT_LT(got->decoded_frames, 240);  // non-reference B-frames and tails of GOPs skipped

  // Windowed requests (frames from the middle on): the run starts at a clean keyframe.
  VideoInfo info = got->info;
  for (int64_t first : {70, 100, 181}) {
    SCOPED_TRACE(first);
    std::vector<int64_t> idx = {first, first + 5, first + 17};
    auto win = DecodeVideoFrames(mp4, VideoLimits{}, info, idx);
    ASSERT_TRUE(win.ok()) << win.status().ToString();
    auto win_ref = DecodeVideoFrames(mp4, all, info, idx);
    ASSERT_TRUE(win_ref.ok()) << win_ref.status().ToString();
    ExpectSameFrames(*win, *win_ref);
    EXPECT_LT(win->decoded_frames, win_ref->decoded_frames);
  }
}

INSTANTIATE_TEST_SUITE_P(Gops, VideoSkipTest, ::testing::Values("open-gop=0", "open-gop=1", "bframes=3:b-pyramid=2"));

}  // namespace
}  // namespace ocular::media
