// Shared helpers for the `ocular` subcommands: uniform errors (one line on stderr, exit 2),
// and the model-loading flags several subcommands share.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "base/status.h"
#include "model/qwen3vl/resident_weights.h"

namespace ocular::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

// Prints "ocular <command>: error: <message>" and returns kExitError.
inline int Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "ocular %s: error: %s\n", command, status.message().c_str());
  return kExitError;
}
inline int Fail(const char* command, const std::string& message) {
  std::fprintf(stderr, "ocular %s: error: %s\n", command, message.c_str());
  return kExitError;
}

// --mmap (serve, run, bench model): where the text weights live (resident_weights.h).
inline void AddMmapFlag(CLI::App* cmd, bool* mmap) {
  cmd->add_flag("--mmap", *mmap,
                "use the text weights in place from the file mapping (shared page cache, faster "
                "load; decode ~25% slower)");
}
inline qwen3vl::WeightPlacement Placement(bool mmap) {
  return mmap ? qwen3vl::WeightPlacement::kMapped : qwen3vl::WeightPlacement::kCopied;
}

}  // namespace ocular::cli
