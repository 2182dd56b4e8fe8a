// `ocular bench model`: llama-bench-like figures for a checkpoint on this machine, each as
// median/min/max of R runs and as a fraction of the limit measured in the same process
// (memory read bandwidth for decode, the matrix peak for prefill and vision encode).
#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "base/thread_pool.h"
#include "kernels/machine_limits.h"
#include "model/qwen3vl/kv_storage.h"
#include "model/qwen3vl/model.h"
#include "model/qwen3vl/sequence.h"

namespace ocular::cli {
namespace {

struct BenchModelOptions {
  std::string model;
  std::string mmproj;
  int threads = 0;
  int repetitions = 3;
  int prefill_tokens = 512;
  int decode_tokens = 128;
  std::string precision = "bf16";
  std::string kv_dtype = "auto";  // the KV cache's element type (KvDtypeFor)
  bool json = false;
  bool skip_vision = false;
  bool mmap_weights = false;  // text weights used in place from the file mapping
  std::vector<std::string> image_sizes = {"448x448", "1280x720", "1920x1080"};
};

struct Timing {
  double median = 0, min = 0, max = 0;
};
Timing Summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}
nlohmann::json ToJson(const Timing& t) {
  return {{"median", t.median}, {"min", t.min}, {"max", t.max}};
}

int64_t PeakRssBytes() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return int64_t{ru.ru_maxrss} * 1024;
}

// Bytes of text weights read for one decoded token: every layer matrix, the final norm and
// the LM head once; one row of the embedding table.
int64_t WeightBytesPerToken(const qwen3vl::Qwen3VLModel& model) {
  int64_t total = 0;
  const auto& w = model.checkpoint().weights.text;
  auto add = [&](qwen3vl::TensorRef t) {
    if (t) total += static_cast<int64_t>(t->size_bytes);
  };
  for (const auto& l : w.layers) {
    for (auto t : {l.attn_norm, l.q, l.k, l.v, l.o, l.q_norm, l.k_norm, l.ffn_norm, l.gate, l.up,
                   l.down}) {
      add(t);
    }
  }
  add(w.output_norm);
  add(w.lm_head ? w.lm_head : w.token_embd);
  if (w.token_embd) total += static_cast<int64_t>(w.token_embd->size_bytes / w.token_embd->shape[0]);
  return total;
}

// Bytes of K and V read per decoded token, averaged over the decode run: step i (0-based)
// after a prompt of `prompt` tokens attends prompt + i + 1 cached tokens (its own included),
// every layer reading each of them whole.
int64_t KvBytesPerToken(const qwen3vl::TextConfig& tc, DType kv_dtype, int64_t prompt,
                        int64_t decode_tokens) {
  const double token = double(qwen3vl::KvStorage::BytesPerToken(
      tc.num_layers, static_cast<int>(tc.num_kv_heads), static_cast<int>(tc.head_dim), kv_dtype));
  return static_cast<int64_t>(token * (double(prompt) + double(decode_tokens + 1) / 2));
}

// Vision FLOPs for n ViT tokens (spec 8.4; multiply-add = 2 FLOPs).
double VisionFlops(const qwen3vl::VisionConfig& vc, double n) {
  const double d = double(vc.hidden_size), f = double(vc.intermediate_size);
  const double o = double(vc.out_hidden_size), m = double(vc.spatial_merge_size * vc.spatial_merge_size);
  const double levels = 1.0 + double(vc.deepstack_visual_indexes.size());
  return 2 * n * 1536 * d + double(vc.depth) * (2 * n * (4 * d * d + 2 * d * f) + 4 * n * n * d) +
         levels * 2 * (n / m) * (m * m * d * d + m * d * o);
}

// Text FLOPs per prefilled token (2 x non-embedding matrix parameters) + attention.
double PrefillFlops(const qwen3vl::TextConfig& tc, double tokens) {
  const double h = double(tc.hidden_size), hd = double(tc.head_dim);
  const double q = double(tc.num_heads) * hd, kv = double(tc.num_kv_heads) * hd;
  const double f = double(tc.intermediate_size);
  const double per_layer = 2 * (h * q + 2 * h * kv + q * h + 3 * h * f);
  const double attn = 2.0 * 2.0 * q * tokens / 2;  // QK^T and PV, causal average
  return tokens * (double(tc.num_layers) * (per_layer + attn));
}

std::string LogitsHash(const std::vector<float>& logits) {
  auto d = Sha256::Hash(logits.data(), logits.size() * sizeof(float));
  return ToHex(d).substr(0, 12);
}

int RunBenchModel(const BenchModelOptions& o) {
  ThreadPool pool(o.threads);
  kernels::ComputeContext ctx(pool);
  const kernels::Precision precision =
      o.precision == "f32" ? kernels::Precision::kF32 : kernels::Precision::kBf16;
  if (o.precision != "f32" && o.precision != "bf16") {
    return Fail("bench", "--precision must be f32 or bf16");
  }
  const std::optional<DType> kv_dtype = KvDtypeFor(o.kv_dtype, o.precision);
  if (!kv_dtype.has_value()) {
    return Fail("bench", "--kv-dtype must be auto, f32, bf16 or f16");
  }
  // Bad sizes are refused before any measurement starts (one line, exit 2).
  std::vector<std::pair<int, int>> image_sizes;
  for (const std::string& size : o.image_sizes) {
    int w = 0, h = 0;
    char rest = 0;
    if (std::sscanf(size.c_str(), "%dx%d%c", &w, &h, &rest) != 2 || w < 32 || h < 32 ||
        w > 8192 || h > 8192) {
      return Fail("bench", "--image-size must look like 448x448 (32 to 8192 pixels a side)");
    }
    image_sizes.emplace_back(w, h);
  }
  // The limits are the best passes of their probes (machine_limits.h). The bandwidth is probed
  // again after every decode run: on a host whose bandwidth changes within seconds (the
  // development VM flips between ~34 and ~62 GB/s) a decode run in a fast period must not be
  // set against a probe that only saw slow ones.
  const kernels::LimitProbe bw_before = kernels::MeasureReadBandwidthGbs(ctx);
  const kernels::LimitProbe bf16_peak = kernels::MeasureMatmulPeakGflops(ctx);
  const kernels::LimitProbe int8_peak = kernels::MeasureInt8PeakGops(ctx);
  std::fprintf(stderr,
               "limits: memory read %.1f GB/s (median %.1f), bf16 matrix peak %.0f GFLOP/s "
               "(median %.0f), int8 %.0f GOP/s\n",
               bw_before.best, bw_before.median, bf16_peak.best, bf16_peak.median,
               int8_peak.best);

  std::vector<double> load_s;
  std::unique_ptr<qwen3vl::Qwen3VLModel> model;
  for (int r = 0; r < o.repetitions; ++r) {
    model.reset();
    Stopwatch sw;
    auto m = qwen3vl::Qwen3VLModel::Load(
        o.model, o.mmproj, ctx, precision, Placement(o.mmap_weights));
    if (!m.ok()) return Fail("bench", m.status());
    load_s.push_back(sw.ElapsedS());
    model = std::move(*m);
  }
  const auto& tc = model->config().text;
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> tok(0, 150000);

  // Prefill: one sequence of `prefill_tokens` text tokens in one chunk.
  const int64_t np = o.prefill_tokens;
  std::vector<int32_t> ids(np);
  for (auto& t : ids) t = tok(rng);
  std::vector<int64_t> pos(np);
  std::iota(pos.begin(), pos.end(), 0);
  std::vector<double> prefill_tok_s, decode_tok_s;
  std::vector<kernels::LimitProbe> bw_after;  // one probe after each decode run
  std::vector<float> logits;
  for (int r = 0; r < o.repetitions; ++r) {
    qwen3vl::SequenceRunner seq(*model, np + o.decode_tokens + 1, *kv_dtype);
    Stopwatch sw;
    Status st = seq.Prefill(ids, pos.data(), pos.data(), pos.data(), {}, &logits);
    if (!st.ok()) return Fail("bench", st);
    prefill_tok_s.push_back(double(np) / sw.ElapsedS());
    // Progress on stderr, so a run cut short on a busy machine still leaves its figures.
    std::fprintf(stderr, "run %d: prefill %.2f tok/s\n", r + 1, prefill_tok_s.back());
    sw.Reset();
    for (int i = 0; i < o.decode_tokens; ++i) {
      int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      st = seq.Step(next, np + i, &logits);
      if (!st.ok()) return Fail("bench", st);
    }
    decode_tok_s.push_back(double(o.decode_tokens) / sw.ElapsedS());
    std::fprintf(stderr, "run %d: decode %.2f tok/s\n", r + 1, decode_tok_s.back());
    bw_after.push_back(kernels::MeasureReadBandwidthGbs(ctx));
  }
  double bw_gbs = bw_before.best;
  for (const kernels::LimitProbe& p : bw_after) bw_gbs = std::max(bw_gbs, p.best);
  const Timing prefill = Summarise(prefill_tok_s), decode = Summarise(decode_tok_s);
  const int64_t wbytes = WeightBytesPerToken(*model);
  const int64_t kvbytes = KvBytesPerToken(tc, *kv_dtype, np, o.decode_tokens);
  // A decode step reads the weights and the cached K and V: both count against the bandwidth.
  const int64_t step_bytes = wbytes + kvbytes;
  const double decode_gbs = double(step_bytes) * decode.median / 1e9;
  const double prefill_gflops = PrefillFlops(tc, double(np)) / np * prefill.median / 1e9;
  // Packed quantized text weights run prefill's products on the int8 GEMV, everything else on
  // the bf16 matmul: the prefill figure is set against the peak of the path it takes.
  const bool int8_prefill = model->text_packed() && int8_peak.best > 0;
  const double prefill_peak = int8_prefill ? int8_peak.best : bf16_peak.best;
  const double peak_gflops = bf16_peak.best;  // the vision encoder's products are bf16

  nlohmann::json encode = nlohmann::json::object();
  std::map<std::string, double> encode_fraction;
  if (model->has_vision() && !o.skip_vision) {
    const auto& vc = model->config().vision;
    for (size_t si = 0; si < o.image_sizes.size(); ++si) {
      const std::string& size = o.image_sizes[si];
      const auto [w, h] = image_sizes[si];
      // The HF processor's grid for this size (smart_resize rounds to multiples of 32).
      const int64_t gh = std::max<int64_t>(2, (int64_t(std::nearbyint(h / 32.0)) * 32) / 16);
      const int64_t gw = std::max<int64_t>(2, (int64_t(std::nearbyint(w / 32.0)) * 32) / 16);
      std::vector<float> px(static_cast<size_t>(gh * gw * 1536));
      std::uniform_real_distribution<float> u(-1.f, 1.f);
      for (auto& v : px) v = u(rng);
      qwen3vl::VisionInput in{px.data(), 1, gh, gw};
      std::vector<double> ms;
      for (int r = 0; r < o.repetitions; ++r) {
        Stopwatch sw;
        auto out = model->vision().Encode(std::span<const qwen3vl::VisionInput>(&in, 1));
        if (!out.ok()) return Fail("bench", out.status());
        ms.push_back(sw.ElapsedMs());
        std::fprintf(stderr, "run %d: encode %s %.0f ms\n", r + 1, size.c_str(), ms.back());
      }
      Timing t = Summarise(ms);
      encode[size] = ToJson(t);
      encode[size]["tokens"] = gh * gw / 4;
      const double gflops = VisionFlops(vc, double(gh * gw)) / (t.median * 1e-3) / 1e9;
      encode[size]["gflops"] = gflops;
      encode[size]["peak_fraction"] = gflops / peak_gflops;
      encode_fraction[size] = gflops / peak_gflops;
    }
  }

  nlohmann::json j;
  j["model"] = o.model;
  j["threads"] = pool.num_threads();
  j["precision"] = o.precision;
  j["kv_dtype"] = DTypeName(*kv_dtype);
  j["text_weights"] = o.mmap_weights ? "mapped" : model->text_packed() ? "packed" : "copied";
  j["load_s"] = ToJson(Summarise(load_s));
  j["prefill_tokens"] = np;
  j["prefill_tok_s"] = ToJson(prefill);
  j["prefill_gflops"] = prefill_gflops;
  j["prefill_peak"] = int8_prefill ? "int8" : "bf16";
  j["prefill_peak_fraction"] = prefill_gflops / prefill_peak;
  j["decode_tokens"] = o.decode_tokens;
  j["decode_tok_s"] = ToJson(decode);
  j["weight_bytes_per_token"] = wbytes;
  j["kv_bytes_per_token"] = kvbytes;
  j["decode_bytes_per_token"] = step_bytes;
  j["decode_gbs"] = decode_gbs;
  j["mem_bw_gbs"] = bw_gbs;
  auto probe = [](const kernels::LimitProbe& p) {
    return nlohmann::json{{"best", p.best}, {"median", p.median}};
  };
  nlohmann::json after = nlohmann::json::array();
  for (const kernels::LimitProbe& p : bw_after) after.push_back(probe(p));
  j["mem_bw_probes_gbs"] = {{"before", probe(bw_before)}, {"after_each_decode", after}};
  j["decode_roofline_fraction"] = decode_gbs / bw_gbs;
  // Each decode run against the probe right after it: this host's bandwidth can flip between
  // two levels within seconds, and a run in the slow level set against a fast-level best
  // probe (or the reverse) says more about the host than about the decode.
  std::vector<double> paired;
  for (size_t r = 0; r < bw_after.size() && r < decode_tok_s.size(); ++r) {
    paired.push_back(double(step_bytes) * decode_tok_s[r] / 1e9 / bw_after[r].best);
  }
  const Timing paired_fraction = Summarise(paired);
  j["decode_roofline_fraction_paired"] = ToJson(paired_fraction);
  j["matrix_peak_gflops"] = peak_gflops;
  j["matrix_peak_median_gflops"] = bf16_peak.median;
  if (int8_peak.best > 0) j["matrix_peak_int8_gops"] = int8_peak.best;
  j["encode_ms"] = encode;
  j["peak_rss_bytes"] = PeakRssBytes();
  j["logits_hash"] = LogitsHash(logits);
  j["compute"] = ctx.Describe();
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
    return kExitOk;
  }
  std::printf("model            %s (%d threads, %s, text weights %s)\n", o.model.c_str(),
              pool.num_threads(), o.precision.c_str(),
              j["text_weights"].get<std::string>().c_str());
  std::printf("limits           memory read %.1f GB/s (best pass of %zu probes; median %.1f before "
              "the runs), matrix peak %.0f GFLOP/s (bf16 matmul)",
              bw_gbs, bw_after.size() + 1, bw_before.median, peak_gflops);
  if (int8_peak.best > 0) std::printf(", %.0f GOP/s (int8 GEMV)", int8_peak.best);
  std::printf("\n");
  std::printf("load             %.3f s (median of %d)\n", Summarise(load_s).median, o.repetitions);
  std::printf("prefill %4lld     %.1f tok/s (%.1f-%.1f)  %.0f GFLOP/s = %.0f%% of the %s peak\n",
              (long long)np, prefill.median, prefill.min, prefill.max, prefill_gflops,
              100 * prefill_gflops / prefill_peak, int8_prefill ? "int8" : "bf16");
  std::printf(
      "decode  %4d     %.2f tok/s (%.2f-%.2f)  %.1f MB/token (weights %.1f + KV %.1f) -> "
      "%.1f GB/s = %.0f%% of bandwidth (each run against the probe after it: %.0f%%, "
      "%.0f-%.0f%%)\n",
      o.decode_tokens, decode.median, decode.min, decode.max, step_bytes / 1e6, wbytes / 1e6,
      kvbytes / 1e6, decode_gbs, 100 * decode_gbs / bw_gbs, 100 * paired_fraction.median,
      100 * paired_fraction.min, 100 * paired_fraction.max);
  for (auto& [size, v] : encode.items()) {
    std::printf("encode %-10s %.0f ms (%.0f-%.0f), %lld tokens, %.0f GFLOP/s = %.0f%% of peak\n",
                size.c_str(), v["median"].get<double>(), v["min"].get<double>(),
                v["max"].get<double>(), (long long)v["tokens"].get<int64_t>(),
                v["gflops"].get<double>(), 100 * encode_fraction[size]);
  }
  std::printf("peak RSS         %.2f GB\n", PeakRssBytes() / 1e9);
  std::printf("logits hash      %s\n", LogitsHash(logits).c_str());
  return kExitOk;
}

}  // namespace

void RegisterBench(CLI::App& root, int& exit_code) {
  CLI::App* bench = root.add_subcommand("bench", "Benchmarks: `bench model` (see --help)");
  bench->require_subcommand(1);
  auto o = std::make_shared<BenchModelOptions>();
  CLI::App* model = bench->add_subcommand(
      "model", "Prefill, decode and vision-encode speed of a checkpoint against this machine's limits");
  model->add_option("--model", o->model, "Model folder, .safetensors or text GGUF")->required();
  model->add_option("--mmproj", o->mmproj, "mmproj GGUF (GGUF models; default: found beside)");
  model->add_option("--threads", o->threads, "Compute threads (0: all cores)")->capture_default_str();
  model->add_option("--repetitions,-r", o->repetitions, "Runs per figure")->capture_default_str()
      ->check(CLI::Range(1, 100));
  model->add_option("--prefill-tokens", o->prefill_tokens, "Prompt length")->capture_default_str()
      ->check(CLI::Range(1, 32768));
  model->add_option("--decode-tokens", o->decode_tokens, "Generated tokens")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  model->add_option("--precision", o->precision, "f32 (exact) or bf16 (AMX)")->capture_default_str();
  model->add_option("--kv-dtype", o->kv_dtype, kKvDtypeHelp)
      ->capture_default_str();
  model->add_option("--image-size", o->image_sizes, "Images to encode, WxH")->capture_default_str();
  model->add_flag("--skip-vision", o->skip_vision, "Do not benchmark the vision encoder");
  AddMmapFlag(model, &o->mmap_weights);
  model->add_flag("--json", o->json, "Print one JSON object");
  model->callback([o, &exit_code] { exit_code = RunBenchModel(*o); });
}

}  // namespace ocular::cli
