// `ocular preprocess --image FILE | --video FILE [--min-pixels N] [--max-pixels N] [--fps F]
//  --out FILE.f32`: runs the media pipeline on one file, writes pixel_values as raw
// little-endian float32 ([num_patches][1536], HF patch order) and prints a JSON summary.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "base/thread_pool.h"
#include "media/image.h"
#include "media/image_preprocess.h"
#include "media/video_decoder.h"
#include "media/video_preprocess.h"

namespace ocular::cli {
namespace {

struct PreprocessOptions {
  std::string image;
  std::string video;
  std::string out;
  std::optional<int64_t> min_pixels;
  std::optional<int64_t> max_pixels;
  std::optional<double> fps;
  int64_t short_side_cap = 0;
  int threads = 0;
};

Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open the input file");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) return DataLoss("cannot read the input file");
  if (static_cast<uint64_t>(size) > max_bytes) return ResourceExhausted("input file exceeds the size limit");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!f) return DataLoss("cannot read the input file");
  return bytes;
}

Status WriteF32(const std::string& path, const media::PixelValues& pv) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return NotFound("cannot create the output file");
  // x86-64 and AArch64 Linux are little-endian: the floats are written as stored.
  f.write(static_cast<const char*>(pv.data.data()), static_cast<std::streamsize>(pv.num_patches() * media::kPatchDim * 4));
  if (!f) return DataLoss("cannot write the output file");
  return OkStatus();
}

int Run(const PreprocessOptions& o) {
  if (o.image.empty() == o.video.empty()) return Fail("preprocess", "give exactly one of --image or --video");
  ThreadPool pool(o.threads);
  nlohmann::json j;
  if (!o.image.empty()) {
    media::ImageLimits limits;
    auto bytes = ReadWholeFile(o.image, limits.max_input_bytes);
    if (!bytes.ok()) return Fail("preprocess", bytes.status());
    auto decoded = media::DecodeImage(*bytes, limits);
    if (!decoded.ok()) return Fail("preprocess", decoded.status());
    media::ImagePreprocessConfig server;
    if (o.max_pixels) server.max_pixels = *o.max_pixels;
    if (o.min_pixels) server.min_pixels = *o.min_pixels;
    server.short_side_cap = o.short_side_cap;
    if (server.min_pixels <= 0 || server.max_pixels < server.min_pixels) {
      return Fail("preprocess", "need 0 < min-pixels <= max-pixels");
    }
    auto pre = media::PreprocessImage(decoded->rgb, server, &pool);
    if (!pre.ok()) return Fail("preprocess", pre.status());
    Status w = WriteF32(o.out, pre->pixel_values);
    if (!w.ok()) return Fail("preprocess", w);
    j["kind"] = "image";
    j["source_hw"] = {pre->source_height, pre->source_width};
    j["source_mode"] = std::string(decoded->source_mode);
    j["exif_orientation"] = decoded->exif_orientation;
    j["grid_thw"] = pre->pixel_values.grid_thw;
    j["resized_hw"] = {pre->resized.height, pre->resized.width};
    j["short_side_capped"] = pre->short_side_capped;
    j["media_id"] = pre->media_id.Hex();
  } else {
    media::SilenceFfmpegLogging();
    media::VideoLimits limits;
    limits.decoder_threads = pool.num_threads();
    auto bytes = ReadWholeFile(o.video, limits.max_input_bytes);
    if (!bytes.ok()) return Fail("preprocess", bytes.status());
    media::VideoSamplingConfig cfg;
    if (o.fps) cfg.fps = *o.fps;
    if (o.min_pixels) cfg.min_pixels = *o.min_pixels;
    if (o.max_pixels) cfg.max_pixels = *o.max_pixels;
    if (!(cfg.fps > 0) || cfg.min_pixels <= 0 || cfg.max_pixels < cfg.min_pixels) {
      return Fail("preprocess", "need fps > 0 and 0 < min-pixels <= max-pixels");
    }
    auto sampled = media::DecodeVideo(*bytes, limits, cfg);
    if (!sampled.ok()) return Fail("preprocess", sampled.status());
    auto pre = media::PreprocessVideo(*sampled, cfg, &pool);
    if (!pre.ok()) return Fail("preprocess", pre.status());
    Status w = WriteF32(o.out, pre->pixel_values);
    if (!w.ok()) return Fail("preprocess", w);
    j["kind"] = "video";
    j["source_hw"] = {pre->source_height, pre->source_width};
    j["source_fps"] = pre->source_fps;
    j["total_frames"] = sampled->info.total_frames;
    j["codec"] = sampled->info.codec;
    j["grid_thw"] = pre->pixel_values.grid_thw;
    j["resized_hw"] = {pre->resized.height, pre->resized.width};
    j["frame_indices"] = pre->frame_indices;
    j["timestamps"] = pre->timestamps;
    j["media_id"] = pre->media_id.Hex();
  }
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

}  // namespace

void RegisterPreprocess(CLI::App& root, int& exit_code) {
  auto opts = std::make_shared<PreprocessOptions>();
  CLI::App* cmd = root.add_subcommand("preprocess", "Decode and preprocess one image or video like the HF processor");
  cmd->add_option("--image", opts->image, "image file (JPEG, PNG, WebP)");
  cmd->add_option("--video", opts->video, "video file (MP4/MOV, MKV/WebM)");
  cmd->add_option("--min-pixels", opts->min_pixels, "smart_resize minimum pixels (image: per image, video: whole clip)");
  cmd->add_option("--max-pixels", opts->max_pixels, "smart_resize maximum pixels");
  cmd->add_option("--fps", opts->fps, "video sampling rate (default 2)");
  cmd->add_option("--short-side-cap", opts->short_side_cap, "cap on the resized short side of images (0 = off)");
  cmd->add_option("--threads", opts->threads, "threads (0 = all cores)");
  cmd->add_option("--out", opts->out, "output file for pixel_values (raw little-endian float32)")->required();
  cmd->callback([opts, &exit_code] { exit_code = Run(*opts); });
}

}  // namespace ocular::cli
