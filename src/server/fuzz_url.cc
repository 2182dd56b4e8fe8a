// libFuzzer: arbitrary bytes -> the media URL parser; an accepted URL's host must be a DNS name,
// a canonical dotted quad or a valid IPv6 literal, and the target must start with '/'.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/fetch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string url(reinterpret_cast<const char*>(data), size);
  auto u = ocular::server::ParseFetchUrl(url);
  if (!u.ok()) return 0;
  if (u->target.empty() || u->target[0] != '/') std::abort();
  if (u->port < 1 || u->port > 65535) std::abort();
  if (u->host.empty() || u->host.find_first_of("@\\ /%") != std::string::npos) std::abort();
  if (u->host_is_ipv6) {
    in6_addr a;
    if (inet_pton(AF_INET6, u->host.c_str(), &a) != 1) std::abort();
  }
  return 0;
}
