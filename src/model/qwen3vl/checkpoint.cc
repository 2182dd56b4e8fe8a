#include "model/qwen3vl/checkpoint.h"

#include <algorithm>

namespace ocular::qwen3vl {
namespace {

namespace fs = std::filesystem;

bool HasSuffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status OpenHf(const fs::path& path, Checkpoint* c) {
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? path : path.parent_path();
  ASSIGN_OR_RETURN(c->config, LoadHfConfig((dir / "config.json").string()));
  Result<loader::SafetensorsModel> st = loader::SafetensorsModel::Open(path);
  if (!st.ok()) return st.status().WithContext(path.string());
  c->safetensors = std::move(*st);
  Result<ModelWeights> w = MapHfWeights(c->config, c->safetensors->tensors());
  c->weights_status = w.ok() ? OkStatus() : w.status().WithContext(path.string());
  if (w.ok()) c->weights = std::move(*w);
  return OkStatus();
}

Status OpenGgufPair(const fs::path& path, const fs::path& mmproj, Checkpoint* c) {
  c->format = WeightFormat::kGguf;
  Result<loader::GgufFile> text = loader::OpenGguf(path);
  if (!text.ok()) return text.status().WithContext(path.string());
  c->text_gguf = std::move(*text);
  Result<std::string> arch = c->text_gguf->GetString("general.architecture");
  if (arch.ok() && *arch == "clip") {
    return InvalidArgument(path.string() +
                           ": this is an mmproj (vision) GGUF; pass the text GGUF and --mmproj");
  }
  fs::path mm = mmproj;
  if (mm.empty()) {
    ASSIGN_OR_RETURN(std::optional<fs::path> found, FindMmproj(path));
    if (found.has_value()) mm = *found;
  }
  if (!mm.empty()) {
    Result<loader::GgufFile> m = loader::OpenGguf(mm);
    if (!m.ok()) return m.status().WithContext(mm.string());
    c->mmproj_gguf = std::move(*m);
    c->mmproj_path = mm;
  }
  Result<ModelConfig> config =
      ConfigFromGguf(*c->text_gguf, c->mmproj_gguf ? &*c->mmproj_gguf : nullptr);
  if (!config.ok()) {
    return config.status().WithContext(mm.empty() ? path.string()
                                                  : path.string() + " + " + mm.string());
  }
  c->config = std::move(*config);
  static const std::vector<loader::TensorInfo> kNone;
  Result<ModelWeights> w = MapGgufWeights(c->config, c->text_gguf->tensors(),
                                          c->mmproj_gguf ? c->mmproj_gguf->tensors() : kNone);
  c->weights_status = w.ok() ? OkStatus() : w.status();
  if (w.ok()) c->weights = std::move(*w);
  return OkStatus();
}

}  // namespace

Result<std::optional<fs::path>> FindMmproj(const fs::path& text_gguf) {
  std::error_code ec;
  fs::path dir = text_gguf.parent_path();
  if (dir.empty()) dir = ".";
  std::vector<fs::path> found;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find("mmproj") != std::string::npos && HasSuffix(name, ".gguf") &&
        it->is_regular_file(ec) && it->path() != text_gguf) {
      found.push_back(it->path());
    }
  }
  if (found.empty()) return std::optional<fs::path>();
  if (found.size() > 1) {
    return InvalidArgument(
        dir.string() + ": several mmproj GGUF files beside the model; choose one with --mmproj");
  }
  return std::optional<fs::path>(found[0]);
}

Result<std::unique_ptr<Checkpoint>> OpenCheckpoint(const fs::path& path, const fs::path& mmproj) {
  auto c = std::make_unique<Checkpoint>();
  c->path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path.string() + ": no such file or folder");
  const std::string name = path.filename().string();
  if (fs::is_directory(path, ec)) {
    if (!mmproj.empty()) return InvalidArgument("--mmproj applies to GGUF models only");
    RETURN_IF_ERROR(OpenHf(path, c.get()));
  } else if (HasSuffix(name, ".safetensors")) {
    if (!mmproj.empty()) return InvalidArgument("--mmproj applies to GGUF models only");
    RETURN_IF_ERROR(OpenHf(path, c.get()));
  } else if (HasSuffix(name, ".gguf")) {
    RETURN_IF_ERROR(OpenGgufPair(path, mmproj, c.get()));
  } else {
    return InvalidArgument(path.string() +
                           ": not a model (expected a folder, a .safetensors or a .gguf file)");
  }
  return c;
}

std::vector<const MappedFile*> Mappings(const Checkpoint& c) {
  std::vector<const MappedFile*> out;
  if (c.safetensors) {
    for (const MappedFile& f : c.safetensors->mappings()) out.push_back(&f);
  }
  for (const auto* g : {&c.text_gguf, &c.mmproj_gguf}) {
    if (g->has_value() && (*g)->mapping() != nullptr) out.push_back((*g)->mapping());
  }
  return out;
}

}  // namespace ocular::qwen3vl
