// bench_media: decode + preprocess of a 1920x1080 JPEG and of a 10 s 720p H.264 clip
// (generated here with libavcodec), median of 5, against the same work done by
// /usr/bin/python3 with Pillow/numpy (bench/pillow_baseline.py) in the same run.
//
//   bench_media [--runs N] [--keep DIR] [--clip FILE.mp4] [--no-baseline]
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/thread_pool.h"
#include "media/image.h"
#include "media/image_preprocess.h"
#include "media/test_clip.h"
#include "media/test_images.h"
#include "media/video_decoder.h"
#include "media/video_preprocess.h"

namespace ocular::media {
namespace {

double CpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

// Median wall-clock ms; *cpu_ms gets the median process CPU ms (all threads), which is what
// to compare on a machine shared with other work.
double MedianMs(int runs, const std::function<void()>& fn, double* cpu_ms = nullptr) {
  std::vector<double> t, c;
  for (int i = 0; i < runs; ++i) {
    const double c0 = CpuMs();
    Stopwatch sw;
    fn();
    t.push_back(sw.ElapsedMs());
    c.push_back(CpuMs() - c0);
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  if (cpu_ms != nullptr) *cpu_ms = c[c.size() / 2];
  return t[t.size() / 2];
}

void WriteFile(const std::filesystem::path& p, const void* data, size_t n) {
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

std::vector<uint8_t> ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A smooth moving scene (gradients, moving boxes) so the encoder output looks like video.
void FillFrame(testing::Yuv420Frame& f) {
  const int t = f.index;
  for (int y = 0; y < f.height; ++y) {
    uint8_t* row = f.y + y * f.y_stride;
    for (int x = 0; x < f.width; ++x) {
      int v = (x + 2 * t) / 6 + (y / 5);
      if (((x + 8 * t) / 80 + y / 80) % 2 == 0) v += 40;
      row[x] = static_cast<uint8_t>(16 + v % 200);
    }
  }
  for (int p = 1; p < 3; ++p) {
    for (int y = 0; y < f.height / 2; ++y) {
      uint8_t* row = (p == 1 ? f.u : f.v) + y * f.c_stride;
      for (int x = 0; x < f.width / 2; ++x) row[x] = static_cast<uint8_t>(128 + ((x * p + y + t) % 64) - 32);
    }
  }
}

// Encodes seconds*fps frames of width x height to an MP4 (libx264 veryfast, GOP 60, its
// default B-frames; MPEG-4 Part 2 without libx264); returns the encoder name or "".
std::string EncodeClip(const std::filesystem::path& path, int width, int height, int fps, int seconds) {
  testing::ClipSpec spec;
  spec.width = width;
  spec.height = height;
  spec.fps = fps;
  spec.frames = fps * seconds;
  spec.bit_rate = 4'000'000;
  spec.fallback_encoder = "mpeg4";
  Result<std::string> name = testing::WriteClip(path, spec, FillFrame);
  return name.ok() ? *name : "";
}

int Main(int argc, char** argv) {
  int runs = 5;
  std::string keep, clip_path;
  bool baseline = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-baseline") == 0) baseline = false;
    else if (i + 1 >= argc) break;
    else if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--keep") == 0) keep = argv[++i];
    else if (std::strcmp(argv[i], "--clip") == 0) clip_path = argv[++i];  // reuse a clip (skips encoding)
  }
  SilenceFfmpegLogging();
  const std::filesystem::path dir =
      keep.empty() ? std::filesystem::temp_directory_path() / ("ocular_bench_media_" + std::to_string(getpid()))
                   : std::filesystem::path(keep);
  std::filesystem::create_directories(dir);

  // Inputs.
  RgbImage scene = testing::Pattern(1920, 1080, 42);
  std::vector<uint8_t> jpeg = testing::EncodeJpeg(scene.data.data(), 1920, 1080, TJPF_RGB, TJSAMP_420, 90);
  WriteFile(dir / "image_1920x1080.jpg", jpeg.data(), jpeg.size());
  Stopwatch enc_sw;
  std::string encoder = "given";
  if (clip_path.empty()) {
    encoder = EncodeClip(dir / "clip_720p_10s.mp4", 1280, 720, 30, 10);
  } else if (std::filesystem::absolute(clip_path) != std::filesystem::absolute(dir / "clip_720p_10s.mp4")) {
    std::filesystem::copy_file(clip_path, dir / "clip_720p_10s.mp4", std::filesystem::copy_options::overwrite_existing);
  }
  if (encoder.empty()) {
    std::fprintf(stderr, "bench_media: no usable video encoder\n");
    return 1;
  }
  std::vector<uint8_t> clip = ReadFile(dir / "clip_720p_10s.mp4");
  std::printf("inputs: JPEG 1920x1080 q90 4:2:0 %zu bytes; MP4 1280x720 30 fps 10 s (%s) %zu bytes, encoded in %.0f ms\n",
              jpeg.size(), encoder.c_str(), clip.size(), enc_sw.ElapsedMs());

  const int cores = ThreadPool::DefaultThreadCount();
  nlohmann::json ours;
  for (int threads : {1, cores}) {
    ThreadPool pool(threads);
    ImageLimits il;
    double decode_ms = MedianMs(runs, [&] { (void)DecodeImage(jpeg, il); });
    auto decoded = DecodeImage(jpeg, il);
    double pre_ms = MedianMs(runs, [&] { (void)PreprocessImage(decoded->rgb, ImagePreprocessConfig{}, &pool); });
    auto ip = PreprocessImage(decoded->rgb, ImagePreprocessConfig{}, &pool);
    double image_cpu = 0, video_cpu = 0, vpre_cpu = 0;
    double image_ms = MedianMs(runs, [&] {
      auto d = DecodeImage(jpeg, il);
      (void)PreprocessImage(d->rgb, ImagePreprocessConfig{}, &pool);
    }, &image_cpu);
    VideoLimits vl;
    vl.decoder_threads = threads;
    VideoSamplingConfig vc;
    double video_ms = MedianMs(runs, [&] {
      auto v = DecodeVideo(clip, vl, vc);
      (void)PreprocessVideo(*v, vc, &pool);
    }, &video_cpu);
    auto v = DecodeVideo(clip, vl, vc);
    if (!v.ok()) {
      std::fprintf(stderr, "bench_media: video decode failed: %s\n", v.status().ToString().c_str());
      return 1;
    }
    {
      // Skipping must select exactly the frames a full sequential decode selects.
      VideoLimits all = vl;
      all.skip_unneeded_frames = false;
      auto full = DecodeVideo(clip, all, vc);
      bool same = full.ok() && full->frames.size() == v->frames.size();
      for (size_t i = 0; same && i < v->frames.size(); ++i) same = full->frames[i].data == v->frames[i].data;
      std::printf("  frames decoded %lld (of %lld), restarts %lld; same frames as a full decode: %s\n",
                  static_cast<long long>(v->decoded_frames), static_cast<long long>(v->info.total_frames),
                  static_cast<long long>(v->seeks), same ? "yes" : "NO");
    }
    double vpre_ms = MedianMs(runs, [&] { (void)PreprocessVideo(*v, vc, &pool); }, &vpre_cpu);
    auto pv = PreprocessVideo(*v, vc, &pool);
    std::printf("ocular (%d thread%s): image decode %.1f ms + preprocess %.1f ms = %.1f ms -> grid [%d,%d,%d]; "
                "video decode+preprocess %.1f ms (preprocess %.1f ms), %zu frames sampled, %lld decoded, grid [%d,%d,%d]\n",
                threads, threads == 1 ? "" : "s", decode_ms, pre_ms, image_ms, ip->pixel_values.grid_thw[0],
                ip->pixel_values.grid_thw[1], ip->pixel_values.grid_thw[2], video_ms, vpre_ms, v->frames.size(),
                static_cast<long long>(v->decoded_frames), pv->pixel_values.grid_thw[0], pv->pixel_values.grid_thw[1],
                pv->pixel_values.grid_thw[2]);
    std::printf("  cpu ms: image %.1f, video %.1f, video preprocess %.1f (fps %.3f, %lld frames)\n", image_cpu, video_cpu,
                vpre_cpu, v->info.fps, static_cast<long long>(v->info.total_frames));
    ours[std::to_string(threads)] = {{"image_ms", image_ms}, {"video_ms", video_ms}, {"video_pre_ms", vpre_ms},
                                     {"image_cpu", image_cpu}, {"video_cpu", video_cpu}, {"video_pre_cpu", vpre_cpu}};
    if (threads == 1) {
      std::vector<uint8_t> raw;
      for (const RgbImage& f : v->frames) raw.insert(raw.end(), f.data.begin(), f.data.end());
      WriteFile(dir / "sampled_frames.rgb", raw.data(), raw.size());
    }
    if (cores == 1) break;
  }

  const std::string cmd = "/usr/bin/python3 " + std::string(OCULAR_SOURCE_DIR) + "/bench/pillow_baseline.py --image " +
                          (dir / "image_1920x1080.jpg").string() + " --video " + (dir / "clip_720p_10s.mp4").string() +
                          " --video-frames " + (dir / "sampled_frames.rgb").string() + " --video-hw 720 1280 --runs " +
                          std::to_string(runs);
  std::string out;
  if (!baseline) {
    if (keep.empty()) std::filesystem::remove_all(dir);
    return 0;
  }
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (fgets(buf, sizeof(buf), p)) out += buf;
    pclose(p);
  }
  auto py = nlohmann::json::parse(out, nullptr, false);
  if (py.is_discarded() || !py.contains("image_ms")) {
    std::printf("pillow baseline unavailable (needs /usr/bin/python3 with PIL and numpy)\n");
  } else {
    std::printf("pillow: image %.1f ms; video %s; video preprocess only (sampled frames given) %.1f ms\n",
                py["image_ms"].get<double>(),
                py.contains("video_ms") ? (std::to_string(py["video_ms"].get<double>()) + " ms (PyAV decode)").c_str()
                                        : py["video_decoder"].get<std::string>().c_str(),
                py["video_preprocess_only_ms"].get<double>());
    std::printf("pillow cpu ms: image %.1f, video %s, video preprocess %.1f\n", py["image_cpu"].get<double>(),
                py.contains("video_cpu") ? std::to_string(py["video_cpu"].get<double>()).c_str() : "-",
                py["video_preprocess_only_cpu"].get<double>());
    for (auto& [threads, o] : ours.items()) {
      for (const char* kind : {"ms", "cpu"}) {
        const bool cpu = std::strcmp(kind, "cpu") == 0;
        auto key = [&](const char* base) { return std::string(base) + (cpu ? "_cpu" : "_ms"); };
        std::printf("ratio pillow/ocular (%s thread%s, %s): image %.1fx", threads.c_str(), threads == "1" ? "" : "s",
                    cpu ? "CPU time" : "wall", py[key("image")].get<double>() / o[key("image")].get<double>());
        if (py.contains("video_ms")) {
          std::printf(", video %.1fx", py[key("video")].get<double>() / o[key("video")].get<double>());
        }
        std::printf(", video preprocess %.1fx\n", py[cpu ? "video_preprocess_only_cpu" : "video_preprocess_only_ms"].get<double>() /
                                                       o[cpu ? "video_pre_cpu" : "video_pre_ms"].get<double>());
      }
    }
  }
  if (keep.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace ocular::media

int main(int argc, char** argv) { return ocular::media::Main(argc, argv); }
