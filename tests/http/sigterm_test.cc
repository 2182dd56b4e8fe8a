// SIGTERM under load against the real `ocular serve` process: readiness flips, new work gets
// 503, every accepted stream ends properly (finish reason + [DONE]), and the exit code is 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/http/http_test_util.h"
#include "tests/support/golden.h"

extern char** environ;

namespace ocular::testing {
namespace {

using nlohmann::json;

struct Child {
  pid_t pid = -1;
  int port = 0;
  FILE* out = nullptr;
};

// Starts `ocular serve` on a free port and waits for its "listening on" line.
Child StartServer(const std::filesystem::path& golden, const std::string& grace) {
  Child c;
  int fds[2];
  if (pipe(fds) != 0) return c;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  const std::string model = (golden / "models/tiny-a").string();
  std::vector<std::string> args = {OCULAR_BINARY, "serve", "--model", model, "--port", "0", "--threads", "2",
                                   "--kv-cache-bytes", "16777216", "--shutdown-grace-seconds", grace};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&c.pid, OCULAR_BINARY, &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  c.out = fdopen(fds[0], "r");
  char line[512];
  while (c.pid > 0 && fgets(line, sizeof(line), c.out)) {
    std::string l(line);
    auto p = l.find("listening on http://127.0.0.1:");
    if (p != std::string::npos) {
      c.port = std::stoi(l.substr(p + 30));
      break;
    }
  }
  return c;
}

// grace: --shutdown-grace-seconds; max_tokens: per stream; expect: the finish reason every
// accepted stream must end with ("length": finished within the grace; "cancelled": ended by
// the server after it, still with a finish chunk and [DONE]).
void RunSigterm(const std::filesystem::path& golden, const std::string& grace, int max_tokens,
                const std::string& expect) {
  Child c = StartServer(golden, grace);
  ASSERT_GT(c.pid, 0);
  ASSERT_GT(c.port, 0) << "server did not start";
  constexpr int kClients = 16;
  std::atomic<int> started{0}, ended_ok{0};
  std::vector<std::string> problems(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      json req = {{"messages", {{{"role", "user"}, {"content", "Story " + std::to_string(i)}}}},
                  {"max_tokens", max_tokens}, {"ignore_eos", true}, {"stream", true}};
      httplib::Client cli("127.0.0.1", c.port);
      cli.set_read_timeout(120, 0);
      httplib::Request r;
      r.method = "POST";
      r.path = "/v1/chat/completions";
      r.body = req.dump();
      r.set_header("Content-Type", "application/json");
      std::string body;
      r.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
        if (body.empty()) started.fetch_add(1);
        body.append(d, n);
        return true;
      };
      auto res = cli.send(r);
      if (!res || res->status != 200) {
        problems[size_t(i)] = "no 200";
        return;
      }
      SseStream s = ParseSse(body);
      std::string finish;
      for (const json& ch : s.chunks)
        for (const json& x : ch["choices"])
          if (!x["finish_reason"].is_null()) finish = x["finish_reason"];
      if (s.done && !s.malformed && finish == expect) {
        ended_ok.fetch_add(1);
      } else {
        problems[size_t(i)] = "finish '" + finish + "' done " + std::to_string(s.done);
      }
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (started.load() < kClients && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(started.load(), kClients);
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  // Readiness flips and new work is refused while the streams drain.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  httplib::Client probe("127.0.0.1", c.port);
  auto ready = probe.Get("/ready");
  if (ready) {
    EXPECT_EQ(ready->status, 503);
  }
  auto refused = probe.Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})",
                            "application/json");
  if (refused) {
    EXPECT_EQ(refused->status, 503);
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_TRUE(problems[size_t(i)].empty()) << i << ": " << problems[size_t(i)];
  EXPECT_EQ(ended_ok.load(), kClients);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fclose(c.out);
}

TEST(HttpSigterm, InFlightStreamsFinishWithinGraceAndExitIsZero) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunSigterm(golden, "120", 48, "length");
}

TEST(HttpSigterm, StreamsPastTheGraceEndCancelledWithDoneAndExitIsZero) {
  OCULAR_REQUIRE_GOLDEN(golden);
  RunSigterm(golden, "1", 4000, "cancelled");
}

// An idle keep-alive connection must not hold the exit hostage until its idle timeout (60 s):
// with nothing in flight the server exits 0 right after the grace period's checks.
TEST(HttpSigterm, IdleKeepAliveConnectionDoesNotDelayExit) {
  OCULAR_REQUIRE_GOLDEN(golden);
  Child c = StartServer(golden, "5");
  ASSERT_GT(c.pid, 0);
  ASSERT_GT(c.port, 0) << "server did not start";
  httplib::Client idle("127.0.0.1", c.port);
  idle.set_keep_alive(true);
  auto health = idle.Get("/health");
  ASSERT_TRUE(health);
  ASSERT_EQ(health->status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Nothing was in flight, so no grace is waited; 2 s for the orderly path, plus slack for a
  // loaded or sanitizer machine; far below the 60 s idle timeout it used to wait for.
  EXPECT_LT(seconds, 20.0);
  fclose(c.out);
}

// oneDNN's OpenMP threads must not spin against our pool: the server runs with libgomp's
// passive waiting unless the user chose a policy (read from the live process's environment).
TEST(HttpSigterm, ServeRunsWithPassiveOpenMpWaiting) {
  OCULAR_REQUIRE_GOLDEN(golden);
  Child c = StartServer(golden, "5");
  ASSERT_GT(c.pid, 0);
  ASSERT_GT(c.port, 0) << "server did not start";
  std::ifstream in("/proc/" + std::to_string(c.pid) + "/environ", std::ios::binary);
  const std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const char* mine = std::getenv("OMP_WAIT_POLICY");
  const std::string want = std::string("OMP_WAIT_POLICY=") + (mine ? mine : "passive");
  bool found = false;
  for (size_t at = 0; at < env.size();) {
    const size_t end = env.find('\0', at);
    const std::string entry = env.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (entry == want) found = true;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  EXPECT_TRUE(found) << "the server's environment lacks " << want;
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fclose(c.out);
}

}  // namespace
}  // namespace ocular::testing
