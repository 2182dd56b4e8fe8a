// The SSRF-safe fetcher against loopback canary servers that count hits: every blocked
// spelling must be refused before any connection (count stays 0); the allowed path (test-only
// loopback permission) fetches, caps bytes and refuses redirects unless enabled.
#include "server/fetch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

namespace ocular::server {
namespace {

struct Canary {
  httplib::Server server;
  std::atomic<int> hits{0};
  int port = 0;
  std::thread thread;
  Canary() {
    server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      hits.fetch_add(1);
      if (req.path == "/redirect-internal") {
        res.status = 302;
        res.set_header("Location", "http://169.254.169.254/latest/meta-data/");
        return;
      }
      if (req.path == "/redirect-self") {
        res.status = 302;
        res.set_header("Location", "/big");
        return;
      }
      res.set_content(std::string(req.path == "/big" ? 1000 : 10, 'x'), "application/octet-stream");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Canary() {
    server.stop();
    thread.join();
  }
};

TEST(ParseFetchUrl, AcceptsPlainUrls) {
  auto u = ParseFetchUrl("http://Example.COM:8080/a/b.png?x=1#frag");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/a/b.png?x=1");
  auto v = ParseFetchUrl("http://[2001:4860::8888]/");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->host_is_ipv6);
  EXPECT_EQ(ParseFetchUrl("http://93.184.216.34").value().target, "/");
}

TEST(ParseFetchUrl, RejectsMalformedAndAmbiguousSpellings) {
  for (const char* bad : {"ftp://example.com/x", "http://user:pw@example.com/", "http://example.com@evil/",
                          "http://exa mple.com/", "http://example.com\\@evil/", "http://example.com/\t",
                          "http:///x", "http://127.1/", "http://0x7f.0.0.1/", "http://0177.0.0.1/",
                          "http://2130706433/", "http://0x7f000001/", "http://017700000001/",
                          "http://127.0.0.01/", "http://256.1.1.1/", "http://[fe80::1%25eth0]/",
                          "http://[::1/", "http://example.com:99999/", "http://example.com:/",
                          "http://example.com:-1/", "javascript:alert(1)", "http://-bad-.com/",
                          "http://exa\x01mple.com/", "http://1.2.3/", "http://1.2.3.4.5/"}) {
    EXPECT_FALSE(ParseFetchUrl(bad).ok()) << bad;
  }
}

bool Blocked(const char* text) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr), 1) << text;
    ss.ss_family = AF_INET6;
  }
  return IsBlockedAddress(reinterpret_cast<sockaddr*>(&ss));
}

TEST(IsBlockedAddress, RefusesEveryInternalRange) {
  for (const char* a : {"127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255",
                        "240.0.0.1", "192.0.2.1", "198.18.0.1", "::1", "::", "::ffff:127.0.0.1",
                        "::ffff:8.8.8.8", "::127.0.0.1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
                        "64:ff9b::7f00:1", "64:ff9b::808:808", "2002:7f00:1::", "2002:a00:1::",
                        "2001:0:4136:e378::1", "2001:db8::1", "fec0::1"}) {
    EXPECT_TRUE(Blocked(a)) << a;
  }
  for (const char* a : {"8.8.8.8", "93.184.216.34", "172.32.0.1", "2606:4700::1111", "2002:808:808::"}) {
    EXPECT_FALSE(Blocked(a)) << a;
  }
}

TEST(UrlFetcher, BlockedSpellingsNeverReachTheCanary) {
  Canary canary;
  const std::string p = std::to_string(canary.port);
  UrlFetcher fetcher(FetchOptions{});
  for (const std::string& url :
       {"http://127.0.0.1:" + p + "/", "http://localhost:" + p + "/", "http://LOCALHOST:" + p + "/",
        "http://127.1:" + p + "/", "http://0x7f.1:" + p + "/", "http://2130706433:" + p + "/",
        "http://0177.0.0.1:" + p + "/", "http://017700000001:" + p + "/", "http://0:" + p + "/",
        "http://0.0.0.0:" + p + "/", "http://[::1]:" + p + "/", "http://[::]:" + p + "/",
        "http://[::ffff:127.0.0.1]:" + p + "/", "http://[::ffff:7f00:1]:" + p + "/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]:" + p + "/", "http://[::1%25lo]:" + p + "/",
        "http://user@127.0.0.1:" + p + "/", "http://127.0.0.1:" + p + "\\@example.com/",
        "http://localhost.:" + p + "/", "https://127.0.0.1:" + p + "/"}) {
    auto r = fetcher.Fetch(url, 1 << 20, std::chrono::milliseconds(2000));
    EXPECT_FALSE(r.ok()) << url;
  }
  EXPECT_EQ(canary.hits.load(), 0);
}

TEST(UrlFetcher, AllowedPathFetchesCapsAndRefusesRedirects) {
  Canary canary;
  const std::string base = "http://127.0.0.1:" + std::to_string(canary.port);
  FetchOptions o;
  o.allow_loopback_for_tests = true;
  UrlFetcher fetcher(o);
  auto ok = fetcher.Fetch(base + "/small", 1 << 20, std::chrono::milliseconds(5000));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 10u);
  auto big = fetcher.Fetch(base + "/big", 100, std::chrono::milliseconds(5000));
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  auto redir = fetcher.Fetch(base + "/redirect-self", 1 << 20, std::chrono::milliseconds(5000));
  EXPECT_EQ(redir.status().code(), StatusCode::kPermissionDenied);

  FetchOptions follow = o;
  follow.allow_redirects = true;
  UrlFetcher follower(follow);
  auto hop = follower.Fetch(base + "/redirect-self", 1 << 20, std::chrono::milliseconds(5000));
  ASSERT_TRUE(hop.ok()) << hop.status().ToString();
  EXPECT_EQ(hop->size(), 1000u);
  // A redirect to an internal address is validated like the first hop.
  auto internal = follower.Fetch(base + "/redirect-internal", 1 << 20, std::chrono::milliseconds(5000));
  EXPECT_EQ(internal.status().code(), StatusCode::kPermissionDenied);

  FetchOptions allow = o;
  allow.allowed_hosts = {"images.example.org"};
  auto denied = UrlFetcher(allow).Fetch(base + "/small", 1 << 20, std::chrono::milliseconds(5000));
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
}

// https against a loopback TLS server whose self-signed certificate is made here with the
// openssl CLI: trusted only through the test CA file, and only for the name it was issued to.
class TlsServer {
 public:
  TlsServer(const std::filesystem::path& dir, const std::string& san) {
    cert_ = (dir / (san + ".crt")).string();
    key_ = (dir / (san + ".key")).string();
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" +
                            san.substr(san.find(':') + 1) + " -addext subjectAltName=" + san + " -keyout " + key_ +
                            " -out " + cert_ + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    server_ = std::make_unique<httplib::SSLServer>(cert_.c_str(), key_.c_str());
    server_->Get("/img", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(5000, 'z'), "image/png");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }
  ~TlsServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return server_ && server_->is_valid() && port_ > 0; }
  int port() const { return port_; }
  const std::string& cert() const { return cert_; }

 private:
  std::string cert_, key_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(UrlFetcher, HttpsVerifiesTheCertificateAgainstTheHostName) {
  const auto dir = std::filesystem::temp_directory_path() / ("ocular_tls_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    TlsServer good(dir, "DNS:localhost");
    TlsServer other(dir, "DNS:other.example");
    if (!good.ok() || !other.ok()) GTEST_SKIP() << "openssl CLI not available";
    const std::string url = "https://localhost:" + std::to_string(good.port()) + "/img";
    FetchOptions o;
    o.allow_loopback_for_tests = true;
    o.ca_file = good.cert();
    auto r = UrlFetcher(o).Fetch(url, 1 << 20, std::chrono::milliseconds(5000));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->size(), 5000u);
    EXPECT_EQ((*r)[0], 'z');
    // The byte cap applies through TLS too.
    EXPECT_EQ(UrlFetcher(o).Fetch(url, 100, std::chrono::milliseconds(5000)).status().code(),
              StatusCode::kResourceExhausted);
    // Not in the system store: refused.
    FetchOptions system_store = o;
    system_store.ca_file.clear();
    auto untrusted = UrlFetcher(system_store).Fetch(url, 1 << 20, std::chrono::milliseconds(5000));
    EXPECT_EQ(untrusted.status().code(), StatusCode::kUnavailable) << untrusted.status().ToString();
    // Trusted certificate, wrong name: refused.
    FetchOptions wrong = o;
    wrong.ca_file = other.cert();
    auto mismatch = UrlFetcher(wrong).Fetch("https://localhost:" + std::to_string(other.port()) + "/img", 1 << 20,
                                            std::chrono::milliseconds(5000));
    EXPECT_EQ(mismatch.status().code(), StatusCode::kUnavailable) << mismatch.status().ToString();
    // An address URL needs the address in the certificate.
    auto by_ip = UrlFetcher(o).Fetch("https://127.0.0.1:" + std::to_string(good.port()) + "/img", 1 << 20,
                                     std::chrono::milliseconds(5000));
    EXPECT_EQ(by_ip.status().code(), StatusCode::kUnavailable) << by_ip.status().ToString();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ocular::server
