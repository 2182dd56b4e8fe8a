// `ocular run`: one chat request from the command line, through exactly the path the server
// uses (OpenAI-style messages -> server::BuildChatRequest -> engine), printing the answer or,
// with --json, the tokens, log-probabilities and stage timings.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "apps/run_windowed.h"
#include "base/clock.h"
#include "base/thread_pool.h"
#include "engine/engine.h"
#include "media/data_source.h"
#include "model/qwen3vl/model.h"
#include "model/qwen3vl/debug_dump.h"
#include "model/qwen3vl/sequence.h"
#include "model/tokenizer/load_tokenizer.h"
#include "server/chat_request.h"
#include "server/model_context.h"

namespace ocular::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct RunOptions {
  std::string model, mmproj, system, prompt, messages_file, dump_logits, dtype = "f32";
  std::vector<std::string> images;
  std::string video;
  int64_t max_tokens = 256;
  std::optional<double> temperature, top_p;
  std::optional<int> top_k, top_logprobs;
  std::optional<int64_t> seed, min_pixels, max_pixels;
  int threads = 0;
  bool json = false;
  bool ignore_eos = false;
  bool mmap_weights = false;  // text weights used in place from the file mapping
  std::string dump_dir;  // --dump-dir: intermediate states in the golden formats
  // Windowed long-video analysis (issue 9): any window flag switches to it.
  std::optional<double> window_seconds, stride_seconds;
  std::optional<int64_t> window_frames, stride_frames;
  int64_t max_windows = 64;
  std::string combine_prompt;
};

// Local paths become file:// URLs (served from a media root of "/": the CLI user may read
// their own files); URLs and data: URLs pass through.
std::string MediaUrl(const std::string& s) {
  if (s.rfind("data:", 0) == 0 || s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 ||
      s.rfind("file://", 0) == 0) {
    return s;
  }
  std::error_code ec;
  fs::path p = fs::absolute(s, ec);
  return "file://" + p.lexically_normal().string();
}

Result<json> BuildBody(const RunOptions& o) {
  json body;
  if (!o.messages_file.empty()) {
    std::ifstream in(o.messages_file);
    if (!in) return NotFound(o.messages_file + ": cannot read");
    json m = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (m.is_discarded()) return InvalidArgument(o.messages_file + ": not valid JSON");
    json msgs = m.is_array() ? m : (m.is_object() && m.contains("messages") ? m["messages"] : json());
    if (!msgs.is_array()) return InvalidArgument(o.messages_file + ": expected a list of messages");
    for (auto& msg : msgs) {
      if (!msg.is_object() || !msg.contains("content") || !msg["content"].is_array()) continue;
      for (auto& part : msg["content"]) {
        for (const char* key : {"image_url", "video_url"}) {
          if (part.is_object() && part.contains(key) && part[key].is_object() &&
              part[key].contains("url") && part[key]["url"].is_string()) {
            part[key]["url"] = MediaUrl(part[key]["url"].get<std::string>());
          }
        }
      }
    }
    body["messages"] = msgs;
  } else {
    if (o.prompt.empty() && o.images.empty() && o.video.empty()) {
      return InvalidArgument("give --prompt (with optional --image/--video) or --messages");
    }
    json msgs = json::array();
    if (!o.system.empty()) msgs.push_back({{"role", "system"}, {"content", o.system}});
    json content = json::array();
    for (const auto& img : o.images) {
      json part = {{"type", "image_url"}, {"image_url", {{"url", MediaUrl(img)}}}};
      if (o.min_pixels) part["min_pixels"] = *o.min_pixels;
      if (o.max_pixels) part["max_pixels"] = *o.max_pixels;
      content.push_back(part);
    }
    if (!o.video.empty()) {
      content.push_back({{"type", "video_url"}, {"video_url", {{"url", MediaUrl(o.video)}}}});
    }
    if (!o.prompt.empty()) content.push_back({{"type", "text"}, {"text", o.prompt}});
    msgs.push_back({{"role", "user"}, {"content", content}});
    body["messages"] = msgs;
  }
  body["max_tokens"] = o.max_tokens;
  if (o.temperature) body["temperature"] = *o.temperature;
  if (o.top_p) body["top_p"] = *o.top_p;
  if (o.top_k) body["top_k"] = *o.top_k;
  if (o.seed) body["seed"] = *o.seed;
  if (o.json || o.top_logprobs) {
    body["logprobs"] = true;
    body["top_logprobs"] = o.top_logprobs.value_or(0);
  }
  if (o.ignore_eos) body["ignore_eos"] = true;
  return body;
}

// Logits of the last prompt position, computed directly (not through the engine).
Status DumpLogits(qwen3vl::Qwen3VLModel& model, const engine::EngineRequest& r,
                  const std::string& path) {
  std::vector<qwen3vl::VisionInput> inputs;
  for (const auto& m : r.media) {
    inputs.push_back({m.pixel_values->data(), m.grid_thw[0], m.grid_thw[1], m.grid_thw[2]});
  }
  std::vector<qwen3vl::VisionOutput> media;
  if (!inputs.empty()) {
    ASSIGN_OR_RETURN(media, model.vision().Encode(inputs));
  }
  ASSIGN_OR_RETURN(auto splices, qwen3vl::BuildSplices(model.config(), r.prompt_ids, media));
  const int64_t n = static_cast<int64_t>(r.prompt_ids.size());
  qwen3vl::SequenceRunner seq(model, n + 1);
  std::vector<float> logits;
  RETURN_IF_ERROR(seq.Prefill(r.prompt_ids, r.positions.data(), r.positions.data() + n,
                              r.positions.data() + 2 * n, splices, &logits));
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(logits.data()),
            static_cast<std::streamsize>(logits.size() * sizeof(float)));
  if (!out) return InvalidArgument(path + ": cannot write");
  return OkStatus();
}

int RunCommand(const RunOptions& o) {
  const Stopwatch total;
  kernels::Precision precision;
  if (o.dtype == "f32") {
    precision = kernels::Precision::kF32;
  } else if (o.dtype == "bf16") {
    precision = kernels::Precision::kBf16;
  } else {
    return Fail("run", "--dtype must be f32 or bf16");
  }
  ThreadPool pool(o.threads);
  kernels::ComputeContext ctx(pool);
  const Stopwatch load;
  auto model = qwen3vl::Qwen3VLModel::Load(
      o.model, o.mmproj, ctx, precision, Placement(o.mmap_weights));
  if (!model.ok()) return Fail("run", model.status());
  auto tok = tokenizer::LoadTokenizer(o.model);
  if (!tok.ok()) return Fail("run", tok.status());
  auto tmpl = server::LoadModelChatTemplate(**model);
  if (!tmpl.ok()) return Fail("run", tmpl.status());
  const double load_ms = load.ElapsedMs();

  server::ModelContext mc;
  server::FillModelContext(**model, *tok, *tmpl, &mc);
  auto root = media::MediaRoot::Create("/");
  if (!root.ok()) return Fail("run", root.status());
  mc.media_root = &*root;
  mc.pool = &pool;
  mc.default_max_tokens = o.max_tokens;
  if (o.window_seconds || o.window_frames) {
    WindowedRunOptions w;
    w.video = o.video;
    w.prompt = o.prompt;
    w.system = o.system;
    w.combine_prompt = o.combine_prompt;
    w.windows.window_seconds = o.window_seconds;
    w.windows.window_frames = o.window_frames;
    w.windows.stride_seconds = o.stride_seconds;
    w.windows.stride_frames = o.stride_frames;
    if (!o.stride_seconds && !o.stride_frames) {  // default: windows end to end
      w.windows.stride_seconds = o.window_seconds;
      w.windows.stride_frames = o.window_frames;
    }
    w.windows.max_windows = o.max_windows;
    w.max_tokens = o.max_tokens;
    if (o.temperature) w.overrides.temperature = float(*o.temperature);
    if (o.top_p) w.overrides.top_p = float(*o.top_p);
    if (o.top_k) w.overrides.top_k = *o.top_k;
    if (o.seed) w.overrides.seed = uint64_t(*o.seed);
    w.ignore_eos = o.ignore_eos;
    w.json = o.json;
    w.load_ms = load_ms;
    return RunWindowed(**model, *tok, mc, w);
  }

  auto body = BuildBody(o);
  if (!body.ok()) return Fail("run", body.status());
  auto parsed = server::ParseChatRequest(*body, mc.limits);
  if (!parsed.ok()) return Fail("run", parsed.status());
  auto built = server::BuildChatRequest(*parsed, mc);
  if (!built.ok()) return Fail("run", built.status());
  engine::EngineRequest& req = built->choices.at(0);
  const int64_t prompt_tokens = static_cast<int64_t>(req.prompt_ids.size());

  if (!o.dump_logits.empty()) {
    Status st = DumpLogits(**model, req, o.dump_logits);
    if (!st.ok()) return Fail("run", st);
  }
  if (!o.dump_dir.empty()) {
    std::vector<qwen3vl::DumpMediaItem> items;
    for (const auto& m : req.media) {
      if (m.pixel_values == nullptr) return Fail("run", InvalidArgument("--dump-dir needs the media pixels"));
      items.push_back({m.pixel_values->data(), m.grid_thw});
    }
    Status st = qwen3vl::WriteDebugDump(**model, req.prompt_ids, req.positions, items, o.dump_dir);
    if (!st.ok()) return Fail("run", st);
  }

  engine::EngineOptions eo;
  const auto& tc = (*model)->config().text;
  eo.kv_cache_bytes = 2 * tc.num_layers * tc.num_kv_heads * tc.head_dim * 4 *
                      (prompt_tokens + o.max_tokens + 64);
  eo.max_model_len = prompt_tokens + o.max_tokens + 1;
  eo.max_batch_tokens = 512;
  eo.feature_cache.budget_bytes = 0;
  auto engine = engine::Engine::Create(**model, *tok, eo);
  if (!engine.ok()) return Fail("run", engine.status());
  auto handle = (*engine)->Submit(req);
  if (!handle.ok()) return Fail("run", handle.status());

  json tokens = json::array();
  std::string text;
  engine::Event fin;
  for (;;) {
    engine::Event e;
    if (!(*handle)->events().Pop(&e, std::chrono::milliseconds(1000))) continue;
    if (!o.json && !e.text.empty()) {
      std::fwrite(e.text.data(), 1, e.text.size(), stdout);
      std::fflush(stdout);
    }
    text += e.text;
    for (const auto& t : e.tokens) {
      json jt = {{"id", t.id}};
      auto piece = tok->Decode(std::span<const int32_t>(&t.id, 1));
      jt["text"] = piece.ok() ? *piece : "";
      if (t.has_logprobs) {
        jt["logprob"] = t.logprob;
        json top = json::array();
        for (const auto& a : t.top_logprobs) top.push_back({{"id", a.token}, {"logprob", a.logprob}});
        jt["top_logprobs"] = top;
      }
      tokens.push_back(jt);
    }
    if (e.type == engine::Event::Type::kFinish) {
      fin = std::move(e);
      break;
    }
  }
  if (fin.finish_reason == engine::FinishReason::kError) return Fail("run", fin.error);
  const auto& s = fin.stats;
  if (!o.json) {
    std::printf("\n");
    std::fprintf(stderr,
                 "[%lld prompt tokens, %lld generated; encode %.0f ms, prefill %.0f ms, decode "
                 "%.0f ms, finish %s]\n",
                 (long long)s.prompt_tokens, (long long)s.completion_tokens, s.encode_ms,
                 s.prefill_ms, s.decode_ms, std::string(FinishReasonName(fin.finish_reason)).c_str());
    return kExitOk;
  }
  json out;
  out["prompt_token_ids"] = req.prompt_ids;
  out["tokens"] = tokens;
  out["text"] = text;
  out["finish_reason"] = std::string(engine::FinishReasonName(fin.finish_reason));
  out["timings_ms"] = {{"load", load_ms},        {"preprocess", built->preprocess_ms},
                       {"fetch", built->fetch_ms}, {"encode", s.encode_ms},
                       {"prefill", s.prefill_ms}, {"decode", s.decode_ms},
                       {"total", total.ElapsedMs()}};
  const double prefill_s = (s.prefill_ms) * 1e-3;
  const double decode_s = s.decode_ms * 1e-3;
  out["throughput"] = {
      {"prefill_tok_s", prefill_s > 0 ? double(prompt_tokens) / prefill_s : 0.0},
      {"decode_tok_s", decode_s > 0 && s.completion_tokens > 1
                           ? double(s.completion_tokens - 1) / decode_s : 0.0}};
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

}  // namespace

void RegisterRun(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* c = root.add_subcommand("run", "Answer one prompt (with images or a video) and exit");
  c->add_option("--model", o->model, "Model folder, .safetensors or text GGUF")->required();
  c->add_option("--mmproj", o->mmproj, "mmproj GGUF (default: found beside a GGUF model)");
  c->add_option("--image", o->images, "Image file or URL (repeatable, in order)");
  c->add_option("--video", o->video, "Video file or URL");
  c->add_option("--system", o->system, "System message");
  c->add_option("--prompt", o->prompt, "User text (after the images/video)");
  c->add_option("--messages", o->messages_file,
                "OpenAI-style messages JSON (a list, or an object with \"messages\")");
  c->add_option("--max-tokens", o->max_tokens, "Generated tokens at most")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  c->add_option("--temperature", o->temperature, "0 = greedy (default: generation_config.json)");
  c->add_option("--top-p", o->top_p, "Nucleus sampling");
  c->add_option("--top-k", o->top_k, "Top-k sampling");
  c->add_option("--seed", o->seed, "Sampling seed");
  c->add_option("--top-logprobs", o->top_logprobs, "Alternatives per token in --json (0-20)");
  c->add_option("--min-pixels", o->min_pixels, "Image pixel lower bound (may only lower)");
  c->add_option("--max-pixels", o->max_pixels, "Image pixel upper bound (may only lower)");
  c->add_option("--threads", o->threads, "Compute threads (0: all cores)")->capture_default_str();
  c->add_option("--dtype", o->dtype, "Compute precision: f32 (exact) or bf16")->capture_default_str();
  c->add_option("--dump-logits", o->dump_logits,
                "Write the last prompt position's logits as raw little-endian f32");
  c->add_option("--dump-dir", o->dump_dir,
                "Write intermediate states (pixels, per-layer vision and text states, logits) in the "
                "golden formats to this folder (see dump.json there)");
  c->add_flag("--ignore-eos", o->ignore_eos, "Generate exactly --max-tokens tokens");
  AddMmapFlag(c, &o->mmap_weights);
  c->add_option("--window-seconds", o->window_seconds, "Analyse --video in windows of this many seconds");
  c->add_option("--window-frames", o->window_frames, "Analyse --video in windows of this many sampled frames");
  c->add_option("--stride", o->stride_seconds, "Seconds between window starts (default: the window)");
  c->add_option("--stride-frames", o->stride_frames, "Sampled frames between window starts");
  c->add_option("--max-windows", o->max_windows, "At most this many windows (spread over the video)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{4096}));
  c->add_option("--combine-prompt", o->combine_prompt, "Instruction of the final combine request");
  c->add_flag("--json", o->json, "Print one JSON object with tokens, logprobs and timings");
  c->callback([o, &exit_code] { exit_code = RunCommand(*o); });
}

}  // namespace ocular::cli
