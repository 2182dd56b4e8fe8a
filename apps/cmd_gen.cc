// `ocular gen`: write a random-weight Qwen3-VL checkpoint (real names, shapes and config).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "base/clock.h"
#include "base/thread_pool.h"
#include "model/qwen3vl/gen/checkpoint_gen.h"
#include "model/qwen3vl/presets.h"

namespace ocular::cli {
namespace {

namespace fs = std::filesystem;

// --tokenizer-from, else $OCULAR_TOKENIZER_DIR, else the golden tiny-a folder beside the
// source tree (it holds the real Qwen3-VL tokenizer files).
fs::path TokenizerDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("OCULAR_TOKENIZER_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef OCULAR_SOURCE_DIR
  fs::path beside = fs::path(OCULAR_SOURCE_DIR) / ".." / "shared" / "golden" / "models" / "tiny-a";
  std::error_code ec;
  if (fs::is_regular_file(beside / "tokenizer.json", ec)) return beside.lexically_normal();
#endif
  return {};
}

struct GenFlags {
  std::string preset = "tiny";
  std::string format = "safetensors";
  std::string dtype = "bf16";
  uint64_t seed = 0;
  std::string out;
  std::string tokenizer_from;
  int threads = 0;
};

int RunGen(const GenFlags& f) {
  qwen3vl::gen::GenOptions o;
  o.preset = f.preset;
  o.format = f.format;
  // q4_k_m: llama.cpp's Q4_K_M mix of q4_k and q6_k text weights.
  std::optional<DType> dtype = f.dtype == "q4_k_m" ? std::optional<DType>(DType::kQ4_K)
                                                   : DTypeFromName(f.dtype);
  if (!dtype.has_value() || (dtype == DType::kQ4_K && f.dtype != "q4_k_m")) {
    return Fail("gen", "--dtype must be one of bf16, f16, f32, q8_0, q4_0, q4_k_m");
  }
  o.dtype = *dtype;
  o.seed = f.seed;
  o.out_dir = f.out;
  o.tokenizer_dir = TokenizerDir(f.tokenizer_from);
  ThreadPool pool(f.threads);
  Stopwatch watch;
  Result<qwen3vl::gen::GenResult> r = qwen3vl::gen::GenerateCheckpoint(o, pool);
  if (!r.ok()) return Fail("gen", r.status());
  const double seconds = watch.ElapsedS();
  for (const fs::path& p : r->files) std::printf("wrote %s\n", p.string().c_str());
  std::printf("%s %s %s: %.3f B parameters, %.1f MiB in %.2f s (%d threads)\n", f.preset.c_str(),
              f.format.c_str(), f.dtype.c_str(), static_cast<double>(r->num_params) / 1e9,
              static_cast<double>(r->bytes_written) / (1 << 20), seconds, pool.num_threads());
  return kExitOk;
}

}  // namespace

void RegisterGen(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "gen", "Write a random-weight Qwen3-VL checkpoint with the real tensor names and config");
  auto f = std::make_shared<GenFlags>();
  std::string presets;
  for (const std::string& p : qwen3vl::PresetNames()) presets += (presets.empty() ? "" : ", ") + p;
  cmd->add_option("--preset", f->preset, "Model shape: " + presets)->capture_default_str();
  cmd->add_option("--format", f->format, "safetensors (HF folder) or gguf (llama.cpp pair)")
      ->capture_default_str();
  cmd->add_option("--dtype", f->dtype,
                  "bf16, f16, f32 (both formats) or q8_0, q4_0, q4_k_m (gguf text weights; "
                  "q4_k_m: q4_k with q6_k where llama.cpp's Q4_K_M puts it)")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Random seed (non-negative)")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.find_first_not_of("0123456789") == std::string::npos && !v.empty()
                       ? std::string()
                       : std::string("must be a non-negative integer");
          },
          "UINT"))
      ->capture_default_str();
  cmd->add_option("--out", f->out, "Output folder (created if missing)")->required();
  cmd->add_option("--tokenizer-from", f->tokenizer_from,
                  "Folder with the Qwen3-VL tokenizer/preprocessor files (default: "
                  "$OCULAR_TOKENIZER_DIR)");
  cmd->add_option("--threads", f->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->callback([f, &exit_code]() { exit_code = RunGen(*f); });
}

}  // namespace ocular::cli
