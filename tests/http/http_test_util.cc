#include "tests/http/http_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "model/tokenizer/load_tokenizer.h"

namespace ocular::testing {

TestServer::TestServer(const std::filesystem::path& golden, server::HttpOptions http,
                       engine::EngineOptions eo, TestServerExtras extras) {
  const auto dir = golden / "models/tiny-a";
  pool_ = std::make_unique<ThreadPool>(2);
  ctx_ = std::make_unique<kernels::ComputeContext>(*pool_);
  auto m = qwen3vl::Qwen3VLModel::Load(dir, {}, *ctx_, kernels::Precision::kF32);
  if (!m.ok()) return;
  model_ = std::move(*m);
  auto t = tokenizer::LoadTokenizer(dir);
  if (!t.ok()) return;
  tokenizer_ = std::make_unique<tokenizer::Tokenizer>(std::move(*t));
  auto tm = chat::ChatTemplate::FromModelDir(dir);
  if (!tm.ok()) return;
  template_ = std::make_unique<chat::ChatTemplate>(std::move(*tm));
  if (eo.kv_cache_bytes == 0) eo.kv_cache_bytes = 16 << 20;  // 8192 tokens of tiny-a
  if (!extras.exact_engine_limits) {
    eo.max_waiting = std::max<int64_t>(eo.max_waiting, 1024);
    eo.max_running = std::max<int64_t>(eo.max_running, 64);
  }
  eo.feature_cache.budget_bytes = 64 << 20;
  auto e = engine::Engine::Create(*model_, *tokenizer_, eo);
  if (!e.ok()) return;
  engine_ = std::move(*e);
  server::ModelContext mc;
  mc.tokenizer = tokenizer_.get();
  mc.chat_template = template_.get();
  mc.generation_defaults.do_sample = false;  // tiny-a generation_config.json
  mc.max_model_len = eo.max_model_len;
  mc.pool = pool_.get();
  server::FetchOptions fo;  // production defaults unless a test needs a loopback media server
  fo.allow_loopback_for_tests = extras.allow_loopback_fetch;
  fetcher_ = std::make_unique<server::UrlFetcher>(fo);
  mc.fetcher = fetcher_.get();
  if (!extras.media_root.empty()) {
    auto root = media::MediaRoot::Create(extras.media_root.string());
    if (!root.ok()) return;
    media_root_ = std::make_unique<media::MediaRoot>(std::move(*root));
    mc.media_root = media_root_.get();
  }
  if (extras.image_fetch_timeout.count() > 0) mc.limits.image_fetch_timeout = extras.image_fetch_timeout;
  http.port = 0;
  if (http.api_key.empty()) http.api_key = kApiKey;
  http.http_threads = std::max(http.http_threads, 1200);
  http_ = std::make_unique<server::HttpServer>(*engine_, mc, http);
  auto port = http_->Bind();
  if (!port.ok()) return;
  port_ = *port;
  http_->SetReady(true);
  thread_ = std::thread([this] { http_->Serve(); });
  ok_ = true;
}

TestServer::~TestServer() {
  if (http_) http_->Stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
  engine_.reset();
}

httplib::Result TestServer::Post(const std::string& path, const std::string& body, const std::string& key) const {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_read_timeout(120, 0);
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  return cli.Post(path.c_str(), h, body, "application/json");
}

httplib::Result TestServer::Get(const std::string& path, const std::string& key) const {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_read_timeout(60, 0);
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  return cli.Get(path.c_str(), h);
}


std::string ReadBinary(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

SseStream ParseSse(const std::string& body) {
  SseStream s;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      s.malformed = true;  // trailing partial event
      break;
    }
    std::string ev = body.substr(pos, end - pos);
    pos = end + 2;
    if (ev.empty() || ev[0] == ':') continue;  // comment (keep-alive)
    if (ev.rfind("data: ", 0) != 0) {
      s.malformed = true;
      continue;
    }
    std::string data = ev.substr(6);
    if (s.done) s.malformed = true;
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    auto j = nlohmann::json::parse(data, nullptr, false);
    if (j.is_discarded()) {
      s.malformed = true;
      continue;
    }
    s.chunks.push_back(std::move(j));
  }
  return s;
}

std::string RawExchange(int port, const std::string& request, size_t max_bytes, int timeout_ms,
                        bool shutdown_write) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return out;
  }
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += size_t(n);
  }
  if (shutdown_write) ::shutdown(fd, SHUT_WR);
  char buf[16384];
  while (out.size() < max_bytes) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

int ConnectAndSend(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += size_t(n);
  }
  return fd;
}

std::string HttpPost(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kApiKey) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

double MetricValue(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return std::nan("");
}

}  // namespace ocular::testing
