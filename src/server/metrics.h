// Prometheus metrics of the server (text exposition format 0.0.4). Histograms are recorded by
// request threads; gauges from the engine's Stats() are filled in at scrape time.
//
// Names: ocular_requests_running / _waiting (gauges), ocular_kv_blocks_used / _total,
// ocular_time_to_first_token_seconds, ocular_inter_token_latency_seconds,
// ocular_e2e_request_latency_seconds, ocular_queue_time_seconds,
// ocular_stage_seconds{stage=fetch|preprocess|encode|prefill|decode} (histograms),
// ocular_prefix_cache_hit_tokens_total, ocular_feature_cache_hits_total{kind=exact|similar|shared},
// ocular_feature_cache_misses_total, ocular_feature_cache_shared_{hits,misses,errors,writes,dropped}_total
// (with --feature-cache-redis), ocular_feature_cache_bytes / _entries (gauges),
// ocular_feature_cache_evictions_total, ocular_feature_cache_encode_seconds_saved_total,
// ocular_preemptions_total, ocular_requests_total{status=...},
// ocular_prompt_tokens_total, ocular_generation_tokens_total, ocular_http_streams_open,
// ocular_engine_steps_total, ocular_engine_decode_steps_total, ocular_engine_slow_decode_steps_total,
// ocular_vision_encodes_in_flight / _encoder_state_bytes (gauges),
// ocular_vision_encodes_started_total / _finished_total.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace ocular::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Appends the _bucket/_sum/_count lines; `labels` like `stage="fetch"` or "".
  void Render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::vector<double> bounds_;  // upper bounds, ascending; +Inf implicit
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // [bounds + 1]
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void RecordFinished(const engine::RequestStats& s, std::string_view finish_reason);
  void ObserveInterToken(double seconds) { itl_.Observe(seconds); }
  void CountRequest(int http_status);
  std::atomic<int64_t> streams_open{0};
  std::string Render(const engine::EngineStats& stats) const;

 private:
  Histogram ttft_, itl_, e2e_, queue_;
  std::array<Histogram, 5> stages_;
  mutable std::mutex mu_;
  std::map<int, uint64_t> requests_by_status_;
  std::map<std::string, uint64_t> finish_reasons_;
  uint64_t prompt_tokens_ = 0, generation_tokens_ = 0;
};

}  // namespace ocular::server
