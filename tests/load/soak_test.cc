// The soak of the load suite (label slow): OCULAR_SOAK_REQUESTS mixed requests against a real
// `ocular serve` on tiny-a. Figures are printed as `LOAD_FIGURE name value` lines.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/load/load_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

// OCULAR_SOAK_REQUESTS (default 10,000) mixed requests from 32 clients: streamed and plain text,
// images (a few distinct ones, so the feature cache both hits and misses), n=2, deliberate
// mid-stream disconnects, and 10% bad inputs. Checks: every bad input gets 400, every other
// request completes (no lost or truncated stream), no 5xx, the server stays up, and at the
// end RSS has not drifted beyond the caches' budget, descriptors are back to their baseline and
// the gauges are zero. Prints p50/p99 TTFT of the streamed requests under this load.
TEST(LoadSoak, MixedRequestsWithBadInputsKeepResourcesFlat) {
  OCULAR_REQUIRE_GOLDEN(golden);
  const char* env = std::getenv("OCULAR_SOAK_REQUESTS");
  const int total = env ? std::atoi(env) : 10000;
  ServeProcess s(Binary(), Model(golden), {"--threads", "2", "--max-running", "16", "--max-waiting", "256",
                                                "--kv-cache-bytes", "16777216", "--feature-cache-bytes", "8388608"});
  ASSERT_TRUE(s.ok());
  std::vector<std::string> images;
  for (int i = 0; i < 6; ++i) images.push_back("data:image/png;base64," + Base64Encode(MakePng(48 + 8 * i, 40, i)));
  const std::string bomb = [] {
    std::string png = MakePng(8, 8, 1);
    // IHDR width/height (bytes 16..23) rewritten to 30000 x 30000: a decompression bomb.
    for (int i = 0; i < 2; ++i) {
      png[16 + 4 * i] = 0;
      png[17 + 4 * i] = 0;
      png[18 + 4 * i] = static_cast<char>(30000 >> 8);
      png[19 + 4 * i] = static_cast<char>(30000 & 255);
    }
    return "data:image/png;base64," + Base64Encode(png);
  }();
  const std::vector<std::string> bad_bodies = {
      "{\"messages\": [",
      R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": -3})",
      R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})",
      R"({"messages": [{"role": "wizard", "content": "x"}]})",
      R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,*!*"}}]}]})",
      json{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", bomb}}}}}}}}},
           {"max_tokens", 1}}.dump(),
  };

  // Warm up (lazy allocations, caches filled) before the baseline is taken.
  {
    auto c = Connect(s.port());
    for (const std::string& img : images) {
      json r = {{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", img}}}},
                                                              {{"type", "text"}, {"text", "what"}}}}}}},
                {"max_tokens", 1}};
      ASSERT_EQ(ChatCompletion(*c, r).status, 200);
    }
  }
  ASSERT_GE(WaitIdle(s, 10000), 0);
  const int fds0 = s.OpenFds();

  constexpr int kClients = 32;
  std::atomic<int> next{0}, bad_ok{0}, bad_wrong{0}, good_ok{0}, lost{0}, five_xx{0}, busy{0}, cancelled{0};
  std::atomic<long> rss_after_warm{0}, rss_half{0};
  std::mutex mu;
  std::vector<double> ttft;
  std::vector<std::string> problems;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < kClients; ++w) {
    threads.emplace_back([&] {
      auto c = Connect(s.port());
      for (int i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
        if (i == total / 10) rss_after_warm = s.RssKib();
        if (i == total / 2) rss_half = s.RssKib();
        const int kind = i % 10;
        Exchange e;
        if (kind == 0) {  // 10% bad inputs
          httplib::Request r;
          const std::string& body = bad_bodies[size_t(i / 10) % bad_bodies.size()];
          auto res = c->Post("/v1/chat/completions", body, "application/json");
          const int st = res ? res->status : -1;
          (st == 400 ? bad_ok : bad_wrong).fetch_add(1);
          if (st >= 500) five_xx.fetch_add(1);
          if (st != 400) {
            std::lock_guard<std::mutex> l(mu);
            problems.push_back("bad input " + std::to_string(i) + " got " + std::to_string(st));
          }
          continue;
        }
        const int tokens = 1 + i % 4;
        json req;
        bool stream = false, hang_up = false;
        switch (kind) {
          case 1: case 2: case 3:
            req = Chat("Soak " + std::to_string(i % 97), tokens, true);
            stream = true;
            break;
          case 4:
            req = Chat("Tell me a long story " + std::to_string(i), 200, true);
            stream = hang_up = true;
            break;
          case 5: case 6:
            req = {{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", images[size_t(i) % images.size()]}}}},
                                                                 {{"type", "text"}, {"text", "describe"}}}}}}},
                   {"max_tokens", tokens}, {"ignore_eos", true}};
            break;
          case 7:
            req = Chat("Two answers " + std::to_string(i % 13), tokens, false);
            req["n"] = 2;
            break;
          default:
            req = Chat("Plain " + std::to_string(i % 31), tokens, false);
        }
        e = ChatCompletion(*c, req, hang_up);
        if (e.status >= 500) five_xx.fetch_add(1);
        if (e.status == 429) {
          busy.fetch_add(1);
          continue;
        }
        if (hang_up) {
          (e.ttft_ms > 0 ? cancelled : lost).fetch_add(1);
          c = Connect(s.port());  // the hung-up connection is gone
          continue;
        }
        bool complete = e.status == 200 && e.finish_reason == "length" &&
                        e.completion_tokens == tokens * (req.value("n", 1));
        if (stream) complete = complete && e.done && !e.malformed;
        if (complete) {
          good_ok.fetch_add(1);
          if (stream) {
            std::lock_guard<std::mutex> l(mu);
            ttft.push_back(e.ttft_ms);
          }
        } else {
          lost.fetch_add(1);
          std::lock_guard<std::mutex> l(mu);
          if (problems.size() < 20) {
            problems.push_back("request " + std::to_string(i) + " status " + std::to_string(e.status) + " finish '" +
                               e.finish_reason + "' tokens " + std::to_string(e.completion_tokens));
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(s.Alive());
  EXPECT_GE(WaitIdle(s, 10000), 0) << "gauges not back to zero";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // closed connections reaped
  const long rss_end = s.RssKib();
  const int fds_end = s.OpenFds();
  const int threads_end = s.Threads();
  for (const std::string& p : problems) ADD_FAILURE() << p;
  EXPECT_EQ(bad_ok.load() + bad_wrong.load(), (total + 9) / 10);
  EXPECT_EQ(bad_wrong.load(), 0);
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(five_xx.load(), 0);
  EXPECT_EQ(busy.load(), 0);  // 32 clients never exceed 16 running + 256 waiting
  EXPECT_EQ(s.Metric("ocular_http_streams_open"), 0);
  // Descriptors: back to the baseline (a few keep-alive sockets may still be closing).
  EXPECT_LE(fds_end, fds0 + 4) << "descriptor leak: " << fds0 << " -> " << fds_end;
  // RSS from the first 10% to the end is reported; the check is on the second half, where
  // per-thread allocator arenas and the caches (8 MiB feature budget) have reached their size:
  // a leak keeps growing with the request count, warm-up does not.
  const double drift_mib = double(rss_end - rss_after_warm.load()) / 1024.0;
  const double half_drift_mib = double(rss_end - rss_half.load()) / 1024.0;
  const double kib_per_request = half_drift_mib * 1024.0 / double(total - total / 2);
  // Over 10,000 requests RSS grew 10-30 KiB per request over the second half while httplib's
  // pool rotated connections over all 1,024 of its threads (each kept its stack pages, malloc
  // cache and arena share). With workers started on demand and reused most-recently-idle
  // first (src/server/http_worker_pool.h) the server runs about as many threads as connections
  // were open at once, and the second half grows 1-9 KiB per request (the most on a loaded
  // machine): oneDNN primitives for batch shapes not seen before (bounded caches) and
  // allocator fragmentation; over 20,000 requests it plateaus. The RSS bound is therefore
  // loose; the thread bound below is what fails the old behaviour (1,028 threads).
  EXPECT_LT(kib_per_request, 16.0) << "RSS grew " << half_drift_mib << " MiB over the second half";
  // 32 clients (plus reconnections after hang-ups) need a few dozen HTTP workers, not 1,024.
  EXPECT_LT(threads_end, 160) << "server threads after the soak";
  Figure("soak_requests", total);
  Figure("soak_seconds", seconds);
  Figure("soak_requests_per_second", total / seconds);
  Figure("soak_bad_inputs", bad_ok.load() + bad_wrong.load());
  Figure("soak_completed", good_ok.load());
  Figure("soak_disconnects", cancelled.load());
  Figure("soak_lost_or_truncated", lost.load());
  Figure("soak_5xx", five_xx.load());
  Figure("soak_rss_start_mib", double(rss_after_warm.load()) / 1024.0);
  Figure("soak_rss_drift_mib", drift_mib);
  Figure("soak_rss_second_half_drift_mib", half_drift_mib);
  Figure("soak_rss_second_half_kib_per_request", kib_per_request);
  Figure("soak_fds_start", fds0);
  Figure("soak_fds_end", fds_end);
  Figure("soak_threads_end", threads_end);
  Figure("soak_ttft_p50_ms", Percentile(ttft, 50));
  Figure("soak_ttft_p99_ms", Percentile(ttft, 99));
  EXPECT_EQ(s.Stop(), 0);
}

}  // namespace
}  // namespace ocular::testing
