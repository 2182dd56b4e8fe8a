// The OpenAI-compatible HTTP front end over one Engine (cpp-httplib kept behind this class).
//
// Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, POST /tokenize,
// POST /detokenize, GET /health, GET /ready, GET /metrics. Inference routes (/v1/*, /tokenize,
// /detokenize) require `Authorization: Bearer <api_key>` when an API key is set (constant-time
// compare). Errors use the OpenAI shape {"error": {"message", "type", "param", "code"}}.
//
// Usage extension (non-streaming `usage`, and the final streaming chunk's `usage` when
// stream_options.include_usage is set; the final chunk always carries the same object as
// `x_ocular`): prompt_tokens_details.cached_tokens, timings {queue_ms, fetch_ms, preprocess_ms,
// encode_ms, prefill_ms, decode_ms, ttft_ms, total_ms}, media [{id, tokens, cache, distance?,
// prefix?}]. `cache` is "miss", "hit" or "similar"; an item whose tokens came from the prefix
// cache (no encode, no feature lookup) is reported as "hit" with "prefix": true.
// Non-streaming responses also carry a Server-Timing header with the same stages.
//
// Streams hold one HTTP worker each; the worker pool is sized by `http_threads`. A client that
// disconnects mid-stream cancels its request (the handle is destroyed when a write fails).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/engine.h"
#include "server/chat_request.h"
#include "server/metrics.h"

namespace httplib {
class Server;
}

namespace ocular::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0: any free port
  std::string api_key;                   // empty: no authentication
  std::string cors_origin;               // empty: no CORS headers
  uint64_t max_body_bytes = 32ull << 20;
  int http_threads = 1024;               // worker pool: one per open stream
  std::string served_model_name = "ocular";
  bool demo_model = false;               // shown in /v1/models
  bool webui = true;                     // serve the embedded web UI at "/" (src/webui)
  int header_timeout_s = 10;             // read timeout
  int idle_timeout_s = 60;               // keep-alive
  int write_timeout_s = 30;              // stalled writer
  int retry_after_s = 1;                 // 429 Retry-After
  // Scale-out (docs/scale-out.md): every response carries `X-Ocular-Replica: <name>` and
  // inference responses echo the session key (header X-Ocular-Session, else the body's `user`)
  // as `X-Ocular-Session`; usage (and x_ocular) carry {"replica", "session"} too.
  std::string replica_name;              // empty: no replica header/field
};

class HttpServer {
 public:
  // `engine` and everything `model` points to must outlive the server.
  HttpServer(engine::Engine& engine, ModelContext model, HttpOptions options);
  ~HttpServer();

  // Binds (port 0: a free port). Returns the bound port.
  Result<int> Bind();
  // Serves until Stop(); blocks. Call after Bind().
  void Serve();
  void Stop();
  // Readiness goes false at once; new inference requests get 503; streams continue.
  void StartDrain();
  void SetReady(bool ready) { ready_.store(ready); }
  // Before Serve() only (handlers read it without a lock); e.g. once Bind() chose the port.
  void SetReplicaName(std::string name) { options_.replica_name = std::move(name); }
  // Open inference requests (streams and non-streaming waits).
  int64_t active_requests() const { return active_.load(); }
  // Cancels every request still running (after the grace period).
  void CancelAll() { cancel_all_.store(true); }

 private:
  void Routes();
  engine::Engine& engine_;
  ModelContext model_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> http_;
  ServerMetrics metrics_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> cancel_all_{false};
  std::atomic<int64_t> active_{0};
  int64_t created_ = 0;  // unix seconds
};

}  // namespace ocular::server
