// `ocular run --video FILE --window-seconds S --stride S ...`: windowed long-video analysis
// (src/analysis) from the command line; window answers print as they complete, then the
// combined answer; --json prints {"windows": [{"start_s", "end_s", "text"}], "text", ...}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analysis/window_plan.h"
#include "engine/sampling/sampling_params.h"

namespace ocular {
class ThreadPool;
namespace qwen3vl {
class Qwen3VLModel;
}
namespace tokenizer {
class Tokenizer;
}
namespace server {
struct ModelContext;
}
}  // namespace ocular

namespace ocular::cli {

struct WindowedRunOptions {
  std::string video;            // local file
  std::string prompt;           // the question
  std::string system;
  std::string combine_prompt;   // empty: the default instruction
  analysis::WindowSpec windows;
  int64_t max_tokens = 256;
  sampling::SamplingOverrides overrides;
  bool ignore_eos = false;
  bool json = false;
  int max_inflight = 4;
  double load_ms = 0;
};

int RunWindowed(qwen3vl::Qwen3VLModel& model, const tokenizer::Tokenizer& tok, const server::ModelContext& mc,
                const WindowedRunOptions& o);

}  // namespace ocular::cli
