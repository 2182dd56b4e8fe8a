// Shared helpers for the `ocular` subcommands: uniform errors (one line on stderr, exit 2),
// and the model-loading flags several subcommands share.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <string>

#include "base/status.h"
#include "model/qwen3vl/kv_storage.h"
#include "model/qwen3vl/resident_weights.h"
#include "tensor/dtype.h"

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

// --kv-dtype (serve, bench model): the KV cache's element type. "auto" follows --precision:
// bf16 keeps K and V in bf16 (the model's own dtype, as transformers and vLLM keep them;
// half the bytes and faster decode attention), f32 keeps them exact. nullopt for a name the
// cache cannot hold.
inline constexpr const char* kKvDtypeHelp =
    "KV cache element type: auto (bf16 under --precision bf16, else f32), f32 (exact), bf16 or f16 "
    "(half precision: twice the tokens in the same budget, faster decode attention)";
inline std::optional<DType> KvDtypeFor(const std::string& name, const std::string& precision) {
  if (name == "auto") return precision == "bf16" ? DType::kBF16 : DType::kF32;
  const std::optional<DType> d = DTypeFromName(name);
  if (!d || !qwen3vl::KvStorage::HoldsDtype(*d)) return std::nullopt;
  return d;
}

}  // namespace ocular::cli
