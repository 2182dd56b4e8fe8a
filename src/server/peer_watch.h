// Noticing that an HTTP client hung up while its request is still being worked on.
//
// cpp-httplib (0.11) gives handlers neither the connection's socket nor a "closed" query; a
// non-streaming handler that only waits for the engine would otherwise compute the whole
// answer for nobody. The request does carry its address pair (local port, remote address and
// port), which names exactly one TCP connection of this process, so the socket is found once
// by matching it against this process's open sockets and then polled (never read: MSG_PEEK).
//
// "Closed" means the peer sent FIN or RST (or the socket reports an error). A client that
// half-closes its sending side after the request is treated as gone too: HTTP clients do not
// do that, and a FIN cannot be told apart from a full close without writing.
#pragma once

#include <string>

namespace ocular::server {

class PeerWatch {
 public:
  PeerWatch() = default;
  // Finds the connection's socket; an unfound one gives a watch that never reports closed.
  static PeerWatch Find(int local_port, const std::string& remote_addr, int remote_port);

  bool valid() const { return fd_ >= 0; }
  // Non-blocking: true once the peer has closed or reset the connection.
  bool Closed() const;

 private:
  explicit PeerWatch(int fd) : fd_(fd) {}
  int fd_ = -1;  // not owned: the HTTP library closes it after the handler returns
};

}  // namespace ocular::server
