// The byte stream under the media fetcher: a connected non-blocking socket, plain or wrapped in
// TLS (OpenSSL). TLS verifies the peer's certificate chain against the system CA store (or a
// given CA file, for tests) and its name against the URL's host (SNI is sent for DNS names).
// Every wait is bounded by the fetch deadline and polls the cancel check. Errors never carry
// library messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "server/fetch.h"

namespace ocular::server {

class FetchStream {
 public:
  explicit FetchStream(int fd) : fd_(fd) {}  // `fd` stays owned by the caller
  ~FetchStream();
  FetchStream(const FetchStream&) = delete;
  FetchStream& operator=(const FetchStream&) = delete;

  // Performs the TLS handshake. `host_is_ip`: the URL names an address (no SNI; the
  // certificate must list that IP). Errors: Unavailable ("TLS handshake failed", "certificate
  // not trusted for this host"), DeadlineExceeded, Cancelled.
  Status StartTls(const std::string& host, bool host_is_ip, const std::string& ca_file, int64_t deadline_ns,
                  const CancelCheck& cancelled);
  Status SendAll(const char* data, size_t size, int64_t deadline_ns, const CancelCheck& cancelled);
  // Bytes read into `buf` (0: the peer ended the stream).
  Result<size_t> Recv(char* buf, size_t size, int64_t deadline_ns, const CancelCheck& cancelled);

 private:
  int fd_;
  void* ctx_ = nullptr;  // SSL_CTX*
  void* ssl_ = nullptr;  // SSL*
};

// Waits for `events` on `fd` until `deadline_ns` (NowNs clock), in 50 ms slices when there is a
// cancel check. Errors: DeadlineExceeded, Cancelled, Unavailable.
Status WaitSocket(int fd, short events, int64_t deadline_ns, const CancelCheck& cancelled);

}  // namespace ocular::server
