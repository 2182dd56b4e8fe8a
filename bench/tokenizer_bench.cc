// bench_tokenizer [--model PATH] [--mb N] [--reps R]: tokenizer figures.
//  - load time of PATH (model folder with tokenizer.json, tokenizer.json or GGUF);
//  - encode throughput (MB/s of UTF-8 input) on N MB (default 10) of generated mixed text:
//    English prose, C++/Python code, Chinese, Japanese, emoji, Cyrillic, numbers, whitespace;
//    "cold" with an empty word cache (fresh tokenizer) and "warm" (same text again);
//  - decode throughput (MB/s of output text).
// Every figure is the median (min-max) of R runs (default 5); a hash of the ids shows drift.
// Wall-clock figures are the result; on a shared machine the CPU-time figures (process CPU
// seconds, single-threaded work) show what the code costs without the contention.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "base/clock.h"
#include "model/tokenizer/load_tokenizer.h"
#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {
namespace {

struct Stats {
  double median, min, max;
};

template <typename Fn>
Stats Measure(int reps, Fn&& fn) {
  std::vector<double> v;
  for (int r = 0; r < reps; ++r) v.push_back(fn());
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

// Deterministic mixed-language text of about `bytes` bytes.
std::string MakeText(size_t bytes) {
  static const char* kWords[] = {"the", "model", "reads", "images", "and", "video", "frames",
                                 "while", "answering", "questions", "about", "what", "it", "sees",
                                 "tokenizer", "throughput", "is", "measured", "in", "megabytes"};
  static const char* kCode[] = {
      "for (int i = 0; i < n; ++i) {\n    sum += v[i] * w[i];\n}\n",
      "def f(x):\n    return {k: v for k, v in x.items() if v}\n",
      "std::vector<std::string> parts = Split(line, ',');\n",
      "if err != nil {\n\treturn fmt.Errorf(\"open: %w\", err)\n}\n"};
  static const char* kEmoji[] = {"\xF0\x9F\x98\x80", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
                                 "\xF0\x9F\x9A\x80", "\xE2\x9C\x93", "\xF0\x9F\x87\xBA\xF0\x9F\x87\xB3"};
  static const char* kCyrillic[] = {"Привет", "мир", "модель", "видит", "изображение"};
  static const char* kJapanese[] = {"こんにちは", "カタカナ", "世界", "画像を見る"};
  std::mt19937 rng(7);
  std::string s;
  s.reserve(bytes + 256);
  while (s.size() < bytes) {
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2:  // prose sentence
        for (int w = 0, n = 5 + rng() % 12; w < n; ++w) {
          s += w == 0 ? "" : " ";
          s += kWords[rng() % std::size(kWords)];
        }
        s += rng() % 3 == 0 ? ".\n" : ". ";
        break;
      case 3:
        s += kCode[rng() % std::size(kCode)];
        break;
      case 4:  // Chinese: random common CJK ideographs with punctuation
        for (int c = 0, n = 4 + rng() % 20; c < n; ++c) AppendUtf8(0x4E00 + rng() % 0x5000, &s);
        s += "\xE3\x80\x82";  // 。
        break;
      case 5:
        s += kJapanese[rng() % std::size(kJapanese)];
        s += kCyrillic[rng() % std::size(kCyrillic)];
        s += " ";
        break;
      case 6:  // numbers, dates
        s += std::to_string(rng() % 100000) + "." + std::to_string(rng() % 100) + " 2025-11-" +
             std::to_string(10 + rng() % 18) + " ";
        break;
      case 7:
        s += kEmoji[rng() % std::size(kEmoji)];
        s += rng() % 2 ? " " : "\n\n";
        break;
    }
  }
  return s;
}

// Process CPU time in seconds.
double CpuS() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Timer {
  Stopwatch wall;
  double cpu0 = CpuS();
  double WallS() const { return wall.ElapsedS(); }
  double CpuElapsedS() const { return CpuS() - cpu0; }
};

void Print(const char* name, const Stats& wall, const Stats& cpu, const char* unit) {
  std::printf("%-12s %8.1f %s (min %.1f, max %.1f); CPU time: %.1f %s\n", name, wall.median, unit,
              wall.min, wall.max, cpu.median, unit);
}

uint64_t HashIds(const std::vector<int32_t>& ids) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int32_t id : ids) h = (h ^ static_cast<uint32_t>(id)) * 0x100000001b3ull;
  return h;
}

int Main(int argc, char** argv) {
  std::filesystem::path model = std::filesystem::path(OCULAR_SOURCE_DIR) / "../shared/golden/models/tiny-a";
  if (const char* g = std::getenv("OCULAR_GOLDEN_DIR")) model = std::filesystem::path(g) / "models/tiny-a";
  double mb = 10;
  int reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--model") == 0) model = argv[i + 1];
    if (std::strcmp(argv[i], "--mb") == 0) mb = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(1, std::atoi(argv[i + 1]));
  }
  Result<Tokenizer> first = LoadTokenizer(model);
  if (!first.ok()) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", first.status().ToString().c_str());
    return 2;
  }
  std::vector<double> cpu_load, cpu_cold, cpu_warm, cpu_decode;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return Stats{v[v.size() / 2], v.front(), v.back()};
  };
  const Stats load = Measure(reps, [&] {
    Timer timer;
    Result<Tokenizer> t = LoadTokenizer(model);
    if (!t.ok()) std::abort();
    cpu_load.push_back(timer.CpuElapsedS() * 1e3);
    return timer.WallS() * 1e3;
  });
  std::printf("tokenizer: %s: %d ids, %zu merges\n", model.filename().string().c_str(), first->size(),
              first->num_merges());
  Print("load:", load, median(cpu_load), "ms");

  const std::string text = MakeText(static_cast<size_t>(mb * 1e6));
  const double text_mb = static_cast<double>(text.size()) / 1e6;
  std::vector<int32_t> ids;
  const Stats cold = Measure(reps, [&] {
    Result<Tokenizer> t = LoadTokenizer(model);  // fresh, empty word cache
    Timer timer;
    ids = t->Encode(text);
    cpu_cold.push_back(text_mb / timer.CpuElapsedS());
    return text_mb / timer.WallS();
  });
  const Stats warm = Measure(reps, [&] {
    Timer timer;
    ids = first->Encode(text);
    cpu_warm.push_back(text_mb / timer.CpuElapsedS());
    return text_mb / timer.WallS();
  });
  std::string decoded;
  const Stats decode = Measure(reps, [&] {
    Timer timer;
    decoded = first->Decode(ids).value();
    const double out_mb = static_cast<double>(decoded.size()) / 1e6;
    cpu_decode.push_back(out_mb / timer.CpuElapsedS());
    return out_mb / timer.WallS();
  });
  std::printf("text:        %.2f MB, %zu tokens (%.2f bytes/token), ids hash %016llx, round trip %s\n",
              text_mb, ids.size(), static_cast<double>(text.size()) / static_cast<double>(ids.size()),
              static_cast<unsigned long long>(HashIds(ids)), decoded == text ? "exact" : "DIFFERS");
  Print("encode cold:", cold, median(cpu_cold), "MB/s");
  Print("encode warm:", warm, median(cpu_warm), "MB/s");
  Print("decode:", decode, median(cpu_decode), "MB/s");
  return 0;
}

}  // namespace
}  // namespace ocular::tokenizer

int main(int argc, char** argv) { return ocular::tokenizer::Main(argc, argv); }
