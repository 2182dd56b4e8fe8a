// Test helper: a Q4_K_M GGUF pair of the tiny-k shape (`gen --preset tiny-k --format gguf
// --dtype q4_k_m`: 256-value text rows, so its matrices really are q4_k and q6_k), written
// into `dir` with the golden tokenizer.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/qwen3vl/gen/checkpoint_gen.h"

namespace ocular::qwen3vl::testing {

struct Q4KMPair {
  std::filesystem::path text, mmproj;
};

inline Result<Q4KMPair> GenerateTinyKQ4KM(const std::filesystem::path& golden,
                                          const std::filesystem::path& dir, ThreadPool& pool,
                                          uint64_t seed = 0) {
  gen::GenOptions o;
  o.preset = "tiny-k";
  o.format = "gguf";
  o.dtype = DType::kQ4_K;
  o.seed = seed;
  o.out_dir = dir;
  o.tokenizer_dir = golden / "models/tiny-a";
  RETURN_IF_ERROR(gen::GenerateCheckpoint(o, pool).status());
  return Q4KMPair{dir / "tiny-k-q4_k_m.gguf", dir / "mmproj-tiny-k-f16.gguf"};
}

}  // namespace ocular::qwen3vl::testing
