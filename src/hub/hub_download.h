// `--model hf:OWNER/REPO[:FILE-or-QUANT]`: fetching a checkpoint from the Hugging Face hub into
// a local cache.
//
// Protocol (the hub's public file API):
//   GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true -> {"siblings": [{"rfilename",
//       "size"?, "lfs"?: {"sha256", "size"}}]}
//   GET {endpoint}/{repo}/resolve/{rev}/{file} -> 200 (small files) or 302 to a CDN (LFS);
//       X-Linked-Etag (or ETag) carries an LFS file's sha256.
// Only weights and configuration are fetched: *.safetensors, *.gguf, *.json, *.jinja and
// tokenizer files (tokenizer.model, vocab/merges text). Never code or pickles (.py, .bin, .pt,
// .pkl, ...). A safetensors repository gives every safetensors + json + tokenizer file; a GGUF
// repository gives one text GGUF chosen by the selector (a file name, or a quant such as
// Q4_K_M matched case-insensitively; default Q8_0, then F16, then the first) plus its mmproj.
//
// Cache: {cache_dir}/{owner}/{repo}/{rev}/{file}; downloads go to {file}.part and are resumed
// with a Range request; each finished file is checked against its sha256 when the hub gives
// one (a mismatch discards the file and downloads it once more from the start); a
// `.ocular-complete.json` manifest marks a complete copy, which is then used without any
// network access (also when the hub cannot be reached). Progress goes to stderr.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ocular::hub {

struct HubRef {
  std::string owner, repo;  // "Qwen", "Qwen3-VL-2B-Instruct"
  std::string selector;     // file name or quant; empty: default choice
  std::string id() const { return owner + "/" + repo; }
};

// True for strings that start with "hf:".
bool IsHubRef(std::string_view model);
// Errors: InvalidArgument naming the defect.
Result<HubRef> ParseHubRef(std::string_view model);

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // --hf-endpoint / HF_ENDPOINT
  std::string revision = "main";
  std::filesystem::path cache_dir;  // empty: $OCULAR_CACHE_DIR, else ~/.cache/ocular/hub
  std::string token;                // optional bearer token (HF_TOKEN)
  bool offline = false;             // never touch the network (HF_HUB_OFFLINE=1)
  bool progress = true;             // progress bar on stderr
  std::string ca_file;              // extra CA bundle for https (tests); empty: system store
};

struct HubModel {
  std::filesystem::path model;   // the folder (safetensors) or the text GGUF
  std::filesystem::path mmproj;  // the vision projector GGUF, if any
  bool from_cache = false;       // a complete cached copy was used without downloading
};

// The cache folder HubOptions resolve to (cache_dir, $OCULAR_CACHE_DIR or ~/.cache/ocular/hub).
std::filesystem::path DefaultHubCacheDir();

// Downloads (or finds in the cache) the files of `ref`. Errors carry one clear line, e.g.
// Unavailable "hf:Qwen/X: cannot reach https://huggingface.co and no complete cached copy in
// DIR", NotFound (no such repository/file), DataLoss (checksum mismatch twice).
Result<HubModel> FetchHubModel(const HubRef& ref, const HubOptions& options);

}  // namespace ocular::hub
