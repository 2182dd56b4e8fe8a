#include "hub/hub_download.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/sha256.h"

namespace ocular::hub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kManifest = ".ocular-complete.json";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsNamePart(std::string_view s) {
  if (s.empty() || s.size() > 96 || s == "." || s == ".." || s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A plain file name in the repository root that is weights, configuration or tokenizer data.
// Hub file names are untrusted: no folders, no hidden files, nothing that could be code.
bool IsWantedFile(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.' || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.find("..") != std::string::npos) {
    return false;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  const std::string l = Lower(name);
  return EndsWith(l, ".safetensors") || EndsWith(l, ".gguf") || EndsWith(l, ".json") || EndsWith(l, ".jinja") ||
         l == "tokenizer.model" || l == "vocab.txt" || l == "merges.txt";
}

// "\"abc\"", "W/\"abc\"" -> the sha256 when it is one (64 hex digits), else "".
std::string Sha256FromEtag(std::string v) {
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
  v = Lower(v);
  if (v.size() != 64 || v.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
  return v;
}

Result<std::string> FileSha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Unavailable(p.filename().string() + ": cannot read the downloaded file");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    if (in.gcount() > 0) h.Update(buf.data(), size_t(in.gcount()));
  }
  const Sha256Digest d = h.Finish();
  return ToHex(d);
}

struct RepoFile {
  std::string name;
  std::string sha256;  // "" when the listing does not say (small, non-LFS files)
  int64_t size = -1;
};

class Progress {
 public:
  Progress(bool enabled, std::string name) : enabled_(enabled), tty_(::isatty(2)), name_(std::move(name)) {}
  void Update(uint64_t done, int64_t total) {
    done_ = done;
    total_ = total;
    if (!enabled_ || !tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    Print('\r');
  }
  void Finish() {
    if (enabled_) Print('\n');
  }

 private:
  void Print(char end) {
    const double mib = double(done_) / (1 << 20);
    if (total_ > 0) {
      const int pct = int(100.0 * double(done_) / double(total_));
      const int bar = pct / 5;
      std::fprintf(stderr, "\rhf: %-40.40s [%.*s%*s] %3d%% %.1f/%.1f MiB%c", name_.c_str(), bar,
                   "====================", 20 - bar, "", pct, mib, double(total_) / (1 << 20), end == '\n' ? '\n' : ' ');
    } else {
      std::fprintf(stderr, "\rhf: %-40.40s %.1f MiB%c", name_.c_str(), mib, end == '\n' ? '\n' : ' ');
    }
    std::fflush(stderr);
  }
  bool enabled_, tty_;
  std::string name_;
  uint64_t done_ = 0;
  int64_t total_ = -1;
  std::chrono::steady_clock::time_point last_{};
};

class HubClient {
 public:
  HubClient(const HubRef& ref, const HubOptions& o) : ref_(ref), o_(o) {}

  httplib::Headers Headers() const {
    httplib::Headers h{{"User-Agent", "ocular"}};
    if (!o_.token.empty()) h.emplace("Authorization", "Bearer " + o_.token);
    return h;
  }

  std::unique_ptr<httplib::Client> Client(const std::string& scheme_host_port) const {
    auto c = std::make_unique<httplib::Client>(scheme_host_port);
    c->set_follow_location(false);
    c->set_connection_timeout(10, 0);
    c->set_read_timeout(60, 0);
    c->enable_server_certificate_verification(true);
    if (!o_.ca_file.empty()) c->set_ca_cert_path(o_.ca_file.c_str());
    return c;
  }

  Result<std::vector<RepoFile>> ListFiles() const {
    auto c = Client(o_.endpoint);
    const std::string path = "/api/models/" + ref_.id() + "/revision/" + o_.revision + "?blobs=true";
    auto r = c->Get(path.c_str(), Headers());
    if (!r) return Unavailable("cannot reach " + o_.endpoint);
    if (r->status == 401 || r->status == 403) return PermissionDenied("the hub refused access (gated or private repository; set HF_TOKEN)");
    if (r->status == 404) return NotFound("no such repository or revision on the hub");
    if (r->status != 200) return Unavailable("the hub answered HTTP " + std::to_string(r->status));
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j.contains("siblings") || !j["siblings"].is_array()) {
      return Unavailable("the hub sent an unexpected file list");
    }
    std::vector<RepoFile> files;
    for (const json& s : j["siblings"]) {
      if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
      RepoFile f;
      f.name = s["rfilename"].get<std::string>();
      if (s.contains("size") && s["size"].is_number_integer()) f.size = s["size"].get<int64_t>();
      if (s.contains("lfs") && s["lfs"].is_object()) {
        const json& l = s["lfs"];
        if (l.contains("sha256") && l["sha256"].is_string()) f.sha256 = Sha256FromEtag(l["sha256"].get<std::string>());
        if (l.contains("size") && l["size"].is_number_integer()) f.size = l["size"].get<int64_t>();
      }
      files.push_back(std::move(f));
    }
    return files;
  }

  // Downloads one file into `dest` through `dest`.part (resumed when it exists).
  Status Download(const RepoFile& file, const fs::path& dest) const {
    const fs::path part = dest.string() + ".part";
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string sha = file.sha256;
      RETURN_IF_ERROR(DownloadOnce(file, part, &sha));
      if (!sha.empty()) {
        ASSIGN_OR_RETURN(std::string got, FileSha256(part));
        if (got != sha) {
          std::error_code ec;
          fs::remove(part, ec);  // corrupt (e.g. a bad resumed prefix): start over once
          if (attempt == 0) std::fprintf(stderr, "hf: %s failed its checksum; downloading it again\n", file.name.c_str());
          continue;
        }
      }
      std::error_code ec;
      fs::rename(part, dest, ec);
      if (ec) return Unavailable(file.name + ": cannot move the download into the cache");
      return OkStatus();
    }
    return DataLoss(file.name + ": checksum mismatch after downloading it twice");
  }

 private:
  Status DownloadOnce(const RepoFile& file, const fs::path& part, std::string* sha) const {
    std::error_code ec;
    uint64_t offset = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
    if (ec) offset = 0;
    if (file.size >= 0 && offset > uint64_t(file.size)) {
      fs::remove(part, ec);
      offset = 0;
    }
    if (file.size >= 0 && offset == uint64_t(file.size) && offset > 0) return OkStatus();  // verified by the caller
    std::string host = o_.endpoint;
    std::string path = "/" + ref_.id() + "/resolve/" + o_.revision + "/" + file.name;
    Progress progress(o_.progress, file.name);
    for (int hop = 0; hop < 5; ++hop) {
      auto c = Client(host);
      httplib::Headers h = Headers();
      if (offset > 0) h.emplace("Range", "bytes=" + std::to_string(offset) + "-");
      int status = 0;
      std::string location;
      std::ofstream out;
      uint64_t done = offset;
      bool write_failed = false;
      auto res = c->Get(
          path.c_str(), h,
          [&](const httplib::Response& r) {
            status = r.status;
            if (sha->empty()) {
              std::string e = Sha256FromEtag(r.get_header_value("X-Linked-Etag"));
              if (e.empty()) e = Sha256FromEtag(r.get_header_value("ETag"));
              *sha = e;
            }
            if (r.status >= 300 && r.status < 400) {
              location = r.get_header_value("Location");
              return false;
            }
            if (r.status == 200) {
              done = 0;  // the server ignored the range: start over
              out.open(part, std::ios::binary | std::ios::trunc);
            } else if (r.status == 206) {
              out.open(part, std::ios::binary | std::ios::app);
            } else {
              return false;
            }
            return bool(out);
          },
          [&](const char* data, size_t n) {
            out.write(data, std::streamsize(n));
            if (!out) {
              write_failed = true;
              return false;
            }
            done += n;
            progress.Update(done, file.size);
            return true;
          });
      if (!location.empty()) {
        // A redirect (LFS files go to a CDN): absolute, or a path on the same host.
        if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
          const size_t slash = location.find('/', location.find("://") + 3);
          host = location.substr(0, slash);
          path = slash == std::string::npos ? "/" : location.substr(slash);
        } else if (!location.empty() && location[0] == '/') {
          path = location;
        } else {
          return Unavailable(file.name + ": the hub sent an unsupported redirect");
        }
        continue;
      }
      if (write_failed) return Unavailable(file.name + ": cannot write to the cache (disk full?)");
      if (status == 416 && offset > 0) {  // nothing left past our offset: let the checksum decide
        progress.Finish();
        return OkStatus();
      }
      if (status == 404) return NotFound(file.name + ": not found on the hub");
      if (status == 401 || status == 403) return PermissionDenied(file.name + ": the hub refused access");
      if (status != 200 && status != 206) {
        if (status == 0) return Unavailable(file.name + ": download interrupted (" + std::to_string(done) + " bytes kept for resuming)");
        return Unavailable(file.name + ": the hub answered HTTP " + std::to_string(status));
      }
      out.close();
      if (!res) return Unavailable(file.name + ": download interrupted (" + std::to_string(done) + " bytes kept for resuming)");
      if (file.size >= 0 && done != uint64_t(file.size)) {
        return Unavailable(file.name + ": download ended early (" + std::to_string(done) + " bytes kept for resuming)");
      }
      progress.Finish();
      return OkStatus();
    }
    return Unavailable(file.name + ": too many redirects");
  }

  const HubRef& ref_;
  const HubOptions& o_;
};

// Chooses the files to fetch: see the header.
Result<std::vector<RepoFile>> SelectFiles(const std::vector<RepoFile>& all, const std::string& selector,
                                          std::string* model_file, std::string* mmproj_file) {
  std::vector<RepoFile> wanted;
  for (const auto& f : all) {
    if (IsWantedFile(f.name)) wanted.push_back(f);
  }
  const bool has_safetensors = std::any_of(wanted.begin(), wanted.end(), [](const RepoFile& f) {
    return EndsWith(Lower(f.name), ".safetensors");
  });
  const bool selects_gguf = EndsWith(Lower(selector), ".gguf");
  if (has_safetensors && !selects_gguf) {
    std::vector<RepoFile> out;
    for (const auto& f : wanted) {
      if (!EndsWith(Lower(f.name), ".gguf")) out.push_back(f);
    }
    if (!std::any_of(out.begin(), out.end(), [](const RepoFile& f) { return f.name == "config.json"; })) {
      return NotFound("the repository has no config.json");
    }
    return out;
  }
  std::vector<const RepoFile*> text, proj;
  for (const auto& f : wanted) {
    const std::string l = Lower(f.name);
    if (!EndsWith(l, ".gguf")) continue;
    (l.find("mmproj") != std::string::npos ? proj : text).push_back(&f);
  }
  if (text.empty()) return NotFound("the repository has neither safetensors nor GGUF weights");
  const RepoFile* pick = nullptr;
  auto find = [&](const std::string& needle) -> const RepoFile* {
    for (const RepoFile* f : text) {
      if (f->name == needle) return f;
    }
    for (const RepoFile* f : text) {
      if (Lower(f->name).find(Lower(needle)) != std::string::npos) return f;
    }
    return nullptr;
  };
  if (!selector.empty()) {
    pick = find(selector);
    if (!pick) return NotFound("no GGUF file matches '" + selector + "' in the repository");
  } else {
    pick = find("q8_0");
    if (!pick) pick = find("f16");
    if (!pick) pick = text.front();
  }
  std::vector<RepoFile> out{*pick};
  *model_file = pick->name;
  if (!proj.empty()) {
    const RepoFile* p = proj.front();
    for (const RepoFile* f : proj) {
      if (Lower(f->name).find("f16") != std::string::npos) p = f;
    }
    out.push_back(*p);
    *mmproj_file = p->name;
  }
  return out;
}

}  // namespace

bool IsHubRef(std::string_view model) { return model.rfind("hf:", 0) == 0; }

Result<HubRef> ParseHubRef(std::string_view model) {
  if (!IsHubRef(model)) return InvalidArgument("a hub model is written hf:OWNER/REPO[:FILE-or-QUANT]");
  std::string_view rest = model.substr(3);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return InvalidArgument("a hub model is written hf:OWNER/REPO[:FILE-or-QUANT]");
  HubRef ref;
  ref.owner = std::string(rest.substr(0, slash));
  std::string_view repo = rest.substr(slash + 1);
  const size_t colon = repo.find(':');
  if (colon != std::string_view::npos) {
    ref.selector = std::string(repo.substr(colon + 1));
    repo = repo.substr(0, colon);
    if (!IsNamePart(ref.selector) && !IsWantedFile(ref.selector)) {
      return InvalidArgument("the hub file/quant selector has forbidden characters");
    }
  }
  ref.repo = std::string(repo);
  if (!IsNamePart(ref.owner) || !IsNamePart(ref.repo)) {
    return InvalidArgument("hub owner and repository names use letters, digits, '-', '_' and '.'");
  }
  return ref;
}

fs::path DefaultHubCacheDir() {
  if (const char* d = std::getenv("OCULAR_CACHE_DIR"); d && *d) return fs::path(d) / "hub";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache/ocular/hub";
  return fs::path(".ocular-cache/hub");
}

Result<HubModel> FetchHubModel(const HubRef& ref, const HubOptions& o) {
  const fs::path cache = o.cache_dir.empty() ? DefaultHubCacheDir() : o.cache_dir;
  const std::string rev = IsNamePart(o.revision) ? o.revision : "main";
  const fs::path dir = cache / ref.owner / ref.repo / (rev + (ref.selector.empty() ? "" : "@" + ref.selector));
  const std::string what = "hf:" + ref.id();
  // A complete cached copy: used as is, without the network.
  auto cached = [&]() -> std::optional<HubModel> {
    std::ifstream in(dir / kManifest);
    if (!in) return std::nullopt;
    json m = json::parse(in, nullptr, false);
    if (!m.is_object() || !m.contains("files") || !m["files"].is_array() || !m.contains("model")) return std::nullopt;
    for (const json& f : m["files"]) {
      std::error_code ec;
      if (!f.is_string() || !fs::is_regular_file(dir / f.get<std::string>(), ec)) return std::nullopt;
    }
    HubModel hm;
    const std::string model = m["model"].is_string() ? m["model"].get<std::string>() : "";
    hm.model = model.empty() ? dir : dir / model;
    if (m.contains("mmproj") && m["mmproj"].is_string() && !m["mmproj"].get<std::string>().empty()) {
      hm.mmproj = dir / m["mmproj"].get<std::string>();
    }
    hm.from_cache = true;
    return hm;
  };
  if (auto hm = cached()) return *hm;
  if (o.offline) {
    return Unavailable(what + ": offline and no complete cached copy in " + dir.string());
  }
  HubRef r = ref;
  HubOptions opts = o;
  opts.revision = rev;
  HubClient client(r, opts);
  auto listing = client.ListFiles();
  if (!listing.ok()) {
    return Status(listing.status().code(), what + ": " + listing.status().message() +
                                               " and no complete cached copy in " + dir.string());
  }
  std::string model_file, mmproj_file;
  ASSIGN_OR_RETURN(auto files, SelectFiles(*listing, ref.selector, &model_file, &mmproj_file));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable(what + ": cannot create the cache folder " + dir.string());
  json names = json::array();
  for (const RepoFile& f : files) {
    const fs::path dest = dir / f.name;
    names.push_back(f.name);
    if (fs::is_regular_file(dest, ec)) continue;  // finished (and verified) earlier
    Status st = client.Download(f, dest);
    if (!st.ok()) return Status(st.code(), what + ": " + st.message());
  }
  json manifest = {{"repo", ref.id()}, {"revision", rev}, {"files", names}, {"model", model_file},
                   {"mmproj", mmproj_file}};
  {
    std::ofstream out(dir / (std::string(kManifest) + ".tmp"));
    out << manifest.dump(1);
    if (!out) return Unavailable(what + ": cannot write to the cache folder " + dir.string());
  }
  fs::rename(dir / (std::string(kManifest) + ".tmp"), dir / kManifest, ec);
  HubModel hm;
  hm.model = model_file.empty() ? dir : dir / model_file;
  if (!mmproj_file.empty()) hm.mmproj = dir / mmproj_file;
  return hm;
}

}  // namespace ocular::hub
