// SafetensorsModel::Open: single files and sharded folders (model.safetensors.index.json).
#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "model/loader/json_guard.h"
#include "model/loader/safe_name.h"
#include "model/loader/safetensors.h"

namespace ocular::loader {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr uint64_t kMaxIndexBytes = 64ull << 20;

// A weight_map value must name a file directly inside the model folder.
bool IsPlainFileName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\\' || c == '\0') return false;
  }
  return true;
}

}  // namespace

const TensorInfo* SafetensorsModel::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t SafetensorsModel::total_file_bytes() const {
  uint64_t total = 0;
  for (const MappedFile& f : files_) total += f.size();
  return total;
}

void SafetensorsModel::AdviseWillNeed() const {
  for (const MappedFile& f : files_) f.AdviseWillNeed();
}

Result<SafetensorsModel> SafetensorsModel::Open(const fs::path& path) {
  std::error_code ec;
  SafetensorsModel model;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound(path.string() + ": no such file or folder");

  auto add_shard = [&model](const fs::path& file,
                            const std::map<std::string, std::string>* expected_names,
                            const std::string& shard_name) -> Status {
    ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(file.string()));
    Result<SafetensorsContents> parsed = ParseSafetensors(mapped.bytes());
    if (!parsed.ok()) return parsed.status().WithContext(file.filename().string());
    if (model.files_.empty()) model.metadata_ = parsed->metadata;
    for (TensorInfo& t : parsed->tensors) {
      if (expected_names != nullptr) {
        auto it = expected_names->find(t.name);
        if (it == expected_names->end()) {
          return InvalidArgument(file.filename().string() + ": tensor " + SafeName(t.name) +
                                 " is not listed in " + kIndexFile);
        }
        if (it->second != shard_name) {
          return InvalidArgument(file.filename().string() + ": tensor " + SafeName(t.name) +
                                 " is listed in " + kIndexFile + " under another shard");
        }
      }
      if (!model.index_.emplace(t.name, model.tensors_.size()).second) {
        return InvalidArgument(file.filename().string() + ": tensor " + SafeName(t.name) +
                               " appears in more than one shard");
      }
      model.tensors_.push_back(std::move(t));
    }
    // Moving a MappedFile keeps its mapping address, so the TensorInfo pointers stay valid.
    model.files_.push_back(std::move(mapped));
    return OkStatus();
  };

  if (fs::is_regular_file(st)) {
    // The index file itself names a sharded folder.
    if (path.filename() == kIndexFile) return Open(path.parent_path().empty() ? "." : path.parent_path());
    RETURN_IF_ERROR(add_shard(path, nullptr, ""));
    return model;
  }
  if (!fs::is_directory(st)) return InvalidArgument(path.string() + ": not a file or folder");

  const fs::path index_path = path / kIndexFile;
  if (!fs::exists(index_path, ec)) {
    const fs::path single = path / kSingleFile;
    if (!fs::exists(single, ec)) {
      return NotFound(path.string() + ": neither " + kSingleFile + " nor " + kIndexFile);
    }
    RETURN_IF_ERROR(add_shard(single, nullptr, ""));
    return model;
  }

  // Sharded: read and validate the index first.
  ASSIGN_OR_RETURN(MappedFile index_file, MappedFile::Open(index_path.string()));
  if (index_file.size() > kMaxIndexBytes) {
    return OutOfRange(std::string(kIndexFile) + " is larger than " +
                      std::to_string(kMaxIndexBytes) + " bytes");
  }
  std::string_view text(reinterpret_cast<const char*>(index_file.data()), index_file.size());
  ASSIGN_OR_RETURN(nlohmann::json index, ParseJsonStrict(text, kMaxJsonDepth, kIndexFile));
  if (!index.is_object()) return InvalidArgument(std::string(kIndexFile) + " is not an object");
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object()) {
    return InvalidArgument(std::string(kIndexFile) + ": missing \"weight_map\" object");
  }
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
  std::set<std::string> shards;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string()) {
      return InvalidArgument(std::string(kIndexFile) + ": weight_map values must be strings");
    }
    const std::string& shard = it->get_ref<const std::string&>();
    if (!IsPlainFileName(shard)) {
      return PermissionDenied(std::string(kIndexFile) + ": shard path for tensor " +
                              SafeName(it.key()) +
                              " is not a plain file name inside the model folder");
    }
    weight_map.emplace(it.key(), shard);
    shards.insert(shard);
  }
  if (shards.empty()) return InvalidArgument(std::string(kIndexFile) + ": empty weight_map");

  // Confinement: after resolving symlinks each shard must still sit directly in the folder.
  const fs::path root = fs::canonical(path, ec);
  if (ec) return InvalidArgument(path.string() + ": cannot resolve folder");
  for (const std::string& shard : shards) {
    fs::path resolved = fs::canonical(path / shard, ec);
    if (ec) return NotFound(SafeName(shard) + ": shard named in " + kIndexFile + " is missing");
    if (resolved.parent_path() != root) {
      return PermissionDenied(SafeName(shard) + ": shard resolves outside the model folder");
    }
    RETURN_IF_ERROR(add_shard(resolved, &weight_map, shard));
  }
  // Every indexed tensor must have been found in its shard.
  for (const auto& [name, shard] : weight_map) {
    if (model.index_.find(name) == model.index_.end()) {
      return DataLoss(SafeName(shard) + ": tensor " + SafeName(name) + " named in " + kIndexFile +
                      " is missing from its shard");
    }
  }
  return model;
}

}  // namespace ocular::loader
