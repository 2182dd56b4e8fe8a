#include "webui/web_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "webui/web_assets.h"

namespace ocular::webui {
namespace {

class WebRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterWebUiRoutes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(WebRoutes, ServesThePageWithSameOriginPolicyOrNothingWithoutTheUi) {
  httplib::Client cli("127.0.0.1", port_);
  auto res = cli.Get("/");
  ASSERT_TRUE(res);
  if (WebAssetCount() == 0) {
    EXPECT_EQ(res->status, 404);  // no UI built: the route is not there at all
    return;
  }
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("<div id=\"app\"></div>"), std::string::npos);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
  const std::string csp = res->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos);

  auto missing = cli.Get("/assets/missing-0000.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto outside = cli.Get("/assets/../index.html");
  ASSERT_TRUE(outside);
  EXPECT_NE(outside->status, 200);
}

}  // namespace
}  // namespace ocular::webui
