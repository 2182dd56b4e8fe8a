#include "model/qwen3vl/model_source.h"

#include <system_error>
#include <vector>

namespace ocular::qwen3vl {
namespace fs = std::filesystem;

Result<fs::path> FindMmprojBeside(const fs::path& text_gguf) {
  std::error_code ec;
  fs::path dir = text_gguf.parent_path().empty() ? fs::path(".") : text_gguf.parent_path();
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".gguf" || p == text_gguf) continue;
    if (p.filename().string().find("mmproj") != std::string::npos) found.push_back(p);
  }
  if (ec) return InvalidArgument(dir.string() + ": cannot list folder");
  if (found.size() > 1) {
    return InvalidArgument(dir.string() +
                           ": several mmproj GGUF files beside the model; choose one with --mmproj");
  }
  return found.empty() ? fs::path() : found[0];
}

static bool IsGgufPath(const fs::path& p) {
  return fs::is_regular_file(p) && p.extension() == ".gguf";
}

Result<std::unique_ptr<ModelSource>> OpenModelSource(const fs::path& path,
                                                     const fs::path& mmproj) {
  auto src = std::make_unique<ModelSource>();
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path.string() + ": no such file or folder");

  if (IsGgufPath(path)) {
    src->dir = path.parent_path();
    ASSIGN_OR_RETURN(loader::GgufFile text, loader::OpenGguf(path));
    src->text_gguf = std::make_unique<loader::GgufFile>(std::move(text));
    fs::path mm = mmproj;
    if (mm.empty()) {
      ASSIGN_OR_RETURN(mm, FindMmprojBeside(path));
    }
    if (!mm.empty()) {
      ASSIGN_OR_RETURN(loader::GgufFile mmf, loader::OpenGguf(mm));
      src->mmproj_gguf = std::make_unique<loader::GgufFile>(std::move(mmf));
      src->mmproj_path = mm;
    }
    ASSIGN_OR_RETURN(src->config, ConfigFromGguf(*src->text_gguf, src->mmproj_gguf.get()));
    std::span<const loader::TensorInfo> mm_tensors;
    if (src->mmproj_gguf) mm_tensors = src->mmproj_gguf->tensors();
    ASSIGN_OR_RETURN(src->weights,
                     MapGgufWeights(src->config, src->text_gguf->tensors(), mm_tensors));
    return src;
  }

  if (!mmproj.empty()) {
    return InvalidArgument("--mmproj applies to GGUF models only; " + path.string() +
                           " is a safetensors checkpoint");
  }
  fs::path dir = fs::is_directory(path) ? path : path.parent_path();
  src->dir = dir;
  ASSIGN_OR_RETURN(src->config, LoadHfConfig((dir / "config.json").string()));
  ASSIGN_OR_RETURN(loader::SafetensorsModel st, loader::SafetensorsModel::Open(path));
  src->safetensors.emplace(std::move(st));
  ASSIGN_OR_RETURN(src->weights, MapHfWeights(src->config, src->safetensors->tensors()));
  return src;
}

}  // namespace ocular::qwen3vl
