// A real `ocular serve` child process for the load and fault suites: started on a free port,
// watched from outside (RSS, open file descriptors, /metrics) and stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ocular::testing {

class ServeProcess {
 public:
  // Runs `binary serve --model model --port 0 extra_args...` and waits (up to 120 s) for its
  // "listening on" line; check ok().
  ServeProcess(const std::string& binary, const std::string& model, const std::vector<std::string>& extra_args);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool Alive() const;

  // Resident set size in KiB and open descriptors, read from /proc (-1 when unavailable).
  long RssKib() const;
  int OpenFds() const;
  int Threads() const;  // threads of the server process now

  // GET /metrics and return the value of an unlabelled metric line (NaN when absent).
  double Metric(const std::string& name) const;

  // SIGTERM, then waits up to `timeout_s`; returns the exit code (-signal when killed, -1000 on
  // timeout, after which the child is killed). Close idle keep-alive connections first: the
  // server currently waits for them up to its 60 s keep-alive timeout, past the grace.
  int Stop(int timeout_s = 60);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* out_ = nullptr;
};

}  // namespace ocular::testing
