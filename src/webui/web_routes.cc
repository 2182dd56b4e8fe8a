#include "webui/web_routes.h"

#include <httplib.h>
#include <zlib.h>

#include <string>

#include "webui/web_assets.h"

namespace ocular::webui {
namespace {

// Nothing but this origin: scripts, styles, fonts, API calls. Images and videos may also be
// data:/blob: URLs (attachments previewed before upload). Inline style attributes are needed by
// KaTeX's output.
constexpr char kCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

// Inflates a gzip body; false on a corrupt table (a build defect).
bool Gunzip(std::string_view in, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[1 << 16];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  return rc == Z_STREAM_END;
}

void Serve(const httplib::Request& req, httplib::Response& res) {
  const WebAsset* a = FindWebAsset(req.path);
  if (a == nullptr) {
    res.status = 404;
    res.set_content(R"({"error":{"message":"no such file","type":"not_found_error","param":null,"code":null}})",
                    "application/json");
    return;
  }
  res.set_header("Cache-Control", a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (a->content_type.rfind("text/html", 0) == 0) {
    res.set_header("Content-Security-Policy", kCsp);
    res.set_header("X-Frame-Options", "DENY");
  }
  res.set_header("Vary", "Accept-Encoding");
  // cpp-httplib (built with zlib and brotli) compresses text bodies itself for clients that
  // accept it, without looking at a Content-Encoding already set: hand it the plain bytes.
  if (a->content_encoding.empty()) {
    res.set_content(a->body.data(), a->body.size(), std::string(a->content_type));
    return;
  }
  std::string plain;
  if (!Gunzip(a->body, &plain)) {
    res.status = 500;
    res.set_content(R"({"error":{"message":"internal error","type":"server_error","param":null,"code":null}})",
                    "application/json");
    return;
  }
  res.set_content(std::move(plain), std::string(a->content_type));
}

}  // namespace

void RegisterWebUiRoutes(httplib::Server& server) {
  if (WebAssetCount() == 0) return;
  server.Get("/", Serve);
  server.Get("/index.html", Serve);
  server.Get(R"(/assets/[A-Za-z0-9._-]+)", Serve);
}

}  // namespace ocular::webui
