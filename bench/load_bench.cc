// bench_load: how long opening + validating a checkpoint takes from a warm page cache.
//
//   bench_load PATH... [--runs N] [--touch]
//
// PATH is a .gguf file, a .safetensors file, or a folder (safetensors checkpoint; any .gguf
// files directly inside are benchmarked too). One untimed run warms the page cache, then N
// timed runs of open+validate (mmap, header parse, every check) report the median and min.
// --touch also times reading every byte of the mapped tensor data once (median of N),
// reported in GB/s, to compare against memory bandwidth.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"

namespace {

namespace fs = std::filesystem;
using ocular::Stopwatch;
using ocular::loader::TensorInfo;

struct Loaded {
  size_t num_tensors = 0;
  uint64_t tensor_bytes = 0;
  uint64_t file_bytes = 0;
  uint64_t checksum = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Sums one byte per 64-byte line plus the last byte: enough to fault in every page and pull
// every cache line, without the sum itself dominating.
uint64_t Touch(const std::vector<TensorInfo>& tensors) {
  uint64_t sum = 0;
  for (const TensorInfo& t : tensors) {
    for (uint64_t i = 0; i < t.size_bytes; i += 64) sum += t.data[i];
    if (t.size_bytes) sum += t.data[t.size_bytes - 1];
  }
  return sum;
}

// Runs `open` (which must fully open and validate, then touch if asked) N+1 times.
int Bench(const std::string& label, int runs, bool touch,
          const std::function<ocular::Result<Loaded>(bool)>& open) {
  auto warm = open(touch);
  if (!warm.ok()) {
    std::fprintf(stderr, "%s: %s\n", label.c_str(), warm.status().ToString().c_str());
    return 1;
  }
  std::vector<double> open_ms, touch_ms;
  for (int i = 0; i < runs; ++i) {
    Stopwatch sw;
    auto r = open(false);
    open_ms.push_back(sw.ElapsedMs());
    if (!r.ok()) return 1;
  }
  if (touch) {
    for (int i = 0; i < runs; ++i) {
      Stopwatch sw;
      auto r = open(true);
      touch_ms.push_back(sw.ElapsedMs());
      if (!r.ok()) return 1;
    }
  }
  const Loaded& l = *warm;
  double med = Median(open_ms);
  std::printf("%s\n  tensors %zu, tensor data %.1f MB, files %.1f MB\n", label.c_str(),
              l.num_tensors, l.tensor_bytes / 1e6, l.file_bytes / 1e6);
  std::printf("  open+validate: median %.3f ms, min %.3f ms (%d runs)\n", med,
              *std::min_element(open_ms.begin(), open_ms.end()), runs);
  if (touch) {
    double t = Median(touch_ms) - med;
    std::printf("  read all tensor data: median %.1f ms, %.2f GB/s (checksum %llx)\n", t,
                t > 0 ? l.tensor_bytes / (t * 1e6) : 0.0,
                static_cast<unsigned long long>(l.checksum));
  }
  return 0;
}

ocular::Result<Loaded> OpenSafetensors(const fs::path& p, bool touch) {
  auto m = ocular::loader::SafetensorsModel::Open(p);
  if (!m.ok()) return m.status();
  Loaded l;
  l.num_tensors = m->tensors().size();
  for (const TensorInfo& t : m->tensors()) l.tensor_bytes += t.size_bytes;
  l.file_bytes = m->total_file_bytes();
  if (touch) l.checksum = Touch(m->tensors());
  return l;
}

ocular::Result<Loaded> OpenGgufFile(const fs::path& p, bool touch) {
  auto g = ocular::loader::OpenGguf(p);
  if (!g.ok()) return g.status();
  Loaded l;
  l.num_tensors = g->tensors().size();
  for (const TensorInfo& t : g->tensors()) l.tensor_bytes += t.size_bytes;
  l.file_bytes = g->file_bytes();
  if (touch) l.checksum = Touch(g->tensors());
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 9;
  bool touch = false;
  std::vector<fs::path> paths;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--touch") == 0) {
      touch = true;
    } else {
      paths.emplace_back(argv[i]);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "usage: bench_load PATH... [--runs N] [--touch]\n");
    return 2;
  }
  int failures = 0;
  for (const fs::path& p : paths) {
    std::vector<fs::path> ggufs;
    bool safetensors = false;
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p)) {
        if (e.path().extension() == ".gguf") ggufs.push_back(e.path());
        if (e.path().extension() == ".safetensors" || e.path().extension() == ".json") {
          safetensors = safetensors || e.path().filename().string().rfind("model", 0) == 0;
        }
      }
      std::sort(ggufs.begin(), ggufs.end());
    } else if (p.extension() == ".gguf") {
      ggufs.push_back(p);
    } else {
      safetensors = true;
    }
    if (safetensors) {
      failures += Bench("safetensors " + p.string(), runs, touch,
                        [&](bool t) { return OpenSafetensors(p, t); });
    }
    for (const fs::path& g : ggufs) {
      failures += Bench("gguf " + g.string(), runs, touch,
                        [&](bool t) { return OpenGgufFile(g, t); });
    }
  }
  return failures == 0 ? 0 : 1;
}
