#include "server/fetch_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "base/clock.h"

namespace ocular::server {
namespace {

SSL_CTX* Ctx(void* p) { return static_cast<SSL_CTX*>(p); }
SSL* Ssl(void* p) { return static_cast<SSL*>(p); }

// After an OpenSSL call that returned `r`: OK to retry after waiting (events set), or an error.
Status TlsWait(SSL* ssl, int r, int fd, int64_t deadline_ns, const CancelCheck& cancelled, const char* what) {
  const int e = SSL_get_error(ssl, r);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ) return WaitSocket(fd, POLLIN, deadline_ns, cancelled);
  if (e == SSL_ERROR_WANT_WRITE) return WaitSocket(fd, POLLOUT, deadline_ns, cancelled);
  return Unavailable(what);
}

}  // namespace

Status WaitSocket(int fd, short events, int64_t deadline_ns, const CancelCheck& cancelled) {
  constexpr int64_t kSliceMs = 50;
  for (;;) {
    if (cancelled && cancelled()) return Cancelled("request cancelled");
    const int64_t left = std::max<int64_t>(0, (deadline_ns - NowNs()) / 1'000'000);
    const int64_t wait = cancelled ? std::min(left, kSliceMs) : left;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, int(std::min<int64_t>(wait, 1 << 30)));
    if (r > 0) return OkStatus();
    if (r < 0 && errno != EINTR) return Unavailable("fetch failed");
    if (r == 0 && wait >= left) return DeadlineExceeded("fetch timed out");
  }
}

FetchStream::~FetchStream() {
  if (ssl_) SSL_free(Ssl(ssl_));
  if (ctx_) SSL_CTX_free(Ctx(ctx_));
}

Status FetchStream::StartTls(const std::string& host, bool host_is_ip, const std::string& ca_file,
                             int64_t deadline_ns, const CancelCheck& cancelled) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) return Unavailable("TLS is not available");
  SSL_CTX_set_min_proto_version(Ctx(ctx_), TLS1_2_VERSION);
  SSL_CTX_set_verify(Ctx(ctx_), SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(Ctx(ctx_), ca_file.c_str(), nullptr) != 1) {
      ERR_clear_error();
      return Unavailable("TLS CA file could not be loaded");
    }
  } else if (SSL_CTX_set_default_verify_paths(Ctx(ctx_)) != 1) {
    ERR_clear_error();
    return Unavailable("TLS CA store could not be loaded");
  }
  ssl_ = SSL_new(Ctx(ctx_));
  if (!ssl_ || SSL_set_fd(Ssl(ssl_), fd_) != 1) return Unavailable("TLS is not available");
  X509_VERIFY_PARAM* param = SSL_get0_param(Ssl(ssl_));
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (host_is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) return Unavailable("TLS handshake failed");
  } else {
    if (SSL_set_tlsext_host_name(Ssl(ssl_), host.c_str()) != 1 || X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) != 1) {
      return Unavailable("TLS handshake failed");
    }
  }
  for (;;) {
    const int r = SSL_connect(Ssl(ssl_));
    if (r == 1) break;
    if (SSL_get_verify_result(Ssl(ssl_)) != X509_V_OK) {
      ERR_clear_error();
      return Unavailable("media host certificate is not trusted for this host");
    }
    RETURN_IF_ERROR(TlsWait(Ssl(ssl_), r, fd_, deadline_ns, cancelled, "TLS handshake failed"));
  }
  if (SSL_get_verify_result(Ssl(ssl_)) != X509_V_OK) return Unavailable("media host certificate is not trusted for this host");
  return OkStatus();
}

Status FetchStream::SendAll(const char* data, size_t size, int64_t deadline_ns, const CancelCheck& cancelled) {
  for (size_t sent = 0; sent < size;) {
    if (ssl_) {
      const int r = SSL_write(Ssl(ssl_), data + sent, int(std::min<size_t>(size - sent, 1 << 20)));
      if (r > 0) {
        sent += size_t(r);
        continue;
      }
      RETURN_IF_ERROR(TlsWait(Ssl(ssl_), r, fd_, deadline_ns, cancelled, "fetch failed"));
      continue;
    }
    RETURN_IF_ERROR(WaitSocket(fd_, POLLOUT, deadline_ns, cancelled));
    const ssize_t n = ::send(fd_, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return Unavailable("fetch failed");
    sent += size_t(n);
  }
  return OkStatus();
}

Result<size_t> FetchStream::Recv(char* buf, size_t size, int64_t deadline_ns, const CancelCheck& cancelled) {
  for (;;) {
    if (ssl_) {
      // Try first: records already decrypted inside OpenSSL do not show up in poll().
      const int r = SSL_read(Ssl(ssl_), buf, int(std::min<size_t>(size, 1 << 20)));
      if (r > 0) return size_t(r);
      const int e = SSL_get_error(Ssl(ssl_), r);
      if (e == SSL_ERROR_ZERO_RETURN) return size_t(0);
      if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        ERR_clear_error();
        return size_t(0);  // closed without close_notify: the length checks decide
      }
      RETURN_IF_ERROR(TlsWait(Ssl(ssl_), r, fd_, deadline_ns, cancelled, "fetch failed"));
      continue;
    }
    RETURN_IF_ERROR(WaitSocket(fd_, POLLIN, deadline_ns, cancelled));
    const ssize_t n = ::recv(fd_, buf, size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return Unavailable("fetch failed");
    return size_t(n);
  }
}

}  // namespace ocular::server
