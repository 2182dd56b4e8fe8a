// Monotonic time for stage timings and benchmarks.
#pragma once

#include <chrono>
#include <cstdint>

namespace ocular {

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Measures elapsed time since construction or the last Reset().
class Stopwatch {
 public:
  Stopwatch() : start_ns_(NowNs()) {}
  void Reset() { start_ns_ = NowNs(); }
  int64_t ElapsedNs() const { return NowNs() - start_ns_; }
  double ElapsedMs() const { return static_cast<double>(ElapsedNs()) * 1e-6; }
  double ElapsedS() const { return static_cast<double>(ElapsedNs()) * 1e-9; }

 private:
  int64_t start_ns_;
};

}  // namespace ocular
