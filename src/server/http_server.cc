#include "server/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>

#include <ctime>
#include <limits>
#include <random>

#include "base/clock.h"
#include "base/log.h"
#include "base/sha256.h"
#include "model/tokenizer/tokenizer.h"
#include "server/http_worker_pool.h"
#include "server/peer_watch.h"
#include "server/video_analysis_handler.h"
#include "webui/web_routes.h"

namespace ocular::server {
namespace {

using nlohmann::json;
using engine::Event;
using engine::RequestHandle;

constexpr auto kPollInterval = std::chrono::milliseconds(50);
// RELIABILITY.md header limits. The library itself refuses a single header line over 8 KiB
// (400) but counts neither fields nor the block's size.
constexpr size_t kMaxHeaderFields = 100;
constexpr size_t kMaxHeaderBytes = 32 * 1024;
constexpr const char* kSessionHeader = "X-Ocular-Session";

std::string ErrorBody(const std::string& message, const std::string& type, const std::string& param,
                      const std::string& code) {
  json e = {{"message", message}, {"type", type}, {"param", param.empty() ? json() : json(param)},
            {"code", code.empty() ? json() : json(code)}};
  return json{{"error", e}}.dump();
}

void SendError(httplib::Response& res, int http, const std::string& message, const std::string& param = "",
               const std::string& code = "") {
  const char* type = http == 401   ? "authentication_error"
                     : http == 404 ? "not_found_error"
                     : http == 413 ? "request_too_large"
                     : http == 429 ? "rate_limit_error"
                     : http == 503 ? "service_unavailable"
                     : http >= 500 ? "server_error"
                                   : "invalid_request_error";
  res.status = http;
  res.set_content(ErrorBody(message, type, param, code), "application/json");
}

// Builder / media / fetch errors: the client's fault (400) unless internal.
void SendStatusError(httplib::Response& res, const Status& s) {
  if (s.code() == StatusCode::kInternal) {
    SendError(res, 500, "internal error");
    return;
  }
  if (IsMediaNotCached(s)) {  // the client resends the image bytes
    SendError(res, 409, s.message(), ErrorParam(s), std::string(kMediaNotCachedCode));
    return;
  }
  SendError(res, 400, s.message(), ErrorParam(s), std::string(StatusCodeName(s.code())));
}

std::string RandomId(const char* prefix) {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string s = prefix;
  for (int i = 0; i < 24; ++i) s += kHex[rd() % 16];
  return s;
}

const char* MediaCacheName(engine::MediaCacheResult r) {
  switch (r) {
    case engine::MediaCacheResult::kMiss: return "miss";
    case engine::MediaCacheResult::kHit: return "hit";
    case engine::MediaCacheResult::kSimilar: return "similar";
    case engine::MediaCacheResult::kPrefix: return "hit";
  }
  return "miss";
}

json TimingsJson(const engine::RequestStats& s) {
  return {{"queue_ms", s.queue_ms},       {"fetch_ms", s.fetch_ms},   {"preprocess_ms", s.preprocess_ms},
          {"encode_ms", s.encode_ms},     {"prefill_ms", s.prefill_ms}, {"decode_ms", s.decode_ms},
          {"ttft_ms", s.ttft_ms},         {"total_ms", s.total_ms}};
}

json UsageJson(const std::vector<engine::RequestStats>& stats) {
  const engine::RequestStats& s = stats.front();
  int64_t completion = 0;
  for (const auto& x : stats) completion += x.completion_tokens;
  json media = json::array();
  for (const auto& m : s.media) {
    json e = {{"id", ToHex(m.media_id)}, {"tokens", m.tokens}, {"cache", MediaCacheName(m.cache)}};
    if (m.cache == engine::MediaCacheResult::kSimilar) e["distance"] = m.distance;
    if (m.cache == engine::MediaCacheResult::kPrefix) e["prefix"] = true;
    media.push_back(std::move(e));
  }
  return {{"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", completion},
          {"total_tokens", s.prompt_tokens + completion},
          {"prompt_tokens_details", {{"cached_tokens", s.cached_tokens}}},
          {"timings", TimingsJson(s)},
          {"media", media}};
}

std::string ServerTiming(const engine::RequestStats& s) {
  return fmt::format("queue;dur={:.3f}, fetch;dur={:.3f}, preprocess;dur={:.3f}, encode;dur={:.3f}, "
                     "prefill;dur={:.3f}, decode;dur={:.3f}, ttft;dur={:.3f}, total;dur={:.3f}",
                     s.queue_ms, s.fetch_ms, s.preprocess_ms, s.encode_ms, s.prefill_ms, s.decode_ms,
                     s.ttft_ms, s.total_ms);
}

json TokenLogprob(const tokenizer::Tokenizer& tok, int32_t id, float logprob) {
  std::string bytes;
  (void)tok.AppendBytes(std::span<const int32_t>(&id, 1), false, &bytes);
  auto text = tok.Decode(std::span<const int32_t>(&id, 1));
  json b = json::array();
  for (unsigned char c : bytes) b.push_back(int(c));
  return {{"token", text.ok() ? *text : std::string()}, {"logprob", logprob}, {"bytes", b}};
}

json LogprobsContent(const tokenizer::Tokenizer& tok, const std::vector<engine::GeneratedToken>& tokens) {
  json content = json::array();
  for (const auto& t : tokens) {
    if (!t.has_logprobs) continue;
    json e = TokenLogprob(tok, t.id, t.logprob);
    json top = json::array();
    for (const auto& a : t.top_logprobs) top.push_back(TokenLogprob(tok, a.token, a.logprob));
    e["top_logprobs"] = top;
    content.push_back(std::move(e));
  }
  return content;
}

// True when the request's header block is within the limits. The library adds the connection's
// addresses as four pseudo headers; they are not the client's.
bool HeadersWithinLimits(const httplib::Request& req) {
  size_t fields = 0, bytes = 0;
  for (const auto& [name, value] : req.headers) {
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT") continue;
    ++fields;
    bytes += name.size() + value.size() + 4;  // "name: value\r\n"
  }
  return fields <= kMaxHeaderFields && bytes <= kMaxHeaderBytes;
}

// Decrements a counter when the request (or its stream) ends.
struct ActiveGuard {
  std::atomic<int64_t>* counter;
  explicit ActiveGuard(std::atomic<int64_t>* c) : counter(c) { counter->fetch_add(1); }
  ~ActiveGuard() { counter->fetch_sub(1); }
};

// Reads the body through the streaming reader so an oversize request is refused from its
// Content-Length alone (413) and a chunked one is cut off at the cap, never buffered whole.
bool ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, uint64_t max_bytes,
              std::string* body, httplib::Response& res) {
  if (req.has_header("Content-Length")) {
    const std::string v = req.get_header_value("Content-Length");
    if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(v) > max_bytes) {
      res.set_header("Connection", "close");
      SendError(res, 413, "request body exceeds the size limit");
      return false;
    }
    body->reserve(size_t(std::stoull(v)));
  }
  bool too_big = false;
  const bool ok = reader([&](const char* data, size_t n) {
    if (body->size() + n > max_bytes) {
      too_big = true;
      return false;
    }
    body->append(data, n);
    return true;
  });
  if (too_big) {
    res.set_header("Connection", "close");
    SendError(res, 413, "request body exceeds the size limit");
    return false;
  }
  if (!ok) {
    SendError(res, 400, "could not read the request body");
    return false;
  }
  return true;
}

struct Choice {
  std::unique_ptr<RequestHandle> handle;
  std::string text;
  std::vector<engine::GeneratedToken> tokens;
  bool finished = false;
  bool started = false;
  engine::FinishReason reason = engine::FinishReason::kStop;
  engine::RequestStats stats;
  int64_t last_event_ns = 0;
};

// cpp-httplib 0.11.4 listens with a backlog of 5: hundreds of clients connecting at once then
// wait for SYN retransmits (1 s, 3 s) or fail. Calling listen() again on the bound socket
// raises the backlog; the library does not expose the descriptor, so find it by its port.
void RaiseListenBacklog(int port) {
  for (int fd = 0; fd < 65536; ++fd) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage ss{};
    socklen_t sl = sizeof(ss);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) != 0) continue;
    int p = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
          : ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port) : -1;
    if (p == port) ::listen(fd, 4096);
  }
}

}  // namespace

HttpServer::HttpServer(engine::Engine& engine, ModelContext model, HttpOptions options)
    : engine_(engine), model_(std::move(model)), options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()), created_(int64_t(std::time(nullptr))) {
  if (!model_.feature_cache) model_.feature_cache = &engine_.feature_cache();
  // Near-duplicate hits need each image's perceptual hash.
  if (engine_.feature_cache().options().similar_threshold >= 0) model_.compute_phash = true;
  Routes();
}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Bind() {
  int port = options_.port == 0 ? http_->bind_to_any_port(options_.host)
                                : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) return Unavailable("could not bind the listening address");
  RaiseListenBacklog(port);
  return port;
}

void HttpServer::Serve() { http_->listen_after_bind(); }

void HttpServer::Stop() {
  if (http_) http_->stop();
}

void HttpServer::StartDrain() {
  ready_.store(false);
  draining_.store(true);
  engine_.StartDrain();
}

void HttpServer::Routes() {
  httplib::Server& s = *http_;
  s.set_tcp_nodelay(true);
  const size_t threads = size_t(std::max(4, options_.http_threads));
  // Threads start on demand and the most recently idle one serves the next connection, so a
  // long run touches about as many threads as it ever had connections open at once (see
  // http_worker_pool.h); httplib owns the queue.
  s.new_task_queue = [threads] { return new HttpWorkerPool(threads, std::chrono::seconds(30)); };
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(options_.header_timeout_s, 0);
  s.set_keep_alive_timeout(options_.idle_timeout_s);
  s.set_write_timeout(options_.write_timeout_s, 0);

  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SendError(res, 413, "request body exceeds the size limit");
    } else if (res.status == 404) {
      SendError(res, 404, "no such route");
    } else if (res.status == 405) {
      SendError(res, 405, "method not allowed");
    } else {
      SendError(res, res.status, "bad request");
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    SendError(res, 500, "internal error");
  });

  const Sha256Digest key_hash = Sha256::Hash(options_.api_key.data(), options_.api_key.size());
  s.set_pre_routing_handler([this, key_hash](const httplib::Request& req, httplib::Response& res) {
    if (!HeadersWithinLimits(req)) {
      res.set_header("Connection", "close");  // the body (if any) is not read
      SendError(res, 431, "request header fields too large");
      metrics_.CountRequest(431);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!options_.replica_name.empty()) res.set_header("X-Ocular-Replica", options_.replica_name);
    if (!options_.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", options_.cors_origin);
      res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Ocular-Session");
        res.set_header("Access-Control-Max-Age", "600");
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    const std::string& p = req.path;
    const bool inference = p.rfind("/v1/", 0) == 0 || p == "/tokenize" || p == "/detokenize";
    if (inference && !options_.api_key.empty()) {
      std::string given;
      const std::string auth = req.get_header_value("Authorization");
      if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
        given = auth.substr(7);
      }
      // Hash first so the compare is constant-time and length-independent.
      const Sha256Digest h = Sha256::Hash(given.data(), given.size());
      if (given.empty() || CRYPTO_memcmp(h.data(), key_hash.data(), h.size()) != 0) {
        res.set_header("WWW-Authenticate", "Bearer");
        SendError(res, 401, given.empty() ? "missing API key" : "invalid API key", "", "invalid_api_key");
        metrics_.CountRequest(401);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  if (options_.webui) webui::RegisterWebUiRoutes(s);
  s.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  s.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (ready_.load()) {
      res.set_content(R"({"status":"ready"})", "application/json");
    } else {
      res.status = 503;
      res.set_content(draining_.load() ? R"({"status":"draining"})" : R"({"status":"loading"})", "application/json");
    }
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(engine_.Stats()), "text/plain; version=0.0.4");
  });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json m = {{"id", options_.served_model_name}, {"object", "model"}, {"created", created_},
              {"owned_by", "ocular"}, {"max_model_len", model_.max_model_len}};
    // "ocular" is our extension object on every model; "demo" says the weights are random (the
    // web UI shows a banner). The flat "demo"/"description" fields are kept for older clients.
    json ext = {{"demo", options_.demo_model}};
    if (options_.demo_model) {
      ext["note"] = "random-weight demo model: its answers are meaningless; start the server with a real model";
      m["demo"] = true, m["description"] = "random-weight demo model: answers are meaningless";
    }
    m["ocular"] = std::move(ext);
    res.set_content(json{{"object", "list"}, {"data", json::array({m})}}.dump(), "application/json");
  });

  s.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    std::string text;
    if (!ReadBody(req, reader, options_.max_body_bytes, &text, res)) return;
    auto body = ParseJsonBody(text, model_.limits.json_max_depth);
    if (!body.ok()) return SendStatusError(res, body.status());
    auto p = body->find("prompt");
    if (p == body->end() || !p->is_string()) return SendError(res, 400, "prompt: must be a string", "prompt");
    if (int64_t(p->get_ref<const std::string&>().size()) > model_.limits.max_text_bytes) {
      return SendError(res, 400, "prompt: too long", "prompt");
    }
    auto ids = model_.tokenizer->Encode(p->get<std::string>());
    res.set_content(json{{"tokens", ids}, {"count", ids.size()}, {"max_model_len", model_.max_model_len}}.dump(),
                    "application/json");
  });
  s.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    std::string text;
    if (!ReadBody(req, reader, options_.max_body_bytes, &text, res)) return;
    auto body = ParseJsonBody(text, model_.limits.json_max_depth);
    if (!body.ok()) return SendStatusError(res, body.status());
    auto t = body->find("tokens");
    if (t == body->end() || !t->is_array()) return SendError(res, 400, "tokens: must be a list", "tokens");
    std::vector<int32_t> ids;
    for (const json& v : *t) {
      if (!v.is_number_integer()) return SendError(res, 400, "tokens: must be integers", "tokens");
      int64_t id = v.get<int64_t>();
      if (id < 0 || id >= model_.tokenizer->size() || !model_.tokenizer->IsToken(int32_t(id))) {
        return SendError(res, 400, "tokens: not a token id of this model", "tokens");
      }
      ids.push_back(int32_t(id));
    }
    auto decoded = model_.tokenizer->Decode(ids);
    if (!decoded.ok()) return SendError(res, 400, "tokens: not token ids of this model", "tokens");
    res.set_content(json{{"prompt", *decoded}}.dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json");
  });

  auto inference = [this](bool chat) {
    return [this, chat](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      auto guard = std::make_shared<ActiveGuard>(&active_);
      std::string text;
      if (!ReadBody(req, reader, options_.max_body_bytes, &text, res)) {
        metrics_.CountRequest(res.status);
        return;
      }
      if (draining_.load() || !ready_.load()) {
        metrics_.CountRequest(503);
        res.set_header("Retry-After", std::to_string(options_.retry_after_s));
        return SendError(res, 503, draining_.load() ? "server is shutting down" : "server is loading");
      }
      auto body = ParseJsonBody(text, model_.limits.json_max_depth);
      if (!body.ok()) {
        metrics_.CountRequest(400);
        return SendStatusError(res, body.status());
      }
      auto parsed = chat ? ParseChatRequest(*body, model_.limits) : ParseCompletionRequest(*body, model_.limits);
      if (!parsed.ok()) {
        metrics_.CountRequest(400);
        return SendStatusError(res, parsed.status());
      }
      if (chat && WantsVideoAnalysis(*body)) {  // windowed long-video analysis (issue 9)
        metrics_.CountRequest(HandleVideoAnalysis(*body, *parsed, {&engine_, &model_, options_.served_model_name, guard}, res));
        return;
      }
      // The client may hang up at any stage: while media is fetched and prepared, while queued,
      // encoded, prefilled or decoded. The watch notices (FIN/RST on the socket) and every stage
      // stops: the fetch returns Cancelled, the handles are cancelled (freeing KV blocks and
      // feature-cache references).
      auto watch = std::make_shared<PeerWatch>(PeerWatch::Find(req.local_port, req.remote_addr, req.remote_port));
      auto client_gone = [watch] { return watch->Closed(); };
      auto built = BuildChatRequest(*parsed, model_, client_gone);
      if (!built.ok() && built.status().code() == StatusCode::kCancelled) {
        metrics_.CountRequest(499);
        res.status = 499;  // nginx's "client closed request": nobody reads it
        return;
      }
      if (!built.ok()) {
        metrics_.CountRequest(built.status().code() == StatusCode::kInternal ? 500
                              : IsMediaNotCached(built.status())           ? 409
                                                                           : 400);
        return SendStatusError(res, built.status());
      }
      auto choices = std::make_shared<std::vector<Choice>>();
      for (auto& r : built->choices) {
        auto h = engine_.Submit(std::move(r));
        if (!h.ok()) {
          const Status& st = h.status();
          if (st.code() == StatusCode::kResourceExhausted) {
            metrics_.CountRequest(429);
            res.set_header("Retry-After", std::to_string(options_.retry_after_s));
            return SendError(res, 429, "server is busy: the request queue is full", "", "queue_full");
          }
          if (st.code() == StatusCode::kUnavailable) {
            metrics_.CountRequest(503);
            return SendError(res, 503, "server is shutting down");
          }
          metrics_.CountRequest(400);
          return SendError(res, 400, st.message(), "messages", std::string(StatusCodeName(st.code())));
        }
        Choice c;
        c.handle = std::move(*h);
        c.last_event_ns = NowNs();
        choices->push_back(std::move(c));
      }
      metrics_.CountRequest(200);
      // The session key the load balancer routes on (echoed so clients and tests can see
      // where a conversation lives); over-long keys are not echoed.
      std::string session = req.get_header_value(kSessionHeader);
      if (session.empty()) session = parsed->user;
      if (session.size() > 256) session.clear();
      if (!session.empty()) res.set_header(kSessionHeader, session);
      auto usage_json = [this, session](const std::vector<engine::RequestStats>& st) {
        json u = UsageJson(st);
        if (!options_.replica_name.empty()) u["replica"] = options_.replica_name;
        if (!session.empty()) u["session"] = session;
        return u;
      };
      const std::string id = RandomId(chat ? "chatcmpl-" : "cmpl-");
      const std::string model_name = options_.served_model_name;
      const bool want_logprobs = parsed->logprobs;
      const tokenizer::Tokenizer& tok = *model_.tokenizer;

      // Reads one event of an unfinished choice (waiting up to `wait`); false when none came.
      auto poll = [this](Choice& c, Event* e, std::chrono::milliseconds wait) {
        if (cancel_all_.load()) c.handle->Cancel();
        return c.handle->events().Pop(e, wait);
      };

      if (!parsed->stream) {
        int64_t last_peer_check = NowNs();
        for (auto& c : *choices) {
          while (!c.finished) {
            if (NowNs() - last_peer_check > 50'000'000) {
              last_peer_check = NowNs();
              if (client_gone()) {
                choices->clear();  // destroying the handles cancels every choice
                metrics_.CountRequest(499);
                res.status = 499;
                return;
              }
            }
            Event e;
            if (!poll(c, &e, kPollInterval)) continue;
            c.text += e.text;
            if (want_logprobs) c.tokens.insert(c.tokens.end(), e.tokens.begin(), e.tokens.end());
            if (e.type == Event::Type::kFinish) {
              c.finished = true;
              c.reason = e.finish_reason;
              c.stats = e.stats;
              metrics_.RecordFinished(e.stats, engine::FinishReasonName(e.finish_reason));
            }
          }
        }
        json out_choices = json::array();
        std::vector<engine::RequestStats> stats;
        for (size_t i = 0; i < choices->size(); ++i) {
          Choice& c = (*choices)[i];
          if (c.reason == engine::FinishReason::kError) return SendError(res, 500, "generation failed");
          json lp = want_logprobs ? json{{"content", LogprobsContent(tok, c.tokens)}} : json();
          json ch = {{"index", i}, {"logprobs", lp}, {"finish_reason", engine::FinishReasonName(c.reason)}};
          if (chat) {
            ch["message"] = {{"role", "assistant"}, {"content", c.text}};
          } else {
            ch["text"] = c.text;
          }
          out_choices.push_back(std::move(ch));
          stats.push_back(c.stats);
        }
        json out = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"},
                    {"created", int64_t(std::time(nullptr))}, {"model", model_name},
                    {"choices", out_choices}, {"usage", usage_json(stats)}};
        res.set_header("Server-Timing", ServerTiming(stats.front()));
        res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        return;
      }

      const bool include_usage = parsed->include_usage;
      metrics_.streams_open.fetch_add(1);
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      res.set_chunked_content_provider(
          "text/event-stream",
          [this, choices, guard, id, model_name, chat, want_logprobs, include_usage, &tok, poll, usage_json, client_gone](
              size_t, httplib::DataSink& sink) {
            const int64_t created = int64_t(std::time(nullptr));
            auto chunk = [&](json choices_arr) {
              return json{{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                          {"created", created}, {"model", model_name}, {"choices", std::move(choices_arr)}};
            };
            auto send = [&](const json& j) {
              std::string line = "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
              return sink.write(line.data(), line.size());
            };
            size_t remaining = choices->size();
            int64_t last_keepalive = NowNs();
            int64_t last_peer_check = NowNs();
            while (remaining > 0) {
              // A write to a closed socket may still succeed once; the watch sees FIN/RST at once.
              if (NowNs() - last_peer_check > 50'000'000) {
                last_peer_check = NowNs();
                if (client_gone()) return false;
              }
              bool any = false;
              for (size_t i = 0; i < choices->size(); ++i) {
                Choice& c = (*choices)[i];
                if (c.finished) continue;
                Event e;
                const auto wait = remaining == 1 ? kPollInterval : std::chrono::milliseconds(5);
                if (!poll(c, &e, wait)) continue;
                any = true;
                json delta = json::object();
                if (!c.started && chat) delta["role"] = "assistant";
                c.started = true;
                if (!e.text.empty() || chat) {
                  if (chat) delta["content"] = e.text;
                }
                json ch = {{"index", i}, {"logprobs", json()}, {"finish_reason", json()}};
                if (chat) ch["delta"] = delta; else ch["text"] = e.text;
                if (want_logprobs && !e.tokens.empty()) ch["logprobs"] = {{"content", LogprobsContent(tok, e.tokens)}};
                const int64_t now = NowNs();
                if (!e.tokens.empty()) {
                  metrics_.ObserveInterToken(double(now - c.last_event_ns) / 1e9);
                  c.last_event_ns = now;
                }
                if (e.type == Event::Type::kFinish) {
                  c.finished = true;
                  c.reason = e.finish_reason;
                  c.stats = e.stats;
                  --remaining;
                  metrics_.RecordFinished(e.stats, engine::FinishReasonName(e.finish_reason));
                  // Send the last text (if any) and then the finish chunk.
                  if (!e.text.empty() || (want_logprobs && !e.tokens.empty())) {
                    if (!send(chunk(json::array({ch})))) return false;
                  }
                  json fin = {{"index", i}, {"logprobs", json()},
                              {"finish_reason", engine::FinishReasonName(e.finish_reason)}};
                  if (chat) fin["delta"] = json::object(); else fin["text"] = "";
                  json j = chunk(json::array({fin}));
                  if (e.finish_reason == engine::FinishReason::kError) {
                    j["error"] = {{"message", "generation failed"}, {"type", "server_error"}};
                  }
                  if (remaining == 0 && !include_usage) {
                    std::vector<engine::RequestStats> st;
                    for (auto& x : *choices) st.push_back(x.stats);
                    j["x_ocular"] = usage_json(st);
                  }
                  if (!send(j)) return false;
                } else if (!e.text.empty() || (want_logprobs && !e.tokens.empty()) || delta.contains("role")) {
                  if (!send(chunk(json::array({ch})))) return false;
                }
              }
              if (!any && NowNs() - last_keepalive > 1'000'000'000) {
                // An SSE comment: lets a dead client surface as a failed write while waiting.
                last_keepalive = NowNs();
                if (!sink.write(": keep-alive\n\n", 14)) return false;
              }
            }
            if (include_usage) {
              std::vector<engine::RequestStats> st;
              for (auto& x : *choices) st.push_back(x.stats);
              json j = chunk(json::array());
              j["usage"] = usage_json(st);
              j["x_ocular"] = j["usage"];
              if (!send(j)) return false;
            }
            static const char kDone[] = "data: [DONE]\n\n";
            if (!sink.write(kDone, sizeof(kDone) - 1)) return false;
            sink.done();
            return true;
          },
          [this, choices](bool) {
            // Destroying the handles cancels whatever is still running (client gone).
            choices->clear();
            metrics_.streams_open.fetch_sub(1);
          });
    };
  };
  s.Post("/v1/chat/completions", inference(true));
  s.Post("/v1/completions", inference(false));
}

}  // namespace ocular::server
