#include "tests/load/serve_process.h"

#include <dirent.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ocular::testing {

ServeProcess::ServeProcess(const std::string& binary, const std::string& model,
                           const std::vector<std::string>& extra_args) {
  int fds[2];
  if (pipe(fds) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<std::string> args = {binary, "serve", "--model", model, "--port", "0", "--no-webui"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  out_ = fdopen(fds[0], "r");
  char line[512];
  // The child's stdout is read only until the port is known; it logs little afterwards and a
  // full pipe would only block its (rare) later prints, so drain it on a detached thread.
  while (pid_ > 0 && fgets(line, sizeof(line), out_)) {
    const std::string l(line);
    const auto p = l.find("listening on http://127.0.0.1:");
    if (p != std::string::npos) {
      port_ = std::stoi(l.substr(p + 30));
      break;
    }
  }
  if (port_ > 0) {
    FILE* out = out_;
    out_ = nullptr;
    std::thread([out] {
      char buf[4096];
      while (fgets(buf, sizeof(buf), out)) {
      }
      fclose(out);
    }).detach();
  }
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_) fclose(out_);
}

bool ServeProcess::Alive() const { return pid_ > 0 && kill(pid_, 0) == 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

// The numeric value of one "Name:" line of /proc/PID/status; -1 when absent.
static long StatusField(pid_t pid, const std::string& name) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(name, 0) == 0) return std::stol(line.substr(name.size()));
  }
  return -1;
}

long ServeProcess::RssKib() const { return StatusField(pid_, "VmRSS:"); }

int ServeProcess::Threads() const { return static_cast<int>(StatusField(pid_, "Threads:")); }

int ServeProcess::OpenFds() const {
  const std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

double ServeProcess::Metric(const std::string& name) const {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_read_timeout(30, 0);
  auto r = cli.Get("/metrics");
  if (!r || r->status != 200) return NAN;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ' ') {
      return std::strtod(line.c_str() + name.size() + 1, nullptr);
    }
  }
  return NAN;
}

int ServeProcess::Stop(int timeout_s) {
  if (pid_ <= 0) return -1000;
  kill(pid_, SIGTERM);
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(timeout_s)) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1000;
}

}  // namespace ocular::testing
