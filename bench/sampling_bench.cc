// Microseconds per sampled token over one logits row of Qwen3-VL's vocabulary (151,936 f32),
// for greedy, the Instruct defaults (top_k 20, top_p 0.8, T 0.7) and the same with top-5
// logprobs, per ISA. Prints the median of 20 runs (each run: 200 tokens) and the row's
// bandwidth (bytes read per token / time) against which the passes can be judged.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <vector>

#include "base/clock.h"
#include "engine/sampling/sampler.h"

namespace {

using ocular::sampling::RowIsa;
using ocular::sampling::Sampler;
using ocular::sampling::SamplingParams;

constexpr int64_t kVocab = 151936;
constexpr int kRuns = 20;
constexpr int kTokensPerRun = 200;

double MedianUsPerToken(RowIsa isa, const std::vector<float>& logits, const SamplingParams& p,
                        uint64_t* checksum) {
  Sampler sampler(isa);
  ocular::sampling::TokenHistory history;
  std::vector<double> runs;
  for (int run = 0; run < kRuns; ++run) {
    ocular::Stopwatch watch;
    for (int t = 0; t < kTokensPerRun; ++t) {
      auto r = sampler.Sample(logits, p, history, static_cast<uint64_t>(run * kTokensPerRun + t));
      if (!r.ok()) {
        std::fprintf(stderr, "sample failed: %s\n", r.status().ToString().c_str());
        return -1.0;
      }
      *checksum = *checksum * 31 + static_cast<uint64_t>(r->token);
    }
    runs.push_back(static_cast<double>(watch.ElapsedNs()) * 1e-3 / kTokensPerRun);
  }
  std::sort(runs.begin(), runs.end());
  return 0.5 * (runs[kRuns / 2 - 1] + runs[kRuns / 2]);
}

}  // namespace

int main() {
  // Logits shaped like a language model's: a few strong candidates over a broad normal body.
  std::mt19937 rng(1);
  std::normal_distribution<float> body(0.0f, 2.5f);
  std::vector<float> logits(kVocab);  // [vocab], f32
  for (auto& v : logits) v = body(rng);
  for (int i = 0; i < 8; ++i) logits[static_cast<size_t>(rng() % kVocab)] = 14.0f + i;

  SamplingParams greedy;
  greedy.temperature = 0.0f;
  SamplingParams instruct;
  instruct.temperature = 0.7f;
  instruct.top_k = 20;
  instruct.top_p = 0.8f;
  instruct.seed = 3407;
  SamplingParams with_logprobs = instruct;
  with_logprobs.num_logprobs = 5;
  SamplingParams top_p_only;
  top_p_only.temperature = 0.7f;
  top_p_only.top_p = 0.8f;

  struct Case {
    const char* name;
    const SamplingParams* params;
  } cases[] = {{"greedy", &greedy},
               {"top_k=20 top_p=0.8 T=0.7", &instruct},
               {"top_k=20 top_p=0.8 T=0.7 logprobs=5", &with_logprobs},
               {"top_p=0.8 T=0.7 (no top-k)", &top_p_only}};
  std::vector<RowIsa> isas = {RowIsa::kScalar};
  if (ocular::sampling::BestRowIsa() == RowIsa::kAvx2) isas.push_back(RowIsa::kAvx2);

  std::printf("vocab %" PRId64 ", median of %d runs x %d tokens\n", kVocab, kRuns, kTokensPerRun);
  const double row_bytes = static_cast<double>(kVocab) * sizeof(float);
  for (const Case& c : cases) {
    for (RowIsa isa : isas) {
      uint64_t checksum = 0;
      const double us = MedianUsPerToken(isa, logits, *c.params, &checksum);
      std::printf(
          "%-38s %-6s %8.1f us/token  (%.1f GB/s of row reads per pass)  tokens-hash %016" PRIx64
          "\n",
          c.name, isa == RowIsa::kAvx2 ? "avx2" : "scalar", us, row_bytes / (us * 1e-6) * 1e-9,
          checksum);
    }
  }
  return 0;
}
