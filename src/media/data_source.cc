#include "media/data_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>

namespace ocular::media {
namespace {

constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(a[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kBase64 = MakeBase64Table();

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// File descriptor owner.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::vector<uint8_t>> DecodeBase64Strict(std::string_view text, uint64_t max_bytes) {
  if (text.size() % 4 != 0) return InvalidArgument("invalid base64: length is not a multiple of 4");
  if (text.size() / 4 * 3 > max_bytes + 2) return ResourceExhausted("base64 payload exceeds the size limit");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const unsigned char c = static_cast<unsigned char>(text[i + j]);
      int8_t d = kBase64[c];
      if (c == '=' && last && j >= 4 - pad) {
        d = 0;
      } else if (d < 0) {
        return InvalidArgument("invalid base64: unexpected character");
      }
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (!last || pad < 2) out.push_back(static_cast<uint8_t>(v >> 8));
    if (!last || pad < 1) out.push_back(static_cast<uint8_t>(v));
    if (last && ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0))) {
      return InvalidArgument("invalid base64: non-canonical padding bits");
    }
  }
  if (out.size() > max_bytes) return ResourceExhausted("base64 payload exceeds the size limit");
  return out;
}

Result<MediaBytes> ParseDataUrl(std::string_view url, uint64_t max_bytes) {
  if (!StartsWithNoCase(url, "data:")) return InvalidArgument("not a data: URL");
  std::string_view rest = url.substr(5);
  const size_t comma = rest.find(',');
  if (comma == std::string_view::npos) return InvalidArgument("malformed data: URL (no comma)");
  std::string_view header = rest.substr(0, comma);
  std::string_view payload = rest.substr(comma + 1);
  constexpr std::string_view kBase64Suffix = ";base64";
  if (header.size() < kBase64Suffix.size() ||
      !StartsWithNoCase(header.substr(header.size() - kBase64Suffix.size()), kBase64Suffix)) {
    return InvalidArgument("data: URL must be base64-encoded");
  }
  header.remove_suffix(kBase64Suffix.size());
  const std::string_view mime = header.substr(0, header.find(';'));
  if (mime.empty() || mime.find('/') == std::string_view::npos || mime.size() > 128) {
    return InvalidArgument("data: URL has no valid media type");
  }
  MediaBytes out;
  ASSIGN_OR_RETURN(out.bytes, DecodeBase64Strict(payload, max_bytes));
  out.declared_mime = std::string(mime);
  return out;
}

Result<MediaRoot> MediaRoot::Create(const std::filesystem::path& root) {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  if (ec || !std::filesystem::is_directory(canonical, ec)) return NotFound("media root is not a directory");
  return MediaRoot(canonical);
}

Result<std::filesystem::path> MediaRoot::Resolve(std::string_view ref) const {
  std::string_view path = ref;
  // Any other URL scheme (or "file:" without "//") is not a media-root path.
  const size_t colon = ref.find(':');
  const bool has_scheme = colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(ref[0])) &&
                          ref.substr(0, colon).find_first_not_of(
                              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") == std::string_view::npos;
  if (has_scheme && !StartsWithNoCase(ref, "file://")) {
    return PermissionDenied("only file:// URLs and plain paths refer to the media root");
  }
  if (StartsWithNoCase(ref, "file://")) {
    path = ref.substr(7);
    if (path.empty() || path.front() != '/') return PermissionDenied("file URL must have an absolute local path");
    if (path.find_first_of("%?#") != std::string_view::npos) {
      return PermissionDenied("file URL with escapes, query or fragment is not accepted");
    }
  }
  if (path.empty() || path.find('\0') != std::string_view::npos) return InvalidArgument("empty media path");
  std::filesystem::path p(path);
  if (p.is_relative()) p = root_ / p;
  std::error_code ec;
  auto canonical = std::filesystem::canonical(p, ec);
  if (ec) return NotFound("media file not found");
  auto rel = canonical.lexically_relative(root_);
  if (rel.empty() || *rel.begin() == ".." || rel.is_absolute()) {
    return PermissionDenied("media path is outside the media root");
  }
  return canonical;
}

Result<std::vector<uint8_t>> MediaRoot::ReadFile(std::string_view ref, uint64_t max_bytes) const {
  ASSIGN_OR_RETURN(std::filesystem::path path, Resolve(ref));
  // The canonical path has no symlinks; O_NOFOLLOW refuses one swapped in since.
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (fd.fd < 0) return NotFound("media file cannot be opened");
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) return PermissionDenied("media path is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return ResourceExhausted("media file exceeds the size limit");
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(fd.fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return DataLoss("media file could not be read completely");
    got += static_cast<size_t>(n);
  }
  return bytes;
}

}  // namespace ocular::media
