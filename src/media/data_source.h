// Where media bytes come from: raw request bytes, base64 `data:` URLs and files under a
// configured media root. Whatever the source, the bytes then go through DecodeImage() /
// DecodeVideo() (fetched http(s) bytes too: the fetcher lives with the server and hands its
// bytes and Content-Type to the same entry points).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ocular::media {

// Strict RFC 4648 base64 (standard alphabet): length a multiple of 4, '=' padding required
// and only at the end, no whitespace or line breaks, unused bits of the last symbol zero
// (canonical encoding only). InvalidArgument otherwise; ResourceExhausted above max_bytes
// (checked on the encoded length before decoding).
Result<std::vector<uint8_t>> DecodeBase64Strict(std::string_view text, uint64_t max_bytes);

struct MediaBytes {
  std::vector<uint8_t> bytes;
  std::optional<std::string> declared_mime;  // from the data: URL; checked by the decoder
};

// `data:<mime>[;param=value]*;base64,<payload>`. Only base64 payloads are accepted; the
// MIME type is returned so DecodeImage() can compare it with the sniffed content.
Result<MediaBytes> ParseDataUrl(std::string_view url, uint64_t max_bytes);

// Files under one directory. Paths (plain, relative to the root, or `file://` URLs with an
// absolute path) are canonicalised (symlinks resolved) and must stay inside the root;
// anything else is PermissionDenied. '%', '?' and '#' in file URLs are refused rather than
// interpreted. Only regular files are read, up to max_bytes.
class MediaRoot {
 public:
  static Result<MediaRoot> Create(const std::filesystem::path& root);
  Result<std::vector<uint8_t>> ReadFile(std::string_view path_or_file_url, uint64_t max_bytes) const;
  Result<std::filesystem::path> Resolve(std::string_view path_or_file_url) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  explicit MediaRoot(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;  // canonical
};

}  // namespace ocular::media
