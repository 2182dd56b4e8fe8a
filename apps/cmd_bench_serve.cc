// `ocular bench serve`: a load generator for any OpenAI-compatible chat server (Ocular,
// llama-server, vLLM). Streams every request and reports time to first token, time per
// output token, inter-token latency and end-to-end latency (p50/p90/p99), request and token
// throughput, goodput under an SLO, the server's stage timings and cache results where it
// reports them (Ocular's usage.timings / usage.media), and text-only probe requests that
// measure how much the main load (e.g. images) delays everyone else.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "base/base64.h"
#include "base/clock.h"

namespace ocular::cli {
namespace {

using nlohmann::json;

struct BenchServeOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string api_key;
  std::string model;
  std::string workload = "text";
  int concurrency = 0;
  double rate = 0;          // requests/s (Poisson when burstiness == 1)
  double burstiness = 1.0;  // gamma shape of inter-arrival times
  int num_requests = 16;
  int input_tokens = 128;
  int output_tokens = 64;
  std::string image_size = "448x448";
  double repeat_ratio = 0.5;  // repeat-image: share of requests reusing an earlier image
  double probe_rate = 0;      // text probes per second while the load runs
  int turns = 4;              // multi-turn-image: turns per conversation
  std::string video_file;     // video: an mp4/mkv/webm file sent as a data URL
  std::string slo;            // "ttft:MS,tpot:MS"
  int warmup = 1;
  uint32_t seed = 1;
  double timeout_s = 600;
  bool json = false;
};

// --- Payloads ---------------------------------------------------------------------------


void PngChunk(std::string& out, const char* type, const std::string& data) {
  auto be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out += char((v >> s) & 0xff);
  };
  be32(static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.append(type, 4);
  out += data;
  be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(out.data() + start),
                                   static_cast<uInt>(out.size() - start))));
}

// An RGB PNG (PNG spec: signature, IHDR, zlib IDAT of filter-0 rows, IEND): smooth gradients
// and blocks that depend on `seed`, so every seed gives a different image.
std::string MakePng(int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  const int bx = 1 + int(rng() % 7), by = 1 + int(rng() % 5), phase = int(rng() % 256);
  std::string raw;
  raw.reserve(size_t(h) * (1 + 3 * size_t(w)));
  for (int y = 0; y < h; ++y) {
    raw += char(0);
    for (int x = 0; x < w; ++x) {
      const bool block = ((x * bx / std::max(1, w / 8)) + (y * by / std::max(1, h / 8))) % 2;
      raw += char((x * 255 / std::max(1, w - 1) + phase) & 0xff);
      raw += char((y * 255 / std::max(1, h - 1)) & 0xff);
      raw += char(block ? (seed * 37) & 0xff : 255 - ((seed * 91) & 0xff));
    }
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 6);
  z.resize(zlen);
  std::string ihdr;
  for (uint32_t v : {uint32_t(w), uint32_t(h)}) {
    for (int s = 24; s >= 0; s -= 8) ihdr += char((v >> s) & 0xff);
  }
  ihdr += {char(8), char(2), char(0), char(0), char(0)};  // 8-bit RGB, deflate, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  PngChunk(png, "IHDR", ihdr);
  PngChunk(png, "IDAT", z);
  PngChunk(png, "IEND", "");
  return png;
}

// About `n` tokens of text (common words are one token in BPE vocabularies), unique per seed.
std::string MakeText(int n, uint32_t seed) {
  static const char* kWords[] = {"the", "cat", "sat", "on", "a", "red", "mat", "and", "looked",
                                 "at", "blue", "sky", "while", "birds", "sang", "in", "green",
                                 "trees", "near", "old", "house", "by", "river", "under", "sun"};
  std::mt19937 rng(seed);
  std::string s = "Request " + std::to_string(seed) + ":";
  for (int i = 0; i < n; ++i) {
    s += ' ';
    s += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
  }
  return s;
}

// --- Requests ---------------------------------------------------------------------------

enum class Kind { kText, kImage, kVideo, kProbe };
const char* KindName(Kind k) {
  switch (k) {
    case Kind::kText: return "text";
    case Kind::kImage: return "image";
    case Kind::kVideo: return "video";
    case Kind::kProbe: return "probe";
  }
  return "text";
}

struct Outcome {
  Kind kind = Kind::kText;
  bool ok = false;
  std::string error;
  double ttft_ms = 0, e2e_ms = 0;
  std::vector<double> itl_ms;  // gaps between content chunks
  int64_t sent_ns = 0;         // when the request was sent (NowNs clock)
  std::vector<int64_t> chunk_ns;  // arrival of each content chunk (NowNs clock)
  int64_t output_tokens = 0;
  json usage;  // the server's usage object when it sent one
};

struct Target {
  std::string scheme_host_port;
  std::string path = "/v1/chat/completions";
};

Target ParseUrl(const std::string& url) {
  Target t;
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  t.scheme_host_port = path == std::string::npos ? url : url.substr(0, path);
  if (path != std::string::npos && url.substr(path) != "/") {
    std::string p = url.substr(path);
    if (p.back() == '/') p.pop_back();
    // Accept a base URL (…/v1) or the full endpoint.
    t.path = p.find("/chat/completions") != std::string::npos ? p : p + "/chat/completions";
    if (p == "/v1" || p.find("/v1") == std::string::npos) t.path = p + "/v1/chat/completions";
    if (p.size() >= 3 && p.compare(p.size() - 3, 3, "/v1") == 0) t.path = p + "/chat/completions";
  }
  return t;
}

// Streams one chat completion and times its content chunks.
Outcome RunOne(const BenchServeOptions& o, const Target& target, const json& body, Kind kind) {
  Outcome out;
  out.kind = kind;
  httplib::Client cli(target.scheme_host_port);
  cli.set_read_timeout(static_cast<time_t>(o.timeout_s), 0);
  cli.set_write_timeout(static_cast<time_t>(o.timeout_s), 0);
  cli.set_connection_timeout(10, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = target.path;
  req.headers.emplace("Content-Type", "application/json");
  req.headers.emplace("Accept", "text/event-stream");
  if (!o.api_key.empty()) req.headers.emplace("Authorization", "Bearer " + o.api_key);
  req.body = body.dump();
  const int64_t t0 = NowNs();
  out.sent_ns = t0;
  int64_t last = 0;
  std::string buf;
  int64_t chunks = 0;
  bool done = false;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    buf.append(data, len);
    for (size_t end; (end = buf.find("\n\n")) != std::string::npos;) {
      std::string ev = buf.substr(0, end);
      buf.erase(0, end + 2);
      if (ev.rfind("data: ", 0) != 0) continue;  // comments (keep-alive) and other fields
      std::string payload = ev.substr(6);
      if (payload == "[DONE]") {
        done = true;
        continue;
      }
      json j = json::parse(payload, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) out.usage = j["usage"];
      if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) continue;
      const json& delta = j["choices"][0].value("delta", json::object());
      std::string text = delta.value("content", std::string());
      if (text.empty()) text = delta.value("reasoning_content", std::string());
      if (text.empty()) continue;
      const int64_t now = NowNs();
      if (chunks == 0) {
        out.ttft_ms = double(now - t0) * 1e-6;
      } else {
        out.itl_ms.push_back(double(now - last) * 1e-6);
      }
      last = now;
      out.chunk_ns.push_back(now);
      ++chunks;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent = cli.send(req, res, err);
  out.e2e_ms = double(NowNs() - t0) * 1e-6;
  if (!sent) {
    out.error = "connection failed (" + httplib::to_string(err) + ")";
    return out;
  }
  if (res.status != 200) {
    out.error = "HTTP " + std::to_string(res.status);
    return out;
  }
  if (chunks == 0) {
    out.error = "no content streamed";
    return out;
  }
  out.ok = done || chunks > 0;
  out.output_tokens = out.usage.is_object() && out.usage.contains("completion_tokens")
                          ? out.usage["completion_tokens"].get<int64_t>()
                          : chunks;
  return out;
}

// --- Statistics -------------------------------------------------------------------------

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * double(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

json Summary(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean = v.empty() ? 0 : mean / double(v.size());
  return {{"p50", Percentile(v, 50)}, {"p90", Percentile(v, 90)}, {"p99", Percentile(v, 99)},
          {"mean", mean}, {"count", v.size()}};
}

double Tpot(const Outcome& r) {
  return r.output_tokens > 1 ? (r.e2e_ms - r.ttft_ms) / double(r.output_tokens - 1) : 0.0;
}

struct Slo {
  double ttft_ms = -1, tpot_ms = -1;
};

Result<Slo> ParseSlo(const std::string& s) {
  Slo slo;
  if (s.empty()) return slo;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');) {
    size_t c = part.find(':');
    if (c == std::string::npos) return InvalidArgument("--slo: expected ttft:MS,tpot:MS");
    const std::string key = part.substr(0, c);
    double v = 0;
    try {
      v = std::stod(part.substr(c + 1));
    } catch (...) {
      return InvalidArgument("--slo: " + key + " needs a number of milliseconds");
    }
    if (key == "ttft") {
      slo.ttft_ms = v;
    } else if (key == "tpot") {
      slo.tpot_ms = v;
    } else {
      return InvalidArgument("--slo: unknown key " + key + " (ttft, tpot)");
    }
  }
  return slo;
}

// Server-reported stage timings and cache results (Ocular: usage.timings, usage.media,
// usage.prompt_tokens_details.cached_tokens); absent fields are skipped.
json ServerSummary(const std::vector<Outcome>& rs) {
  std::map<std::string, std::vector<double>> timings;
  int64_t reported = 0, cached_tokens = 0, prompt_tokens = 0;
  std::map<std::string, int64_t> media;
  for (const Outcome& r : rs) {
    if (!r.ok || !r.usage.is_object()) continue;
    ++reported;
    prompt_tokens += r.usage.value("prompt_tokens", int64_t{0});
    if (r.usage.contains("prompt_tokens_details") && r.usage["prompt_tokens_details"].is_object()) {
      cached_tokens += r.usage["prompt_tokens_details"].value("cached_tokens", int64_t{0});
    }
    if (r.usage.contains("timings") && r.usage["timings"].is_object()) {
      for (auto& [k, v] : r.usage["timings"].items()) {
        if (v.is_number()) timings[k].push_back(v.get<double>());
      }
    }
    if (r.usage.contains("media") && r.usage["media"].is_array()) {
      for (const json& m : r.usage["media"]) {
        std::string c = m.value("cache", std::string("unknown"));
        if (m.value("prefix", false)) c = "prefix";
        ++media[c];
      }
    }
  }
  json t = json::object();
  for (auto& [k, v] : timings) t[k] = Summary(v);
  return {{"requests_with_usage", reported}, {"prompt_tokens", prompt_tokens},
          {"cached_prompt_tokens", cached_tokens}, {"timings_ms", t}, {"media_cache", media}};
}

json GroupSummary(const std::vector<Outcome>& rs) {
  std::vector<double> ttft, tpot, itl, e2e;
  int64_t tokens = 0, ok = 0;
  for (const Outcome& r : rs) {
    if (!r.ok) continue;
    ++ok;
    ttft.push_back(r.ttft_ms);
    e2e.push_back(r.e2e_ms);
    if (r.output_tokens > 1) tpot.push_back(Tpot(r));
    itl.insert(itl.end(), r.itl_ms.begin(), r.itl_ms.end());
    tokens += r.output_tokens;
  }
  return {{"completed", ok}, {"output_tokens", tokens}, {"ttft_ms", Summary(ttft)},
          {"tpot_ms", Summary(tpot)}, {"itl_ms", Summary(itl)}, {"e2e_ms", Summary(e2e)}};
}

// Inter-token latency of text streams split by whether the gap overlaps the admission of a
// media request (sent -> first token: its encode and prefill), the figure that shows what
// an image costs the others; the gaps outside those windows are the same run's baseline.
json MediaWindowSummary(const std::vector<Outcome>& rs) {
  std::vector<std::pair<int64_t, int64_t>> windows;
  for (const Outcome& r : rs) {
    if ((r.kind == Kind::kImage || r.kind == Kind::kVideo) && r.ok && !r.chunk_ns.empty()) {
      windows.emplace_back(r.sent_ns, r.chunk_ns.front());
    }
  }
  std::vector<double> during, outside;
  for (const Outcome& r : rs) {
    if (r.kind != Kind::kText || !r.ok) continue;
    for (size_t i = 1; i < r.chunk_ns.size(); ++i) {
      const int64_t a = r.chunk_ns[i - 1], b = r.chunk_ns[i];
      const bool overlaps = std::any_of(windows.begin(), windows.end(),
                                        [&](const auto& w) { return a < w.second && b > w.first; });
      (overlaps ? during : outside).push_back(double(b - a) * 1e-6);
    }
  }
  json j = {{"media_requests", windows.size()},
            {"itl_during_media_admission_ms", Summary(during)},
            {"itl_outside_media_admission_ms", Summary(outside)}};
  if (!during.empty() && !outside.empty()) {
    j["p99_during_over_p50_outside"] = Percentile(during, 99) / Percentile(outside, 50);
    j["p99_during_over_p50_during"] = Percentile(during, 99) / Percentile(during, 50);
  }
  return j;
}

// --- The run ----------------------------------------------------------------------------

struct Plan {
  std::vector<json> bodies;  // main load, in submission order
  std::vector<Kind> kinds;
  std::vector<int> conversation;  // multi-turn: conversation id per request (-1: none)
};

json UserMessage(const std::string& text, const std::string& media_url, Kind kind) {
  json content = json::array();
  if (kind == Kind::kImage) {
    content.push_back({{"type", "image_url"}, {"image_url", {{"url", media_url}}}});
  } else if (kind == Kind::kVideo) {
    content.push_back({{"type", "video_url"}, {"video_url", {{"url", media_url}}}});
  }
  content.push_back({{"type", "text"}, {"text", text}});
  return {{"role", "user"}, {"content", content}};
}

json Body(const BenchServeOptions& o, json messages, int max_tokens) {
  json b = {{"messages", std::move(messages)},
            {"max_tokens", max_tokens},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}},
            {"temperature", 0},
            {"ignore_eos", true}};  // fixed output lengths where the server allows it
  if (!o.model.empty()) b["model"] = o.model;
  return b;
}

Result<Plan> MakePlan(const BenchServeOptions& o, int w, int h) {
  Plan p;
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<double> u(0, 1);
  auto image_url = [&](uint32_t id) { return "data:image/png;base64," + Base64Encode(MakePng(w, h, id)); };
  std::string video_url;
  if (o.workload == "video") {
    std::ifstream f(o.video_file, std::ios::binary);
    if (o.video_file.empty() || !f) return InvalidArgument("--workload video needs --video-file");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string mime = o.video_file.ends_with(".webm")  ? "video/webm"
                       : o.video_file.ends_with(".mkv") ? "video/x-matroska"
                                                        : "video/mp4";
    video_url = "data:" + mime + ";base64," + Base64Encode(ss.str());
  }
  std::vector<uint32_t> seen_images;
  for (int i = 0; i < o.num_requests; ++i) {
    const uint32_t id = o.seed * 100003u + uint32_t(i);
    const std::string text = MakeText(o.input_tokens, id);
    Kind kind = Kind::kText;
    std::string url;
    json messages;
    if (o.workload == "text") {
      messages = json::array({UserMessage(text, "", kind)});
    } else if (o.workload == "image" || o.workload == "repeat-image") {
      kind = Kind::kImage;
      uint32_t img = id;
      if (o.workload == "repeat-image" && !seen_images.empty() && u(rng) < o.repeat_ratio) {
        img = seen_images[rng() % seen_images.size()];
      } else {
        seen_images.push_back(img);
      }
      messages = json::array({UserMessage(text, image_url(img), kind)});
    } else if (o.workload == "multi-turn-image") {
      // Conversation c, turn t: the same image in the first message, earlier turns replayed
      // (prefix caching should reuse all of it).
      kind = Kind::kImage;
      const int c = i / std::max(1, o.turns), t = i % std::max(1, o.turns);
      messages = json::array({UserMessage(MakeText(o.input_tokens, o.seed * 7919u + c),
                                          image_url(o.seed * 7919u + c), kind)});
      for (int k = 0; k < t; ++k) {
        messages.push_back({{"role", "assistant"}, {"content", MakeText(o.output_tokens, 1000u + k)}});
        messages.push_back({{"role", "user"}, {"content", MakeText(16, 2000u + c * 64 + k)}});
      }
      p.conversation.push_back(c);
    } else if (o.workload == "video") {
      kind = Kind::kVideo;
      messages = json::array({UserMessage(text, video_url, kind)});
    } else if (o.workload == "mixed") {
      // Mostly text streams with an image request every fourth: what an image costs the
      // others shows in by_kind.text.itl_ms.
      kind = i % 4 == 3 ? Kind::kImage : Kind::kText;
      messages = json::array({UserMessage(text, kind == Kind::kImage ? image_url(id) : "", kind)});
    } else {
      return InvalidArgument("unknown --workload " + o.workload);
    }
    if (p.conversation.size() < p.bodies.size() + 1) p.conversation.push_back(-1);
    p.bodies.push_back(Body(o, std::move(messages), o.output_tokens));
    p.kinds.push_back(kind);
  }
  return p;
}

int RunBenchServe(const BenchServeOptions& o) {
  auto slo = ParseSlo(o.slo);
  if (!slo.ok()) return Fail("bench serve", slo.status());
  int w = 0, h = 0;
  if (std::sscanf(o.image_size.c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1 || w > 8192 ||
      h > 8192) {
    return Fail("bench serve", "--image-size must be WxH");
  }
  if (o.concurrency > 0 && o.rate > 0) return Fail("bench serve", "use --concurrency or --rate, not both");
  auto plan_or = MakePlan(o, w, h);
  if (!plan_or.ok()) return Fail("bench serve", plan_or.status());
  const Plan& plan = *plan_or;
  const Target target = ParseUrl(o.url);

  // Warm-up requests (not counted): first-use costs stay out of the figures.
  for (int i = 0; i < o.warmup; ++i) {
    Outcome r = RunOne(o, target, Body(o, json::array({UserMessage(MakeText(16, 7u + i), "", Kind::kText)}), 4),
                       Kind::kText);
    if (!r.ok) return Fail("bench serve", "warm-up request failed: " + r.error);
  }

  std::vector<Outcome> results(plan.bodies.size());
  std::mutex mu;
  std::vector<Outcome> probes;
  std::atomic<bool> load_done{false};
  const int64_t start = NowNs();

  std::thread probe_thread;
  std::vector<std::thread> probe_workers;
  if (o.probe_rate > 0) {
    probe_thread = std::thread([&] {
      std::mt19937 rng(o.seed + 17);
      std::exponential_distribution<double> gap(o.probe_rate);
      for (uint32_t n = 0; !load_done.load(); ++n) {
        const double s = gap(rng);
        const int64_t until = NowNs() + static_cast<int64_t>(s * 1e9);
        while (!load_done.load() && NowNs() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (load_done.load()) break;
        json body = Body(o, json::array({UserMessage(MakeText(16, 500000u + n), "", Kind::kText)}),
                         o.output_tokens);
        std::lock_guard<std::mutex> lock(mu);
        probe_workers.emplace_back([&, body] {
          Outcome r = RunOne(o, target, body, Kind::kProbe);
          std::lock_guard<std::mutex> l(mu);
          probes.push_back(std::move(r));
        });
      }
    });
  }

  if (o.rate > 0) {
    // Open loop: gamma inter-arrival times (shape = burstiness, mean = 1/rate).
    std::mt19937 rng(o.seed + 1);
    std::gamma_distribution<double> gap(o.burstiness, 1.0 / (o.rate * o.burstiness));
    std::vector<std::thread> threads;
    double t = 0;
    for (size_t i = 0; i < plan.bodies.size(); ++i) {
      const int64_t at = start + static_cast<int64_t>(t * 1e9);
      while (NowNs() < at) std::this_thread::sleep_for(std::chrono::microseconds(500));
      threads.emplace_back([&, i] { results[i] = RunOne(o, target, plan.bodies[i], plan.kinds[i]); });
      t += gap(rng);
    }
    for (auto& th : threads) th.join();
  } else {
    // Closed loop: `concurrency` users; a multi-turn conversation stays with one user, turn
    // after turn.
    const int users = std::max(1, o.concurrency);
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    for (int u = 0; u < users; ++u) {
      threads.emplace_back([&] {
        for (;;) {
          size_t i = next.fetch_add(1);
          if (i >= plan.bodies.size()) return;
          const int conv = plan.conversation[i];
          results[i] = RunOne(o, target, plan.bodies[i], plan.kinds[i]);
          // Later turns of the same conversation run on this user, in order.
          while (conv >= 0) {
            size_t j = next.load();
            if (j >= plan.bodies.size() || plan.conversation[j] != conv) break;
            if (!next.compare_exchange_strong(j, j + 1)) continue;
            results[j] = RunOne(o, target, plan.bodies[j], plan.kinds[j]);
          }
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const double duration_s = double(NowNs() - start) * 1e-9;
  load_done.store(true);
  if (probe_thread.joinable()) probe_thread.join();
  {
    std::vector<std::thread> pw;
    {
      std::lock_guard<std::mutex> lock(mu);
      pw.swap(probe_workers);
    }
    for (auto& th : pw) th.join();
  }

  // Figures.
  int64_t failed = 0, tokens = 0, good = 0;
  std::map<std::string, std::vector<Outcome>> by_kind;
  std::map<std::string, int64_t> errors;
  for (const Outcome& r : results) {
    by_kind[KindName(r.kind)].push_back(r);
    if (!r.ok) {
      ++failed;
      ++errors[r.error];
      continue;
    }
    tokens += r.output_tokens;
    const bool ttft_ok = slo->ttft_ms < 0 || r.ttft_ms <= slo->ttft_ms;
    const bool tpot_ok = slo->tpot_ms < 0 || Tpot(r) <= slo->tpot_ms;
    if (ttft_ok && tpot_ok) ++good;
  }
  const int64_t completed = int64_t(results.size()) - failed;
  json j = GroupSummary(results);
  j["workload"] = o.workload;
  j["url"] = o.url;
  j["mode"] = o.rate > 0 ? "rate" : "concurrency";
  j["concurrency"] = o.rate > 0 ? 0 : std::max(1, o.concurrency);
  j["rate"] = o.rate;
  j["burstiness"] = o.burstiness;
  j["num_requests"] = results.size();
  j["failed"] = failed;
  j["errors"] = errors;
  j["input_tokens"] = o.input_tokens;
  j["output_tokens_per_request"] = o.output_tokens;
  if (o.workload != "text") j["image_size"] = o.image_size;
  j["duration_s"] = duration_s;
  j["request_throughput"] = double(completed) / duration_s;
  j["output_throughput"] = double(tokens) / duration_s;  // output tokens/s, all streams
  json goodput = {{"requests", good}, {"requests_per_s", double(good) / duration_s},
                  {"fraction", results.empty() ? 0.0 : double(good) / double(results.size())}};
  if (slo->ttft_ms >= 0) goodput["slo_ttft_ms"] = slo->ttft_ms;
  if (slo->tpot_ms >= 0) goodput["slo_tpot_ms"] = slo->tpot_ms;
  j["goodput"] = goodput;
  json kinds = json::object();
  for (auto& [k, v] : by_kind) kinds[k] = GroupSummary(v);
  j["by_kind"] = kinds;
  j["server"] = ServerSummary(results);
  const bool media_load = std::any_of(results.begin(), results.end(), [](const Outcome& r) {
    return r.kind == Kind::kImage || r.kind == Kind::kVideo;
  });
  const bool text_load = std::any_of(results.begin(), results.end(),
                                     [](const Outcome& r) { return r.kind == Kind::kText; });
  if (media_load && text_load) j["text_itl_vs_media"] = MediaWindowSummary(results);
  if (o.probe_rate > 0) {
    json p = GroupSummary(probes);
    p["sent"] = probes.size();
    p["rate"] = o.probe_rate;
    j["probe"] = p;
  }

  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    auto line = [](const char* name, const json& s) {
      std::printf("  %-6s p50 %9.1f  p90 %9.1f  p99 %9.1f  mean %9.1f  (n=%lld)\n", name,
                  s["p50"].get<double>(), s["p90"].get<double>(), s["p99"].get<double>(),
                  s["mean"].get<double>(), static_cast<long long>(s["count"].get<int64_t>()));
    };
    std::printf("workload %s, %zu requests (%lld failed) in %.2f s\n", o.workload.c_str(),
                results.size(), static_cast<long long>(failed), duration_s);
    std::printf("throughput: %.3f req/s, %.2f output tok/s; goodput %.3f req/s (%.0f%%)\n",
                j["request_throughput"].get<double>(), j["output_throughput"].get<double>(),
                goodput["requests_per_s"].get<double>(), 100 * goodput["fraction"].get<double>());
    std::printf("latency (ms):\n");
    line("ttft", j["ttft_ms"]);
    line("tpot", j["tpot_ms"]);
    line("itl", j["itl_ms"]);
    line("e2e", j["e2e_ms"]);
    for (auto& [k, v] : kinds.items()) {
      if (kinds.size() > 1) line((k + " itl").c_str(), v["itl_ms"]);
    }
    if (j.contains("text_itl_vs_media")) {
      const json& m = j["text_itl_vs_media"];
      std::printf("text streams' inter-token latency while media requests are admitted (sent ->"
                  " first token) and outside those windows:\n");
      line("during", m["itl_during_media_admission_ms"]);
      line("outside", m["itl_outside_media_admission_ms"]);
    }
    if (j.contains("probe")) {
      std::printf("probes (%zu):\n", probes.size());
      line("ttft", j["probe"]["ttft_ms"]);
      line("itl", j["probe"]["itl_ms"]);
    }
    for (auto& [e, n] : errors) std::printf("error x%lld: %s\n", static_cast<long long>(n), e.c_str());
  }
  return completed > 0 ? kExitOk : kExitError;
}

}  // namespace

void RegisterBenchServe(CLI::App& root, int& exit_code) {
  CLI::App* bench = root.get_subcommand("bench");
  auto o = std::make_shared<BenchServeOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "serve", "Load-test an OpenAI-compatible server: TTFT, TPOT, ITL, throughput, goodput");
  cmd->add_option("--url", o->url, "Server base URL (…/v1 or the host)")->capture_default_str();
  cmd->add_option("--api-key", o->api_key, "Bearer token");
  cmd->add_option("--model", o->model, "Model name to send (default: none)");
  cmd->add_option("--workload", o->workload, "text, image, repeat-image, multi-turn-image, video, mixed")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "image", "repeat-image", "multi-turn-image", "video", "mixed"}));
  cmd->add_option("--concurrency", o->concurrency, "Closed loop: users sending one request at a time");
  cmd->add_option("--rate", o->rate, "Open loop: requests per second")->check(CLI::PositiveNumber);
  cmd->add_option("--burstiness", o->burstiness, "Gamma shape of arrivals (1: Poisson)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--num-requests", o->num_requests, "Requests in the main load")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--input-tokens", o->input_tokens, "Text tokens per prompt (about)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--output-tokens", o->output_tokens, "Generated tokens per request (EOS ignored)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--image-size", o->image_size, "Generated PNG images, WxH")->capture_default_str();
  cmd->add_option("--repeat-ratio", o->repeat_ratio, "repeat-image: share of repeated images")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--turns", o->turns, "multi-turn-image: turns per conversation")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--video-file", o->video_file, "video: an mp4/mkv/webm file to send");
  cmd->add_option("--probe-rate", o->probe_rate, "Text probe requests per second during the load")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--slo", o->slo, "Goodput SLO, e.g. ttft:2000,tpot:100 (ms)");
  cmd->add_option("--warmup", o->warmup, "Uncounted warm-up requests")->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--seed", o->seed, "Payload seed")->capture_default_str();
  cmd->add_option("--timeout", o->timeout_s, "Per-request timeout, s")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o, &exit_code] { exit_code = RunBenchServe(*o); });
}

}  // namespace ocular::cli
