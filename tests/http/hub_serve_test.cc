// `ocular serve --model hf:OWNER/REPO` end to end against a loopback server that mimics the
// hub's file API and serves the golden tiny-a checkpoint: the files land in the cache equal to
// the originals; a second run uses the cache with the hub gone; offline without a cache is
// one clear error line and a failing exit code.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs the binary with `args` (shell-quoted by the caller), returns the exit code; stderr goes
// to `err_file`.
int RunOcular(const std::string& env, const std::string& args, const fs::path& err_file) {
  const std::string cmd = env + " " + OCULAR_BINARY + " " + args + " >/dev/null 2>" + err_file.string();
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(HubServeTest, DownloadsACheckpointThenServesItFromTheCache) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const fs::path model_dir = golden / "models/tiny-a";
  httplib::Server hub;
  hub.Get(R"(/api/models/acme/tiny/revision/main)", [&](const httplib::Request&, httplib::Response& res) {
    nlohmann::json sib = nlohmann::json::array();
    for (const auto& e : fs::directory_iterator(model_dir)) {
      sib.push_back({{"rfilename", e.path().filename().string()}, {"size", fs::file_size(e.path())}});
    }
    sib.push_back({{"rfilename", "modeling_evil.py"}, {"size", 3}});
    res.set_content(nlohmann::json{{"siblings", sib}}.dump(), "application/json");
  });
  int code_requests = 0;
  hub.Get(R"(/acme/tiny/resolve/main/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (name.ends_with(".py")) ++code_requests;
    if (name.find('/') != std::string::npos || !fs::is_regular_file(model_dir / name)) {
      res.status = 404;
      return;
    }
    res.set_content(ReadAll(model_dir / name), "application/octet-stream");
  });
  const int port = hub.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { hub.listen_after_bind(); });

  const fs::path tmp = fs::temp_directory_path() / ("ocular_hub_serve_" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string env = "OCULAR_CACHE_DIR=" + tmp.string() + " HF_ENDPOINT=http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(RunOcular(env, "serve --model hf:acme/tiny --download-only", tmp / "err1.txt"), 0)
      << ReadAll(tmp / "err1.txt");
  hub.stop();
  t.join();
  const fs::path cached = tmp / "hub/acme/tiny/main";
  for (const auto& e : fs::directory_iterator(model_dir)) {
    EXPECT_EQ(ReadAll(cached / e.path().filename()), ReadAll(e.path())) << e.path().filename();
  }
  EXPECT_FALSE(fs::exists(cached / "modeling_evil.py"));
  EXPECT_EQ(code_requests, 0);

  // The hub is gone: the complete cached copy is used (also with --offline).
  EXPECT_EQ(RunOcular(env, "serve --model hf:acme/tiny --download-only --offline", tmp / "err2.txt"), 0)
      << ReadAll(tmp / "err2.txt");

  // Not cached and offline: one clear line, failing exit code.
  const int rc = RunOcular(env, "serve --model hf:acme/other --download-only --offline", tmp / "err3.txt");
  EXPECT_NE(rc, 0);
  const std::string err = ReadAll(tmp / "err3.txt");
  EXPECT_NE(err.find("hf:acme/other"), std::string::npos) << err;
  EXPECT_NE(err.find("no complete cached copy"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace ocular::testing
