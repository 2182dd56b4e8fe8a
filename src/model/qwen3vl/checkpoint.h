// Checkpoint: opens a Qwen3-VL model from the paths users have and ties config, files and
// weight map together. Accepted: an HF folder (config.json + model.safetensors or a sharded
// index), a single .safetensors file (config.json beside it), or a text GGUF (its mmproj given
// explicitly, or found as the only sibling *.gguf file with "mmproj" in its name).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/weight_map.h"

namespace ocular::qwen3vl {

struct Checkpoint {
  WeightFormat format = WeightFormat::kHf;
  std::filesystem::path path;         // folder / .safetensors / text GGUF
  std::filesystem::path mmproj_path;  // GGUF only; empty when there is none
  ModelConfig config;
  // Owners of the mapped tensors (one of the two groups is set).
  std::optional<loader::SafetensorsModel> safetensors;
  std::optional<loader::GgufFile> text_gguf;
  std::optional<loader::GgufFile> mmproj_gguf;
  // Filled by OpenCheckpoint unless the map failed (see weights_status).
  ModelWeights weights;
  Status weights_status;  // OK, or why the tensors do not fit the config
};

// Opens files and parses the config; errors name the file and the failed check. The weight map
// is attempted too: its failure is reported in weights_status (so `inspect` can still show the
// config), and callers that run the model must check it.
Result<std::unique_ptr<Checkpoint>> OpenCheckpoint(const std::filesystem::path& path,
                                                   const std::filesystem::path& mmproj = {});

// The file mappings the checkpoint's tensors point into.
std::vector<const MappedFile*> Mappings(const Checkpoint& checkpoint);

// The sibling mmproj of a text GGUF: the single *.gguf beside it whose name contains "mmproj".
// nullopt when there is none; an error when there are several.
Result<std::optional<std::filesystem::path>> FindMmproj(const std::filesystem::path& text_gguf);

}  // namespace ocular::qwen3vl
