#include "server/fetch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>

#include "base/clock.h"
#include "server/fetch_stream.h"

namespace ocular::server {
namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Canonical dotted quad only: four decimal parts 0..255 without leading zeros.
bool IsCanonicalIpv4(std::string_view s) {
  int parts = 0;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsDigits(part) || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

// A DNS name: labels of [a-z0-9-] (1..63, no leading/trailing '-'); the last label is not
// all digits or hex-looking (that would be a numeric address spelling).
bool IsDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (s.back() == '.') s.remove_suffix(1);
  size_t start = 0;
  std::string_view last;
  for (;;) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (IsDigits(last)) return false;
  if (last.size() > 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) return false;
  return true;
}

bool BlockedV4(uint32_t a) {  // host byte order
  auto in = [&](uint32_t net, int bits) { return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) ||     // 0.0.0.0/8 "this network"
         in(0x0A000000, 8) ||     // 10/8
         in(0x64400000, 10) ||    // 100.64/10 CGNAT
         in(0x7F000000, 8) ||     // loopback
         in(0xA9FE0000, 16) ||    // link-local (cloud metadata)
         in(0xAC100000, 12) ||    // 172.16/12
         in(0xC0000000, 24) ||    // 192.0.0/24 IETF
         in(0xC0000200, 24) ||    // TEST-NET-1
         in(0xC0586300, 24) ||    // 6to4 relay anycast
         in(0xC0A80000, 16) ||    // 192.168/16
         in(0xC6120000, 15) ||    // benchmarking
         in(0xC6336400, 24) ||    // TEST-NET-2
         in(0xCB007100, 24) ||    // TEST-NET-3
         in(0xE0000000, 4) ||     // multicast
         in(0xF0000000, 4);       // reserved + broadcast
}

bool BlockedV6(const uint8_t* b) {
  auto v4_at = [&](int off) {
    return (uint32_t(b[off]) << 24) | (uint32_t(b[off + 1]) << 16) | (uint32_t(b[off + 2]) << 8) | b[off + 3];
  };
  bool zero80 = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; });
  if (zero80 && b[10] == 0 && b[11] == 0) return true;  // ::, ::1, IPv4-compatible (deprecated)
  if (zero80 && b[10] == 0xff && b[11] == 0xff) return true;  // IPv4-mapped: never dial through
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    return true;  // NAT64 64:ff9b::/96 and 64:ff9b:1::/48: translated to arbitrary IPv4
  }
  if (b[0] == 0x20 && b[1] == 0x02) return BlockedV4(v4_at(2));   // 6to4 embeds an IPv4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return true;  // Teredo
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // documentation
  if ((b[0] & 0xfe) == 0xfc) return true;   // ULA fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // link-local fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // site-local fec0::/10
  if (b[0] == 0xff) return true;             // multicast
  if (b[0] == 0x01 && std::all_of(b + 1, b + 8, [](uint8_t x) { return x == 0; })) return true;  // discard 100::/64
  if ((b[0] & 0xe0) != 0x20) return true;    // only global unicast 2000::/3
  return false;
}

bool IsLoopback(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    return (ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr->sa_family == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr);
  }
  return false;
}

int64_t MsLeft(int64_t deadline_ns) { return std::max<int64_t>(0, (deadline_ns - NowNs()) / 1'000'000); }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits for `events` on `fd`; with a cancel check, in short slices so a request whose client
// left stops waiting on a slow media host within ~50 ms.
Status WaitFd(int fd, short events, int64_t timeout_ms, const CancelCheck& cancelled) {
  constexpr int64_t kSliceMs = 50;
  const int64_t end_ns = NowNs() + timeout_ms * 1'000'000;
  for (;;) {
    if (cancelled && cancelled()) return Cancelled("request cancelled");
    const int64_t left = std::max<int64_t>(0, (end_ns - NowNs()) / 1'000'000);
    const int64_t wait = cancelled ? std::min(left, kSliceMs) : left;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, int(std::min<int64_t>(wait, 1 << 30)));
    if (r > 0) return OkStatus();
    if (r < 0 && errno != EINTR) return Unavailable("fetch failed");
    if (r == 0 && wait >= left) return DeadlineExceeded("fetch timed out");
  }
}

struct HttpResponse {
  int status = 0;
  std::string location;
  std::vector<uint8_t> body;
};

Result<HttpResponse> HttpGet(const sockaddr* addr, socklen_t len, const ParsedUrl& u, uint64_t max_bytes,
                             int64_t connect_ms, int64_t deadline_ns, const std::string& ca_file,
                             const CancelCheck& cancelled) {
  Fd s;
  s.fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return Unavailable("fetch failed");
  int one = 1;
  ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(s.fd, addr, len) != 0) {
    if (errno != EINPROGRESS) return Unavailable("could not connect to the media host");
    RETURN_IF_ERROR(WaitFd(s.fd, POLLOUT, std::min(connect_ms, MsLeft(deadline_ns)), cancelled));
    int err = 0;
    socklen_t el = sizeof(err);
    ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) return Unavailable("could not connect to the media host");
  }
  FetchStream stream(s.fd);
  if (u.scheme == "https") {
    RETURN_IF_ERROR(stream.StartTls(u.host, u.host_is_ipv6 || IsCanonicalIpv4(u.host), ca_file, deadline_ns, cancelled));
  }
  std::string host;
  if (u.host_is_ipv6) host.push_back('[');
  host.append(u.host);
  if (u.host_is_ipv6) host.push_back(']');
  if (u.port != (u.scheme == "https" ? 443 : 80)) host.append(":").append(std::to_string(u.port));
  std::string req = "GET " + u.target + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: ocular\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n";
  RETURN_IF_ERROR(stream.SendAll(req.data(), req.size(), deadline_ns, cancelled));
  // Read headers (<= 32 KiB), then the body up to the cap.
  std::string head;
  std::vector<uint8_t> body;
  size_t header_end = std::string::npos;
  char buf[65536];
  bool eof = false;
  while (header_end == std::string::npos) {
    ASSIGN_OR_RETURN(size_t n, stream.Recv(buf, sizeof(buf), deadline_ns, cancelled));
    if (n == 0) return Unavailable("media host closed the connection early");
    head.append(buf, n);
    header_end = head.find("\r\n\r\n");
    if (header_end == std::string::npos && head.size() > 32768) return Unavailable("media host sent oversized headers");
  }
  body.assign(head.begin() + long(header_end + 4), head.end());
  head.resize(header_end);
  HttpResponse resp;
  if (head.size() < 12 || head.compare(0, 7, "HTTP/1.") != 0) return Unavailable("media host sent a malformed response");
  resp.status = std::atoi(head.c_str() + 9);
  std::optional<uint64_t> content_length;
  bool chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos < head.size()) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    pos = next;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (name == "content-length") {
      if (!IsDigits(value) || value.size() > 19) return Unavailable("media host sent a malformed response");
      content_length = std::stoull(value);
    } else if (name == "transfer-encoding") {
      chunked = value.find("chunked") != std::string::npos;
    } else if (name == "location") {
      resp.location = value;
    }
  }
  if (resp.status != 200) return resp;  // redirects and errors: no body needed
  if (chunked) return Unavailable("chunked media responses are not supported");
  if (content_length && *content_length > max_bytes) return ResourceExhausted("media exceeds the size limit");
  for (;;) {
    if (body.size() > max_bytes) return ResourceExhausted("media exceeds the size limit");
    if (content_length && body.size() >= *content_length) break;
    if (eof) break;
    ASSIGN_OR_RETURN(size_t n, stream.Recv(buf, sizeof(buf), deadline_ns, cancelled));
    if (n == 0) {
      eof = true;
      continue;
    }
    body.insert(body.end(), buf, buf + n);
  }
  if (content_length && body.size() != *content_length) {
    if (body.size() < *content_length) return Unavailable("media host closed the connection early");
    body.resize(*content_length);
  }
  resp.body = std::move(body);
  return resp;
}

}  // namespace

Result<ParsedUrl> ParseFetchUrl(std::string_view url) {
  if (url.size() > 8192) return InvalidArgument("URL too long");
  for (char c : url) {
    unsigned char uc = static_cast<unsigned char>(c);
    if (uc <= 0x20 || uc >= 0x7f || c == '\\') return InvalidArgument("URL contains forbidden characters");
  }
  ParsedUrl u;
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return InvalidArgument("URL has no scheme");
  std::string scheme(url.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") return InvalidArgument("URL scheme must be http or https");
  u.scheme = scheme;
  u.port = scheme == "https" ? 443 : 80;
  std::string_view rest = url.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return InvalidArgument("URL must not contain credentials");
  if (authority.empty()) return InvalidArgument("URL has no host");
  std::string_view host, port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("URL has a malformed IPv6 host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("URL has a malformed host");
      port = after.substr(1);
    }
    if (host.find('%') != std::string_view::npos) return InvalidArgument("URL must not contain an IPv6 zone id");
    in6_addr a6;
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) return InvalidArgument("URL has a malformed IPv6 host");
    u.host_is_ipv6 = true;
  } else {
    size_t c = authority.rfind(':');
    host = authority.substr(0, c);
    if (c != std::string_view::npos) port = authority.substr(c + 1);
  }
  if (!port.empty() || authority.back() == ':') {
    if (!IsDigits(port) || port.size() > 5) return InvalidArgument("URL has a malformed port");
    int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return InvalidArgument("URL has a malformed port");
    u.port = p;
  }
  u.host.assign(host);
  std::transform(u.host.begin(), u.host.end(), u.host.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (!u.host_is_ipv6 && !IsCanonicalIpv4(u.host) && !IsDnsName(u.host)) {
    return InvalidArgument("URL has a malformed or non-canonical host");
  }
  if (u.host.back() == '.') u.host.pop_back();
  std::string target(tail.substr(0, tail.find('#')));
  if (target.empty() || target.front() == '?') target.insert(target.begin(), '/');
  u.target = target;
  return u;
}

bool IsBlockedAddress(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    return BlockedV4(ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6) {
    return BlockedV6(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr);
  }
  return true;
}

Result<std::vector<uint8_t>> UrlFetcher::Fetch(std::string_view url, uint64_t max_bytes,
                                               std::chrono::milliseconds total_timeout,
                                               const CancelCheck& cancelled) const {
  const int64_t deadline = NowNs() + int64_t(total_timeout.count()) * 1'000'000;
  std::string current(url);
  for (int hop = 0;; ++hop) {
    ASSIGN_OR_RETURN(ParsedUrl u, ParseFetchUrl(current));
    if (!options_.allowed_hosts.empty() &&
        std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), u.host) ==
            options_.allowed_hosts.end()) {
      return PermissionDenied("URL host is not in the allow-list");
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(u.port);
    if (::getaddrinfo(u.host.c_str(), port.c_str(), &hints, &res) != 0 || !res) {
      return Unavailable("URL host could not be resolved");
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
    // Every resolved address must pass: a name that resolves to any internal address is refused.
    for (addrinfo* a = res; a; a = a->ai_next) {
      if (options_.allow_loopback_for_tests && IsLoopback(a->ai_addr)) continue;
      if (IsBlockedAddress(a->ai_addr)) return PermissionDenied("URL destination is not allowed");
    }
    ASSIGN_OR_RETURN(HttpResponse r, HttpGet(res->ai_addr, res->ai_addrlen, u, max_bytes,
                                             options_.connect_timeout.count(), deadline, options_.ca_file, cancelled));
    if (r.status == 200) return std::move(r.body);
    if (r.status >= 300 && r.status < 400 && !r.location.empty()) {
      if (!options_.allow_redirects) return PermissionDenied("URL redirects are not followed");
      if (hop + 1 > options_.max_redirects) return PermissionDenied("too many redirects");
      if (r.location.rfind("http://", 0) != 0 && r.location.rfind("https://", 0) != 0) {
        if (r.location.empty() || r.location[0] != '/' || (r.location.size() > 1 && r.location[1] == '/')) {
          return Unavailable("media host sent an unsupported redirect");
        }
        std::string abs = u.scheme;
        abs.append("://");
        if (u.host_is_ipv6) abs.push_back('[');
        abs.append(u.host);
        if (u.host_is_ipv6) abs.push_back(']');
        abs.append(":").append(std::to_string(u.port)).append(r.location);
        r.location = std::move(abs);
      }
      current = r.location;
      continue;
    }
    return Unavailable("media host answered with HTTP status " + std::to_string(r.status));
  }
}

}  // namespace ocular::server
