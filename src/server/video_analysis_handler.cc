#include "server/video_analysis_handler.h"

#include <httplib.h>

#include <cmath>
#include <ctime>
#include <memory>
#include <random>

#include "analysis/windowed_analysis.h"
#include "base/clock.h"
#include "media/data_source.h"
#include "server/fetch.h"

namespace ocular::server {
namespace {

using nlohmann::json;

Status FieldError(const std::string& field, const std::string& what) {
  return InvalidArgument("video_analysis." + field + ": " + what);
}

int SendJsonError(httplib::Response& res, int http, const std::string& message, const std::string& param) {
  json e = {{"message", message},
            {"type", http >= 500 ? "server_error" : "invalid_request_error"},
            {"param", param.empty() ? json() : json(param)},
            {"code", json()}};
  res.status = http;
  res.set_content(json{{"error", e}}.dump(), "application/json");
  return http;
}

int SendStatus(httplib::Response& res, const Status& s) {
  if (s.code() == StatusCode::kInternal) return SendJsonError(res, 500, "internal error", "");
  if (s.code() == StatusCode::kResourceExhausted && s.message().find("queue") != std::string::npos) {
    return SendJsonError(res, 429, "server is busy: the request queue is full", "");
  }
  if (s.code() == StatusCode::kUnavailable) return SendJsonError(res, 503, "server is shutting down", "");
  return SendJsonError(res, 400, s.message(), ErrorParam(s));
}

Result<std::vector<uint8_t>> FetchVideo(const MediaRef& ref, const ModelContext& ctx) {
  const uint64_t cap = ctx.limits.max_video_bytes;
  std::string lower = ref.url.substr(0, 8);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  auto tagged = [&](const Status& s) { return Status(s.code(), ref.param + ": " + s.message()); };
  if (lower.rfind("data:", 0) == 0) {
    auto r = media::ParseDataUrl(ref.url, cap);
    if (!r.ok()) return tagged(r.status());
    return std::move(r->bytes);
  }
  if (lower.rfind("file:", 0) == 0) {
    if (!ctx.media_root) return PermissionDenied(ref.param + ": file URLs are disabled (no --media-root)");
    auto r = ctx.media_root->ReadFile(ref.url, cap);
    if (!r.ok()) return tagged(r.status());
    return std::move(*r);
  }
  if (lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0) {
    if (!ctx.fetcher) return PermissionDenied(ref.param + ": URL fetching is disabled");
    auto r = ctx.fetcher->Fetch(ref.url, cap, ctx.limits.video_fetch_timeout);
    if (!r.ok()) return tagged(r.status());
    return std::move(*r);
  }
  return InvalidArgument(ref.param + ": unsupported URL scheme (use data:, http(s): or file:)");
}

// The question (the user message's text parts) and the optional system message.
Status ExtractMessages(const ParsedChatRequest& parsed, std::string* system, std::string* question) {
  int users = 0;
  for (const auto& m : parsed.messages) {
    const std::string role = m.value("role", "");
    if (role == "system" && m["content"].is_string() && users == 0 && system->empty()) {
      *system = m["content"].get<std::string>();
    } else if (role == "user") {
      ++users;
      if (m["content"].is_string()) {
        *question = m["content"].get<std::string>();
        continue;
      }
      for (const auto& part : m["content"]) {
        if (part.value("type", "") == "text") {
          if (!question->empty()) *question += "\n";
          *question += part.value("text", "");
        }
      }
    } else {
      return InvalidArgument("messages: video_analysis takes a system message and one user message only");
    }
  }
  if (users != 1) return InvalidArgument("messages: video_analysis takes exactly one user message");
  if (question->empty()) return InvalidArgument("messages: video_analysis needs a question (a text part)");
  return OkStatus();
}

struct Shared {
  std::unique_ptr<analysis::VideoBytesSource> source;
  analysis::AnalysisRequest request;
  analysis::AnalysisContext ctx;
};

json WindowJson(const analysis::WindowResult& w) {
  return {{"index", w.index},
          {"start_s", w.start_s},
          {"end_s", w.end_s},
          {"text", w.text},
          {"finish_reason", std::string(engine::FinishReasonName(w.finish_reason))}};
}

json UsageOf(const analysis::AnalysisResult& r) {
  int64_t prompt = r.combine_stats.prompt_tokens, completion = r.combine_stats.completion_tokens;
  for (const auto& w : r.windows) {
    prompt += w.stats.prompt_tokens;
    completion += w.stats.completion_tokens;
  }
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

}  // namespace

bool WantsVideoAnalysis(const json& body) {
  auto it = body.find("video_analysis");
  return it != body.end() && !it->is_null();
}

Result<VideoAnalysisParams> ParseVideoAnalysis(const json& body, int64_t max_windows_limit) {
  VideoAnalysisParams p;
  auto it = body.find("video_analysis");
  if (it == body.end() || !it->is_object()) return InvalidArgument("video_analysis: must be an object");
  const json& v = *it;
  auto number = [&](const char* name, std::optional<double>* out) -> Status {
    auto f = v.find(name);
    if (f == v.end() || f->is_null()) return OkStatus();
    if (!f->is_number()) return FieldError(name, "must be a number");
    const double x = f->get<double>();
    if (!std::isfinite(x) || x <= 0 || x > 86'400) return FieldError(name, "must be in (0, 86400] seconds");
    *out = x;
    return OkStatus();
  };
  auto integer = [&](const char* name, std::optional<int64_t>* out, int64_t hi) -> Status {
    auto f = v.find(name);
    if (f == v.end() || f->is_null()) return OkStatus();
    if (!f->is_number_integer()) return FieldError(name, "must be an integer");
    const int64_t x = f->is_number_unsigned() ? int64_t(std::min<uint64_t>(f->get<uint64_t>(), uint64_t(hi) + 1))
                                              : f->get<int64_t>();
    if (x < 1 || x > hi) return FieldError(name, "must be in [1, " + std::to_string(hi) + "]");
    *out = x;
    return OkStatus();
  };
  RETURN_IF_ERROR(number("window_seconds", &p.window_seconds));
  RETURN_IF_ERROR(number("stride_seconds", &p.stride_seconds));
  RETURN_IF_ERROR(integer("window_frames", &p.window_frames, 4096));
  RETURN_IF_ERROR(integer("stride_frames", &p.stride_frames, 4096));
  std::optional<int64_t> max_windows;
  RETURN_IF_ERROR(integer("max_windows", &max_windows, max_windows_limit));
  if (max_windows) p.max_windows = *max_windows;
  p.max_windows = std::min(p.max_windows, max_windows_limit);
  if (p.window_seconds.has_value() == p.window_frames.has_value()) {
    return FieldError("window_seconds", "give exactly one of window_seconds and window_frames");
  }
  if (p.stride_seconds && p.stride_frames) {
    return FieldError("stride_seconds", "give at most one of stride_seconds and stride_frames");
  }
  if (!p.stride_seconds && !p.stride_frames) {  // default: windows end to end
    p.stride_seconds = p.window_seconds;
    p.stride_frames = p.window_frames;
  }
  if (auto f = v.find("combine_prompt"); f != v.end() && !f->is_null()) {
    if (!f->is_string()) return FieldError("combine_prompt", "must be a string");
    if (f->get_ref<const std::string&>().size() > 8192) return FieldError("combine_prompt", "too long");
    p.combine_prompt = f->get<std::string>();
  }
  return p;
}

int HandleVideoAnalysis(const json& body, const ParsedChatRequest& parsed, const VideoAnalysisEnv& env,
                        httplib::Response& res) {
  const ModelContext& mc = *env.model;
  auto params = ParseVideoAnalysis(body);
  if (!params.ok()) return SendStatus(res, params.status());
  int videos = 0, images = 0;
  for (const MediaRef& m : parsed.media) (m.kind == MediaRefKind::kVideo ? videos : images)++;
  if (videos != 1 || images != 0) {
    return SendJsonError(res, 400, "video_analysis: the request must hold exactly one video and no images",
                         "video_analysis");
  }
  if (parsed.n != 1) return SendJsonError(res, 400, "n: must be 1 with video_analysis", "n");
  auto shared = std::make_shared<Shared>();
  analysis::AnalysisRequest& req = shared->request;
  if (Status s = ExtractMessages(parsed, &req.system, &req.question); !s.ok()) return SendStatus(res, s);
  const MediaRef& ref = parsed.media.front();
  auto bytes = FetchVideo(ref, mc);
  if (!bytes.ok()) return SendStatus(res, bytes.status());
  media::VideoLimits vl;
  vl.max_input_bytes = mc.limits.max_video_bytes;
  auto src = analysis::VideoBytesSource::Create(std::move(*bytes), vl);
  if (!src.ok()) return SendStatus(res, Status(src.status().code(), ref.param + ": " + src.status().message()));
  shared->source = std::make_unique<analysis::VideoBytesSource>(std::move(*src));

  req.windows.window_seconds = params->window_seconds;
  req.windows.window_frames = params->window_frames;
  req.windows.stride_seconds = params->stride_seconds;
  req.windows.stride_frames = params->stride_frames;
  req.windows.max_windows = params->max_windows;
  req.combine_prompt = params->combine_prompt;
  req.min_pixels = mc.video_config.min_pixels;
  req.max_pixels = mc.video_config.max_pixels;
  if (ref.min_pixels) req.min_pixels = std::max(req.min_pixels, std::min(*ref.min_pixels, req.max_pixels));
  if (ref.max_pixels) req.max_pixels = std::max(req.min_pixels, std::min(*ref.max_pixels, req.max_pixels));
  std::random_device rd;
  req.base.sampling = sampling::ResolveSamplingParams(mc.generation_defaults, parsed.overrides,
                                                      (uint64_t(rd()) << 32) ^ rd());
  if (Status v = sampling::ValidateSamplingParams(req.base.sampling); !v.ok()) {
    return SendJsonError(res, 400, "sampling: " + v.message(), "");
  }
  req.base.max_tokens = parsed.max_tokens.value_or(std::min<int64_t>(mc.default_max_tokens, 512));
  req.base.stop_strings = parsed.stop;
  req.base.ignore_eos = parsed.ignore_eos;
  req.base.cache_salt = parsed.cache_salt;
  // Validate the plan now so window parameters fail with 400, not mid-stream.
  auto plan = analysis::PlanWindows(shared->source->info(), req.windows);
  if (!plan.ok()) return SendStatus(res, Status(plan.status().code(), "video_analysis." + plan.status().message()));
  shared->ctx.tokenizer = mc.tokenizer;
  shared->ctx.chat_template = mc.chat_template;
  shared->ctx.merge_size = mc.merge_size;
  shared->ctx.max_model_len = mc.max_model_len;
  shared->ctx.pool = mc.pool;

  const std::string id = "chatcmpl-va" + std::to_string(NowNs());
  const int64_t created = int64_t(std::time(nullptr));
  engine::Engine* engine = env.engine;
  const std::string model_name = env.model_name;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  const bool stream = parsed.stream;
  const bool include_usage = parsed.include_usage;
  std::shared_ptr<void> guard = env.guard;
  res.set_chunked_content_provider(
      stream ? "text/event-stream" : "application/json",
      [shared, engine, id, created, model_name, stream, include_usage](size_t, httplib::DataSink& sink) {
        bool gone = false;
        int64_t last_write = NowNs();
        auto write = [&](const std::string& s) {
          if (gone) return false;
          if (!sink.write(s.data(), s.size())) gone = true;
          last_write = NowNs();
          return !gone;
        };
        auto chunk = [&](json choices) {
          return json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created},
                      {"model", model_name}, {"choices", std::move(choices)}};
        };
        auto send = [&](const json& j) {
          return write("data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n");
        };
        bool role_sent = false;
        analysis::AnalysisCallbacks cb;
        cb.cancelled = [&] {
          // A keep-alive every second surfaces a dead client as a failed write.
          if (!gone && NowNs() - last_write > 1'000'000'000) write(stream ? ": keep-alive\n\n" : " ");
          return gone;
        };
        if (stream) {
          cb.on_window = [&](const analysis::WindowResult& w) {
            json j = chunk(json::array());
            j["x_ocular"] = {{"window", WindowJson(w)}};
            send(j);
          };
          cb.on_combine_text = [&](std::string_view t) {
            json delta = {{"content", std::string(t)}};
            if (!role_sent) delta["role"] = "assistant";
            role_sent = true;
            send(chunk(json::array({{{"index", 0}, {"delta", delta}, {"logprobs", json()}, {"finish_reason", json()}}})));
          };
        }
        auto r = analysis::RunWindowedAnalysis(*engine, shared->ctx, *shared->source, shared->request, cb);
        if (gone) return false;  // everything was cancelled on the way out
        if (!r.ok()) {
          json err = {{"message", r.status().code() == StatusCode::kInternal ? "generation failed" : r.status().message()},
                      {"type", "server_error"}};
          if (stream) {
            json j = chunk(json::array());
            j["error"] = err;
            send(j);
            write("data: [DONE]\n\n");
          } else {
            write(json{{"error", err}}.dump());
          }
          sink.done();
          return true;
        }
        const std::string reason(engine::FinishReasonName(r->finish_reason));
        json windows = json::array();
        for (const auto& w : r->windows) windows.push_back(WindowJson(w));
        json x = {{"windows", int64_t(r->windows.size())}, {"spread", r->spread},
                  {"first_window_ms", r->first_window_ms}, {"total_ms", r->total_ms}};
        if (stream) {
          json fin = chunk(json::array({{{"index", 0}, {"delta", json::object()}, {"logprobs", json()},
                                         {"finish_reason", reason}}}));
          fin["x_ocular"] = x;
          send(fin);
          if (include_usage) {
            json u = chunk(json::array());
            u["usage"] = UsageOf(*r);
            send(u);
          }
          write("data: [DONE]\n\n");
        } else {
          x["windows"] = windows;
          json out = {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", model_name},
                      {"choices", json::array({{{"index", 0},
                                                {"message", {{"role", "assistant"}, {"content", r->text}}},
                                                {"logprobs", json()},
                                                {"finish_reason", reason}}})},
                      {"usage", UsageOf(*r)},
                      {"x_ocular", x}};
          write(out.dump(-1, ' ', false, json::error_handler_t::replace));
        }
        if (gone) return false;
        sink.done();
        return true;
      },
      [shared, guard](bool) {});
  return 200;
}

}  // namespace ocular::server
