#include "server/metrics.h"

#include <fmt/format.h>

namespace ocular::server {
namespace {

const char* kStageNames[5] = {"fetch", "preprocess", "encode", "prefill", "decode"};

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
          0.75,  1.0,    2.5,   5.0,  10.0,  20.0, 40.0,  80.0, 160.0};
}

std::string Fmt(double v) { return fmt::format("{}", v); }

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, Fmt(bounds_[i]), cum);
  }
  cum += counts_.back();
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, cum);
  const std::string l = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, l, Fmt(sum_), name, l, count_);
}

ServerMetrics::ServerMetrics()
    : ttft_(LatencyBuckets()),
      itl_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5}),
      e2e_(LatencyBuckets()),
      queue_(LatencyBuckets()),
      stages_{Histogram(LatencyBuckets()), Histogram(LatencyBuckets()), Histogram(LatencyBuckets()),
              Histogram(LatencyBuckets()), Histogram(LatencyBuckets())} {}

void ServerMetrics::RecordFinished(const engine::RequestStats& s, std::string_view finish_reason) {
  if (s.ttft_ms > 0) ttft_.Observe(s.ttft_ms / 1e3);
  e2e_.Observe(s.total_ms / 1e3);
  queue_.Observe(s.queue_ms / 1e3);
  const double stage_ms[5] = {s.fetch_ms, s.preprocess_ms, s.encode_ms, s.prefill_ms, s.decode_ms};
  for (int i = 0; i < 5; ++i) stages_[size_t(i)].Observe(stage_ms[i] / 1e3);
  std::lock_guard<std::mutex> lock(mu_);
  ++finish_reasons_[std::string(finish_reason)];
  prompt_tokens_ += uint64_t(s.prompt_tokens);
  generation_tokens_ += uint64_t(s.completion_tokens);
}

void ServerMetrics::CountRequest(int http_status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_by_status_[http_status];
}

std::string ServerMetrics::Render(const engine::EngineStats& st) const {
  std::string o;
  auto gauge = [&](const char* name, const char* help, double v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, Fmt(v));
  };
  auto counter = [&](const char* name, const char* help, double v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, Fmt(v));
  };
  gauge("ocular_requests_running", "Requests prefilling or decoding.", double(st.running));
  gauge("ocular_requests_waiting", "Requests in the admission queue.", double(st.waiting));
  gauge("ocular_kv_blocks_used", "KV cache blocks in use.", double(st.kv_blocks_used));
  gauge("ocular_kv_blocks_total", "KV cache blocks in the pool.", double(st.kv_blocks_total));
  gauge("ocular_kv_capacity_tokens", "KV cache capacity in tokens.", double(st.kv_capacity_tokens));
  gauge("ocular_http_streams_open", "Open streaming responses.", double(streams_open.load()));
  gauge("ocular_feature_cache_bytes", "Bytes held by the vision feature cache.", double(st.feature_cache.bytes));
  counter("ocular_prefix_cache_hit_tokens_total", "Prompt tokens served from the prefix cache.",
          double(st.prefix_cache_hit_tokens));
  counter("ocular_preemptions_total", "Requests preempted under KV pressure.", double(st.preemptions));
  counter("ocular_engine_steps_total", "Engine steps (one forward pass each, or encoder work only).",
          double(st.steps));
  // Slow decode steps are what streaming clients see as stalls: a step carrying decode tokens
  // that took over 1.5x the average decode-only step (a large prefill chunk or encoder slot).
  counter("ocular_engine_decode_steps_total", "Engine steps that carried decode tokens.",
          double(st.decode_steps));
  counter("ocular_engine_slow_decode_steps_total",
          "Decode steps longer than 1.5x the average decode-only step.", double(st.slow_decode_steps));
  gauge("ocular_vision_encodes_in_flight", "Media items whose vision encode is in progress.",
        double(st.encoding));
  gauge("ocular_vision_encoder_state_bytes", "Memory held by partial vision encodes.",
        double(st.encoder_state_bytes));
  gauge("ocular_vision_encode_waiters",
        "Media items of requests waiting on an in-flight vision encode (shared encodes count "
        "each waiter).",
        double(st.encode_waiters));
  counter("ocular_vision_encodes_started_total",
          "Vision encode jobs begun (one per media item, shared by every request that needs it).",
          double(st.encodes_started));
  counter("ocular_vision_encodes_finished_total", "Vision encode jobs completed.",
          double(st.encodes_finished));
  o += "# HELP ocular_feature_cache_hits_total Vision feature cache hits.\n"
       "# TYPE ocular_feature_cache_hits_total counter\n";
  o += fmt::format("ocular_feature_cache_hits_total{{kind=\"exact\"}} {}\n", st.feature_cache.hits);
  o += fmt::format("ocular_feature_cache_hits_total{{kind=\"similar\"}} {}\n", st.feature_cache.near_hits);
  o += fmt::format("ocular_feature_cache_hits_total{{kind=\"shared\"}} {}\n", st.feature_cache.shared_hits);
  counter("ocular_feature_cache_misses_total", "Vision feature cache misses.", double(st.feature_cache.misses));
  // References held by requests (queued or running): back to 0 once every request has ended or
  // was cancelled, the check that nothing leaks when clients disconnect.
  gauge("ocular_feature_cache_leased_entries", "Vision feature cache entries referenced by requests.",
        double(st.feature_cache.leased_entries));
  gauge("ocular_feature_cache_entries", "Entries held by the vision feature cache.",
        double(st.feature_cache.entries));
  counter("ocular_feature_cache_evictions_total", "Vision feature cache entries evicted for space.",
          double(st.feature_cache.evictions));
  counter("ocular_feature_cache_encode_seconds_saved_total",
          "Vision encoder time that feature cache hits did not spend (the hit entries' encode time).",
          double(st.feature_cache.encode_ns_saved) * 1e-9);
  if (st.shared_feature_tier.enabled) {  // --feature-cache-redis
    const features::SharedTierStats& sh = st.shared_feature_tier;
    counter("ocular_feature_cache_shared_hits_total", "Shared tier (Redis) reads that returned an entry.",
            double(sh.hits));
    counter("ocular_feature_cache_shared_misses_total",
            "Shared tier reads with nothing usable (absent, corrupt, or Redis unavailable).", double(sh.misses));
    counter("ocular_feature_cache_shared_errors_total",
            "Shared tier connection/command failures and timeouts (each starts a local-only back-off).",
            double(sh.errors));
    counter("ocular_feature_cache_shared_writes_total", "Entries written to the shared tier.", double(sh.writes));
    counter("ocular_feature_cache_shared_dropped_total",
            "Entries not written to the shared tier (queue full, too large, or Redis unavailable).",
            double(sh.dropped));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    counter("ocular_prompt_tokens_total", "Prompt tokens of finished requests.", double(prompt_tokens_));
    counter("ocular_generation_tokens_total", "Generated tokens of finished requests.", double(generation_tokens_));
    o += "# HELP ocular_requests_total HTTP inference responses by status.\n# TYPE ocular_requests_total counter\n";
    for (const auto& [code, n] : requests_by_status_) {
      o += fmt::format("ocular_requests_total{{status=\"{}\"}} {}\n", code, n);
    }
    o += "# HELP ocular_finished_total Finished engine requests by finish reason.\n# TYPE ocular_finished_total counter\n";
    for (const auto& [reason, n] : finish_reasons_) {
      o += fmt::format("ocular_finished_total{{reason=\"{}\"}} {}\n", reason, n);
    }
  }
  auto hist = [&](const char* name, const char* help, const Histogram& h) {
    o += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    h.Render(name, "", o);
  };
  hist("ocular_time_to_first_token_seconds", "Submit to first token.", ttft_);
  hist("ocular_inter_token_latency_seconds", "Time between streamed token deltas.", itl_);
  hist("ocular_e2e_request_latency_seconds", "Submit to finish.", e2e_);
  hist("ocular_queue_time_seconds", "Submit to admission.", queue_);
  o += "# HELP ocular_stage_seconds Time per request stage.\n# TYPE ocular_stage_seconds histogram\n";
  for (int i = 0; i < 5; ++i) {
    stages_[size_t(i)].Render("ocular_stage_seconds", fmt::format("stage=\"{}\"", kStageNames[i]), o);
  }
  return o;
}

}  // namespace ocular::server
