// The web UI's built files (web/ -> Vite -> dist/), compiled into the binary so `ocular serve`
// can offer the chat page at "/" with no files on disk. Built with OCULAR_BUILD_WEB=ON; with it
// OFF the table is empty and FindWebAsset always returns null.
#pragma once

#include <cstddef>
#include <string_view>

namespace ocular::webui {

struct WebAsset {
  std::string_view path;              // "/index.html", "/assets/index-<hash>.js"
  std::string_view content_type;      // "text/javascript; charset=utf-8"
  std::string_view body;              // bytes as stored (see content_encoding)
  std::string_view content_encoding;  // "gzip" when `body` is gzip-compressed, else empty
  bool immutable = false;             // content-hashed name: cacheable forever
};

// Looks up a request path ("/" means "/index.html"; a query string is ignored). Null when absent.
const WebAsset* FindWebAsset(std::string_view path);

// Number of embedded files (0 when the UI was not built).
size_t WebAssetCount();

}  // namespace ocular::webui
