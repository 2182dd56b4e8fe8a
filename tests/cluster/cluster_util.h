// Helpers of the scale-out tests: child processes (redis-server, `ocular serve`, scripts/cluster)
// on loopback with free ports, chat requests built from the golden tiny-a cases, and reading
// replies (usage, replica header, SSE streams, Prometheus counters).
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ocular::testing {

// Absolute path of `name` on $PATH, or "" when absent.
std::string FindOnPath(const std::string& name);
// A loopback TCP port nobody listens on (bind to 0 and release; a small race is acceptable).
int FreeLoopbackPort();
// True when something accepts connections on 127.0.0.1:port.
bool PortOpen(int port);

// A child process with stdout and stderr in `log`; SIGKILLed by the destructor if still alive.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool Start(const std::vector<std::string>& argv, const std::filesystem::path& log);
  void Signal(int sig);
  // Waits up to timeout_ms for exit; returns the wait status, or -1 on timeout.
  int Wait(int timeout_ms);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// redis-server without persistence on a free loopback port, files in `dir`.
bool StartRedis(ChildProcess& p, const std::filesystem::path& dir, int* port);
// `ocular serve --model <model> --port 0 ...` (binary: OCULAR_BINARY); waits up to 120 s for
// its "listening on" line in `log`.
bool StartOcular(ChildProcess& p, const std::filesystem::path& log,
                 const std::filesystem::path& model, const std::vector<std::string>& extra_args,
                 int* port);

// The golden case (forward/tiny-a/<name>/case.json) as a greedy OpenAI chat request of
// `max_tokens` tokens with images as data URLs.
nlohmann::json GoldenCase(const std::filesystem::path& golden, const std::string& name);
nlohmann::json GoldenRequest(const std::filesystem::path& golden, const nlohmann::json& c,
                             int max_tokens);

// POST /v1/chat/completions with optional session header; result JSON in *out.
struct ChatReply {
  int status = -1;
  std::string replica;  // X-Ocular-Replica
  nlohmann::json body;
};
ChatReply PostChat(int port, const nlohmann::json& request, const std::string& session = "");

// Sum of every line of `name` (any labels) or of the line with exactly `name{labels}`.
double Counter(int port, const std::string& name_with_labels);

}  // namespace ocular::testing
