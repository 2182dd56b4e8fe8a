// The one SSRF-safe fetcher for media URLs (RELIABILITY.md "URL destinations").
//
// - URL parsing is strict: scheme http or https, no userinfo, no whitespace, control bytes or
//   backslashes, host is a DNS name, a canonical dotted-quad IPv4 address or a bracketed IPv6
//   address without zone id. Other numeric spellings (127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1)
//   are refused before resolution, since getaddrinfo would accept them.
// - The host is resolved once; every resolved address must be public unicast (no loopback,
//   private, CGNAT, link-local, multicast, unspecified, reserved, documentation, benchmarking,
//   IPv4-mapped/compatible, NAT64, 6to4 or Teredo embedding a blocked IPv4, ULA, site-local);
//   the connection goes to that validated address (no second lookup).
// - Redirects are off by default; when enabled each hop is parsed and validated again.
// - Byte cap (Content-Length checked first, then counted while reading), connect timeout and a
//   total deadline.
// - https: TLS 1.2+ to the validated address, SNI and certificate verification by host name
//   (or IP for address URLs) against the system CA store (server/fetch_stream.h).
// Errors never echo the URL, the address or library messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct sockaddr;

namespace ocular::server {

// Polled while waiting on the network: true once the request that wants the bytes is gone
// (client disconnected); the fetch then ends with Cancelled. Empty: never cancelled.
using CancelCheck = std::function<bool()>;

struct ParsedUrl {
  std::string scheme;  // "http" | "https"
  std::string host;    // lower-case; IPv6 without brackets
  int port = 80;
  std::string target;  // path + query, starts with '/'
  bool host_is_ipv6 = false;
};

// Errors: InvalidArgument naming the defect (never the URL itself).
Result<ParsedUrl> ParseFetchUrl(std::string_view url);

// True when the address must not be fetched from (see above). `addr` is AF_INET or AF_INET6.
bool IsBlockedAddress(const sockaddr* addr);

struct FetchOptions {
  bool allow_redirects = false;
  int max_redirects = 3;
  std::vector<std::string> allowed_hosts;  // empty: any public host
  std::chrono::milliseconds connect_timeout{2000};
  // Tests only: lets the fetcher reach loopback so the allowed path can be exercised against
  // a local server. Never set by the server.
  bool allow_loopback_for_tests = false;
  // Tests only: trust this CA file (PEM) instead of the system store.
  std::string ca_file;
};

class UrlFetcher {
 public:
  explicit UrlFetcher(FetchOptions options) : options_(std::move(options)) {}
  // Errors: InvalidArgument (bad URL), PermissionDenied (blocked destination or host not in
  // the allow-list, redirect when off), ResourceExhausted (byte cap), DeadlineExceeded
  // (timeouts), Unavailable (connection failed, non-200 status, TLS failure or untrusted
  // certificate),
  // Cancelled (`cancelled` said so while waiting).
  Result<std::vector<uint8_t>> Fetch(std::string_view url, uint64_t max_bytes,
                                     std::chrono::milliseconds total_timeout,
                                     const CancelCheck& cancelled = {}) const;

 private:
  FetchOptions options_;
};

}  // namespace ocular::server
