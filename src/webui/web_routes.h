// Serves the embedded web UI on an httplib::Server: GET "/", "/index.html" and "/assets/...".
// The server calls RegisterWebUiRoutes once while it sets up its routes (unless --no-webui).
#pragma once

namespace httplib {
class Server;
}

namespace ocular::webui {

// Adds the routes. Pages get a strict same-origin Content-Security-Policy; content-hashed
// assets are cacheable forever. Bodies stored gzip-compressed (to keep the binary small) are
// inflated per request; the HTTP library compresses responses for clients that accept it.
// A server built without the UI (empty table) adds nothing.
void RegisterWebUiRoutes(httplib::Server& server);

}  // namespace ocular::webui
