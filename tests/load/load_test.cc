// Load and fault suite against a real `ocular serve` process on the tiny-a checkpoint
// (RELIABILITY.md "Load and faults"): offered load far above capacity, KV exhaustion, client
// disconnects at several stages (the soak is soak_test.cc). SIGTERM under load is
// tests/http/sigterm_test.cc.
// Figures are printed as `LOAD_FIGURE name value` lines (scripts/reliability-report reads them).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/load/load_util.h"
#include "tests/support/golden.h"

namespace ocular::testing {
namespace {


// 3x the admission capacity (running + waiting slots) at once: each client gets either a
// complete stream or an immediate 429 with Retry-After; nothing else, and the server is idle
// and serving afterwards.
TEST(Load, OfferedLoadThreeTimesCapacityGets429sAndCompleteStreams) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ServeProcess s(Binary(), Model(golden), {"--threads", "2", "--max-running", "4", "--max-waiting", "4"});
  ASSERT_TRUE(s.ok());
  // Capacity = 4 running + 4 queued. A simultaneous burst finds the running slots still
  // empty (the engine loop moves requests from the queue), so at least the queue's 4 are
  // admitted.
  constexpr int kQueue = 4, kCapacity = 8, kClients = 3 * kCapacity, kTokens = 24;
  std::vector<Exchange> results(kClients);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto c = Connect(s.port());
      ready.fetch_add(1);
      while (ready.load() < kClients) std::this_thread::yield();
      results[size_t(i)] = ChatCompletion(*c, Chat("Story number " + std::to_string(i), kTokens, true));
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, busy = 0;
  for (int i = 0; i < kClients; ++i) {
    const Exchange& e = results[size_t(i)];
    if (e.status == 429) {
      ++busy;
      EXPECT_FALSE(e.retry_after.empty()) << i;
      EXPECT_GT(std::atoi(e.retry_after.c_str()), 0) << i;
    } else {
      EXPECT_TRUE(CompleteStream(e, kTokens)) << i;
      ++ok;
    }
  }
  EXPECT_GE(ok, kQueue);  // every admitted request completes
  EXPECT_GT(busy, 0);        // and the rest were turned away, not queued without bound
  Figure("overload_clients", kClients);
  Figure("overload_429", busy);
  EXPECT_GE(WaitIdle(s, 10000), 0);
  {
    auto c = Connect(s.port());
    EXPECT_TRUE(CompleteStream(ChatCompletion(*c, Chat("after", 2, true)), 2));
  }  // closed before SIGTERM: an idle keep-alive connection delays exit (see Stop's note)
  EXPECT_EQ(s.Stop(), 0);
}

// More concurrent sequences than the KV cache holds: the scheduler preempts and every request
// still finishes with all its tokens.
TEST(Load, KvExhaustionPreemptsAndEveryRequestCompletes) {
  OCULAR_REQUIRE_GOLDEN(golden);
  // tiny-a: 4 layers x (K, V) x 2 kv heads x 32 dims x 4 bytes = 2 KiB per token; 512 KiB
  // holds 256 tokens (16 blocks of 16). 6 requests x (~12 prompt + 48 generated) need ~360.
  ServeProcess s(Binary(), Model(golden), {"--threads", "2", "--max-running", "6", "--kv-cache-bytes", "524288",
                                           "--no-prefix-cache"});
  ASSERT_TRUE(s.ok());
  constexpr int kClients = 6, kTokens = 48;
  std::vector<Exchange> results(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto c = Connect(s.port());
      results[size_t(i)] = ChatCompletion(*c, Chat("Tell story " + std::to_string(i), kTokens, true));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_TRUE(CompleteStream(results[size_t(i)], kTokens)) << i;
  const double preemptions = s.Metric("ocular_preemptions_total");
  EXPECT_GT(preemptions, 0);
  Figure("kv_exhaustion_preemptions", preemptions);
  EXPECT_GE(WaitIdle(s, 10000), 0);
  EXPECT_EQ(s.Stop(), 0);
}

// --kv-dtype auto (the default) keeps K and V in bf16 under --precision bf16 and exact under
// f32: the same budget holds twice the tokens in bf16 (tiny-a: 2 KiB per token in f32, 1 KiB
// in bf16); an explicit type wins over the precision, and one the cache cannot hold stops the
// server at start.
TEST(Load, KvDtypeFollowsThePrecisionUnlessChosen) {
  OCULAR_REQUIRE_GOLDEN(golden);
  auto capacity = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--threads", "2", "--kv-cache-bytes", "524288"});
    ServeProcess s(Binary(), Model(golden), extra);
    EXPECT_TRUE(s.ok());
    const double tokens = s.ok() ? s.Metric("ocular_kv_capacity_tokens") : -1;
    if (s.ok()) EXPECT_EQ(s.Stop(), 0);
    return tokens;
  };
  EXPECT_EQ(capacity({"--precision", "f32"}), 256);
  EXPECT_EQ(capacity({"--precision", "bf16"}), 512);
  EXPECT_EQ(capacity({"--precision", "bf16", "--kv-dtype", "f32"}), 256);
  EXPECT_EQ(capacity({"--precision", "f32", "--kv-dtype", "f16"}), 512);
  ServeProcess bad(Binary(), Model(golden), {"--precision", "bf16", "--kv-dtype", "q8_0"});
  EXPECT_FALSE(bad.ok());
}

// Disconnects while queued, right after sending (prefill) and mid-decode: the work is cancelled
// and its KV blocks and slots are freed; reports the worst time to free.
TEST(Load, DisconnectsAtEachStageFreeEverything) {
  OCULAR_REQUIRE_GOLDEN(golden);
  ServeProcess s(Binary(), Model(golden), {"--threads", "2", "--max-running", "1"});
  ASSERT_TRUE(s.ok());
  double worst_ms = 0;
  for (int round = 0; round < 5; ++round) {
    // Decode: hang up after the first event of a long generation.
    auto c = Connect(s.port());
    Exchange e = ChatCompletion(*c, Chat("A long story " + std::to_string(round), 4000, true), true);
    c.reset();
    ASSERT_GT(e.ttft_ms, 0);
    const double ms = WaitIdle(s, 5000);
    ASSERT_GE(ms, 0) << "resources not freed after a mid-stream disconnect";
    worst_ms = std::max(worst_ms, ms);
  }
  // Queued: one long request holds the only running slot; a second one queues and its client
  // goes away; then the first is cancelled too. Everything drains.
  {
    auto holder = Connect(s.port());
    std::thread first([&] { ChatCompletion(*holder, Chat("hold the slot", 4000, true), true); });
    first.join();  // hung up after its first event; its cancellation races the queued one below
    auto queued = std::make_unique<httplib::Client>("127.0.0.1", s.port());
    queued->set_read_timeout(0, 200000);  // 200 ms: give up while still queued
    ChatCompletion(*queued, Chat("queued", 4000, true));
    queued.reset();
    EXPECT_GE(WaitIdle(s, 10000), 0) << "queued disconnect not freed";
  }
  // Prefill: a long prompt, hang up as soon as it is sent.
  {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", s.port());
    c->set_read_timeout(0, 1000);  // 1 ms: the response never arrives in time
    std::string words;
    for (int i = 0; i < 600; ++i) words += "word" + std::to_string(i) + " ";
    ChatCompletion(*c, Chat(words, 2000, true));
    c.reset();
    EXPECT_GE(WaitIdle(s, 10000), 0) << "prefill disconnect not freed";
  }
  Figure("disconnect_free_ms_worst", worst_ms);
  {
    auto c = Connect(s.port());
    EXPECT_TRUE(CompleteStream(ChatCompletion(*c, Chat("still serving", 2, true)), 2));
  }
  EXPECT_EQ(s.Stop(), 0);
}

}  // namespace
}  // namespace ocular::testing
