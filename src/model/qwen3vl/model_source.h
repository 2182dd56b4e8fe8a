// ModelSource: an opened Qwen3-VL checkpoint in either format, owning its file mappings.
//
// PATH may be an HF folder (config.json + model.safetensors or sharded shards), a single
// .safetensors file inside such a folder, or a llama.cpp text GGUF (its mmproj found beside it:
// a sibling whose name contains "mmproj", or given explicitly). The config and weight map are
// validated; tensors stay valid (in the mappings) while the ModelSource lives.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/weight_map.h"

namespace ocular::qwen3vl {

struct ModelSource {
  ModelConfig config;
  ModelWeights weights;
  // Folder holding the tokenizer / chat template / preprocessor files (the HF folder, or the
  // GGUF's folder; for GGUF the tokenizer and template also live in the metadata).
  std::filesystem::path dir;
  std::optional<loader::SafetensorsModel> safetensors;
  std::unique_ptr<loader::GgufFile> text_gguf;
  std::unique_ptr<loader::GgufFile> mmproj_gguf;
  std::filesystem::path mmproj_path;  // empty when none

  bool is_gguf() const { return text_gguf != nullptr; }
};

// Opens and validates `path` (see above). `mmproj` overrides the automatic search for GGUF.
Result<std::unique_ptr<ModelSource>> OpenModelSource(const std::filesystem::path& path,
                                                     const std::filesystem::path& mmproj = {});

// The sibling mmproj GGUF of a text GGUF: a *.gguf in the same folder whose name contains
// "mmproj" (exactly one; several -> InvalidArgument asking for --mmproj). Empty when none.
Result<std::filesystem::path> FindMmprojBeside(const std::filesystem::path& text_gguf);

}  // namespace ocular::qwen3vl
