#include "tests/cluster/cluster_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/http/http_test_util.h"

extern char** environ;

namespace ocular::testing {

using nlohmann::json;
namespace fs = std::filesystem;

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool ChildProcess::Start(const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ChildProcess::Wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool StartRedis(ChildProcess& p, const fs::path& dir, int* port) {
  const std::string binary = FindOnPath("redis-server");
  if (binary.empty()) return false;
  // The free port is released before redis binds it, and in between anything (a parallel
  // test's outgoing connection) can take it: redis then exits ("Failed listening"), and
  // another port is tried.
  for (int attempt = 0; attempt < 3; ++attempt) {
    *port = FreeLoopbackPort();
    if (!p.Start({binary, "--bind", "127.0.0.1", "--port", std::to_string(*port), "--save", "",
                  "--appendonly", "no", "--dir", dir.string(), "--daemonize", "no", "--loglevel",
                  "warning"},
                 dir / "redis.log")) {
      return false;
    }
    for (int i = 0; i < 100; ++i) {
      if (PortOpen(*port)) return true;
      if (p.Wait(0) != -1) break;  // exited: its port was taken
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    p.Signal(SIGKILL);
    p.Wait(5000);
  }
  return false;
}

bool StartOcular(ChildProcess& p, const fs::path& log, const fs::path& model,
                 const std::vector<std::string>& extra_args, int* port) {
  std::vector<std::string> args = {OCULAR_BINARY, "serve", "--model", model.string(), "--host",
                                   "127.0.0.1",   "--port", "0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  if (!p.Start(args, log)) return false;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  const std::string marker = "listening on http://127.0.0.1:";
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      if (size_t at = line.find(marker); at != std::string::npos) {
        *port = std::atoi(line.c_str() + at + marker.size());
        return *port > 0;
      }
    }
    int status = 0;
    if (waitpid(p.pid(), &status, WNOHANG) == p.pid()) return false;  // exited
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

json GoldenCase(const fs::path& golden, const std::string& name) {
  return json::parse(ReadBinary(golden / "forward/tiny-a" / name / "case.json"));
}

json GoldenRequest(const fs::path& golden, const json& c, int max_tokens) {
  json messages = c["messages"];
  for (json& m : messages) {
    if (!m["content"].is_array()) continue;
    for (json& part : m["content"]) {
      if (part["type"] != "image") continue;
      const std::string url = "data:image/png;base64," +
                              Base64Encode(ReadBinary(golden / part["image"].get<std::string>()));
      part = {{"type", "image_url"}, {"image_url", {{"url", url}}}};
    }
  }
  return {{"messages", messages}, {"temperature", 0}, {"max_tokens", max_tokens},
          {"ignore_eos", true}};
}

ChatReply PostChat(int port, const json& request, const std::string& session) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(120, 0);
  httplib::Headers headers;
  if (!session.empty()) headers.emplace("X-Ocular-Session", session);
  ChatReply reply;
  auto res = cli.Post("/v1/chat/completions", headers, request.dump(), "application/json");
  if (!res) return reply;
  reply.status = res->status;
  reply.replica = res->get_header_value("X-Ocular-Replica");
  reply.body = json::parse(res->body, nullptr, false);
  return reply;
}

double Counter(int port, const std::string& name_with_labels) {
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::stringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name_with_labels + " ", 0) == 0) {
      return std::atof(line.c_str() + name_with_labels.size() + 1);
    }
  }
  return -1;
}

}  // namespace ocular::testing
