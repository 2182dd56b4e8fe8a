#include "server/http_worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace ocular::server {
namespace {

using std::chrono::milliseconds;

// A gate the jobs wait on, so a test controls how many run at once.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Waits (up to 10 s) until `pred` holds.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return pred();
}

// Connections one after another (a keep-alive client reconnecting, the soak's pattern) are
// served by one thread: httplib's pool would rotate them over all of its threads.
TEST(HttpWorkerPool, SequentialWorkReusesOneThread) {
  HttpWorkerPool pool(1024, std::chrono::seconds(30));
  std::mutex mu;
  std::set<std::thread::id> ids;
  for (int i = 0; i < 50; ++i) {
    std::atomic<bool> done{false};
    pool.enqueue([&] {
      {
        std::lock_guard<std::mutex> l(mu);
        ids.insert(std::this_thread::get_id());
      }
      done = true;
    });
    // The job has returned and its thread is back on the idle list.
    ASSERT_TRUE(Eventually([&] { return done.load() && pool.threads_idle() == 1; }));
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(pool.threads_started(), 1u);
}

// K connections open at once start K threads, never more than the maximum; the extra work
// waits and still runs.
TEST(HttpWorkerPool, StartsThreadsOnDemandUpToTheMaximum) {
  HttpWorkerPool pool(4, std::chrono::seconds(30));
  Gate gate;
  std::atomic<int> running{0}, peak{0}, finished{0};
  for (int i = 0; i < 10; ++i) {
    pool.enqueue([&] {
      const int now = running.fetch_add(1) + 1;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      gate.Wait();
      running.fetch_sub(1);
      finished.fetch_add(1);
    });
  }
  ASSERT_TRUE(Eventually([&] { return running.load() == 4; }));
  EXPECT_EQ(pool.threads_started(), 4u);
  EXPECT_EQ(finished.load(), 0);
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return finished.load() == 10; }));
  EXPECT_EQ(peak.load(), 4);
  EXPECT_EQ(pool.threads_started(), 4u);
}

// Threads idle past the timeout exit; new work starts a new one.
TEST(HttpWorkerPool, IdleThreadsRetire) {
  HttpWorkerPool pool(16, milliseconds(50));
  Gate gate;
  std::atomic<int> finished{0};
  for (int i = 0; i < 8; ++i) {
    pool.enqueue([&] {
      gate.Wait();
      finished.fetch_add(1);
    });
  }
  ASSERT_TRUE(Eventually([&] { return pool.threads_alive() == 8; }));
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return finished.load() == 8; }));
  ASSERT_TRUE(Eventually([&] { return pool.threads_alive() == 0; }));
  std::atomic<bool> ran{false};
  pool.enqueue([&] { ran = true; });
  EXPECT_TRUE(Eventually([&] { return ran.load(); }));
  EXPECT_EQ(pool.threads_started(), 9u);
}

// shutdown() runs what is queued, then joins every thread (as httplib's pool does).
TEST(HttpWorkerPool, ShutdownRunsQueuedWorkAndJoins) {
  std::atomic<int> finished{0};
  HttpWorkerPool pool(2, std::chrono::seconds(30));
  for (int i = 0; i < 20; ++i) {
    pool.enqueue([&] {
      std::this_thread::sleep_for(milliseconds(1));
      finished.fetch_add(1);
    });
  }
  pool.shutdown();
  EXPECT_EQ(finished.load(), 20);
  EXPECT_EQ(pool.threads_alive(), 0u);
  pool.shutdown();  // httplib's destructor path may call it again
}

// Many producers against few threads: every job runs exactly once.
TEST(HttpWorkerPool, ConcurrentEnqueueRunsEveryJobOnce) {
  std::atomic<int> finished{0};
  {
    HttpWorkerPool pool(3, milliseconds(1));  // threads retire and restart all the time
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < 250; ++i) pool.enqueue([&] { finished.fetch_add(1); });
      });
    }
    for (auto& t : producers) t.join();
  }  // the destructor drains and joins
  EXPECT_EQ(finished.load(), 1000);
}

}  // namespace
}  // namespace ocular::server
