// `ocular serve --model PATH [...]`: the OpenAI-compatible HTTP server (src/server). Loads the
// model, tokenizer, chat template and preprocessing configs, starts the engine and serves until
// SIGTERM/SIGINT: then readiness flips at once, new work gets 503, in-flight requests get
// --shutdown-grace-seconds to finish, the rest are cancelled, and the process exits 0.
#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "base/thread_pool.h"
#include "cache/features/redis_tier.h"
#include "engine/engine.h"
#include "hub/hub_download.h"
#include "kernels/compute_context.h"
#include "media/data_source.h"
#include "media/video_decoder.h"
#include "model/qwen3vl/model.h"
#include "model/tokenizer/load_tokenizer.h"
#include "server/fetch.h"
#include "server/http_server.h"
#include "server/model_context.h"
#include "tensor/dtype.h"

namespace ocular::cli {
namespace {

struct ServeOptions {
  std::string model;
  std::string mmproj;
  std::string hf_endpoint;      // default: $HF_ENDPOINT, else https://huggingface.co
  std::string hf_revision = "main";
  bool offline = false;         // also $HF_HUB_OFFLINE=1
  bool download_only = false;   // fetch hf: files into the cache and exit
  bool demo_model = false;      // /v1/models says the weights are random
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;
  int64_t kv_cache_bytes = 1ll << 30;
  int64_t max_batch_tokens = 256;
  int64_t max_running = 16;
  int64_t max_waiting = 256;
  int block_size = 16;
  bool no_prefix_cache = false;
  bool mmap_weights = false;  // text weights used in place from the file mapping
  int64_t max_model_len = 32768;
  int64_t default_max_tokens = 2048;
  uint64_t feature_cache_bytes = 256ull << 20;
  int feature_cache_similar = -1;
  std::string feature_cache_redis;  // shared tier URL (docs/scale-out.md)
  std::string replica_name;         // default: hostname:port
  std::string api_key;
  std::string cors_origin;
  std::string media_root;
  std::vector<std::string> allow_hosts;
  bool allow_redirects = false;
  uint64_t max_body_bytes = 32ull << 20;
  int max_images = 8;
  int max_videos = 1;
  int64_t min_pixels = 0;
  int64_t max_pixels = 0;
  std::string precision = "f32";
  std::string kv_dtype = "auto";  // auto: bf16 under --precision bf16, else f32
  std::string served_model_name;
  int http_threads = 1024;
  int shutdown_grace_seconds = 30;
  bool no_webui = false;
};

int Run(const ServeOptions& o) {
  // Signals are taken by one waiting thread; block them before any other thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  media::SilenceFfmpegLogging();

  kernels::Precision precision;
  if (o.precision == "f32") precision = kernels::Precision::kF32;
  else if (o.precision == "bf16") precision = kernels::Precision::kBf16;
  else return Fail("serve", "--precision must be f32 or bf16");

  // hf:OWNER/REPO[:FILE-or-QUANT] -> files in the local cache (downloaded, or a complete cached
  // copy when offline or the hub cannot be reached).
  std::string model_path = o.model, mmproj_path = o.mmproj, default_name;
  if (hub::IsHubRef(o.model)) {
    auto ref = hub::ParseHubRef(o.model);
    if (!ref.ok()) return Fail("serve", ref.status());
    hub::HubOptions hopt;
    const char* env_endpoint = std::getenv("HF_ENDPOINT");
    if (!o.hf_endpoint.empty()) {
      hopt.endpoint = o.hf_endpoint;
    } else if (env_endpoint && *env_endpoint) {
      hopt.endpoint = env_endpoint;
    }
    while (!hopt.endpoint.empty() && hopt.endpoint.back() == '/') hopt.endpoint.pop_back();
    hopt.revision = o.hf_revision;
    if (const char* t = std::getenv("HF_TOKEN"); t && *t) hopt.token = t;
    const char* env_offline = std::getenv("HF_HUB_OFFLINE");
    hopt.offline = o.offline || (env_offline && std::string(env_offline) == "1");
    auto fetched = hub::FetchHubModel(*ref, hopt);
    if (!fetched.ok()) return Fail("serve", fetched.status());
    model_path = fetched->model.string();
    if (mmproj_path.empty()) mmproj_path = fetched->mmproj.string();
    default_name = ref->id();
    std::printf("ocular serve: %s %s %s\n", o.model.c_str(), fetched->from_cache ? "from the cache" : "downloaded to",
                model_path.c_str());
  } else if (o.download_only) {
    return Fail("serve", "--download-only needs an hf: model");
  }
  if (o.download_only) return kExitOk;

  ThreadPool pool(o.threads);
  kernels::ComputeContext ctx(pool);
  auto model = qwen3vl::Qwen3VLModel::Load(
      model_path, mmproj_path, ctx, precision, Placement(o.mmap_weights));
  if (!model.ok()) return Fail("serve", model.status());
  auto tok = tokenizer::LoadTokenizer(model_path);
  if (!tok.ok()) return Fail("serve", tok.status());
  std::string template_origin;
  auto tmpl = server::LoadModelChatTemplate(**model, &template_origin);
  if (!tmpl.ok()) return Fail("serve", tmpl.status());

  server::ModelContext mc;
  server::FillModelContext(**model, *tok, *tmpl, &mc);
  mc.max_model_len = o.max_model_len;
  mc.default_max_tokens = o.default_max_tokens;
  mc.pool = &pool;
  mc.compute_phash = o.feature_cache_similar >= 0;
  mc.limits.max_images = o.max_images;
  mc.limits.max_videos = o.max_videos;
  // Server flags may only tighten the model's own bounds.
  if (o.max_pixels > 0) mc.image_config.max_pixels = std::min(mc.image_config.max_pixels, o.max_pixels);
  if (o.min_pixels > 0) mc.image_config.min_pixels = std::min(o.min_pixels, mc.image_config.max_pixels);

  std::unique_ptr<media::MediaRoot> media_root;
  if (!o.media_root.empty()) {
    auto r = media::MediaRoot::Create(o.media_root);
    if (!r.ok()) return Fail("serve", r.status());
    media_root = std::make_unique<media::MediaRoot>(std::move(*r));
    mc.media_root = media_root.get();
  }
  server::FetchOptions fo;
  fo.allow_redirects = o.allow_redirects;
  fo.allowed_hosts = o.allow_hosts;
  server::UrlFetcher fetcher(fo);
  mc.fetcher = &fetcher;

  engine::EngineOptions eo;
  eo.kv_cache_bytes = o.kv_cache_bytes;
  const std::optional<DType> kv_dtype = KvDtypeFor(o.kv_dtype, o.precision);
  if (!kv_dtype.has_value()) return Fail("serve", "--kv-dtype must be auto, f32, bf16 or f16");
  eo.kv_dtype = *kv_dtype;
  eo.block_size = o.block_size;
  eo.enable_prefix_caching = !o.no_prefix_cache;
  eo.max_batch_tokens = o.max_batch_tokens;
  eo.max_running = o.max_running;
  eo.max_waiting = o.max_waiting;
  eo.max_model_len = o.max_model_len;
  eo.feature_cache.budget_bytes = o.feature_cache_bytes;
  eo.feature_cache.similar_threshold = o.feature_cache_similar;
  if (!o.feature_cache_redis.empty()) {
    auto tier = features::RedisFeatureTier::Create(o.feature_cache_redis);
    if (!tier.ok()) return Fail("serve", tier.status());
    std::printf("ocular serve: shared feature cache tier %s\n", (*tier)->Describe().c_str());
    eo.shared_feature_tier = std::move(*tier);
  }
  auto engine = engine::Engine::Create(**model, *tok, eo);
  if (!engine.ok()) return Fail("serve", engine.status());

  server::HttpOptions ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.api_key = o.api_key;
  ho.cors_origin = o.cors_origin;
  ho.max_body_bytes = o.max_body_bytes;
  ho.http_threads = o.http_threads;
  ho.webui = !o.no_webui;
  ho.demo_model = o.demo_model;
  if (default_name.empty()) default_name = std::filesystem::path(model_path).filename().string();
  ho.served_model_name = o.served_model_name.empty() ? default_name
                                                     : o.served_model_name;
  server::HttpServer http(**engine, mc, ho);
  auto port = http.Bind();
  if (!port.ok()) return Fail("serve", port.status());
  if (o.replica_name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "ocular");
    http.SetReplicaName(std::string(host) + ":" + std::to_string(*port));
  } else {
    http.SetReplicaName(o.replica_name);
  }
  http.SetReady(true);
  std::printf("ocular serve: model %s (template %s, vision %s, %s)\n", ho.served_model_name.c_str(),
              template_origin.c_str(), (*model)->has_vision() ? "yes" : "no", o.precision.c_str());
  std::printf("ocular serve: KV cache %lld tokens (%s), prefix cache %s, feature cache %llu bytes\n",
              static_cast<long long>((*engine)->kv_capacity_tokens()), std::string(DTypeName(*kv_dtype)).c_str(),
              o.no_prefix_cache ? "off" : "on",
              static_cast<unsigned long long>(o.feature_cache_bytes));
  std::printf("ocular serve: listening on http://%s:%d\n", o.host.c_str(), *port);
  std::fflush(stdout);

  std::atomic<bool> stopping{false};
  std::atomic<bool> served{false};  // Serve() returned
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    stopping.store(true);
    std::fprintf(stderr, "ocular serve: shutting down (grace %d s)\n", o.shutdown_grace_seconds);
    http.StartDrain();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.shutdown_grace_seconds);
    while (http.active_requests() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    http.CancelAll();
    const auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (http.active_requests() > 0 && std::chrono::steady_clock::now() < hard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    http.Stop();
    // Every request has ended, but the HTTP library joins its workers only after idle
    // keep-alive connections time out (up to the idle timeout, 60 s by default). Nothing is
    // left to lose: give the orderly path a moment, then leave with the promised 0.
    const auto orderly = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!served.load() && std::chrono::steady_clock::now() < orderly) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!served.load()) {
      std::fprintf(stderr, "ocular serve: closing idle keep-alive connections\n");
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(kExitOk);
    }
  });
  http.Serve();
  served.store(true);
  // Serve() only returns early if listening failed: wake the waiter through its own path.
  if (!stopping.load()) kill(getpid(), SIGTERM);
  waiter.join();
  return kExitOk;
}

}  // namespace

void RegisterServe(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server (chat completions with images)");
  cmd->add_option("--model", o->model,
                  "model folder, GGUF file, or hf:OWNER/REPO[:FILE-or-QUANT] (downloaded from the Hugging Face hub "
                  "into $OCULAR_CACHE_DIR/hub or ~/.cache/ocular/hub; resumed, sha256-checked; a complete cached "
                  "copy is used offline)")->required();
  cmd->add_option("--hf-endpoint", o->hf_endpoint, "hub address (default: $HF_ENDPOINT, else https://huggingface.co)");
  cmd->add_option("--hf-revision", o->hf_revision, "hub branch, tag or commit")->capture_default_str();
  cmd->add_flag("--offline", o->offline, "never contact the hub: use the complete cached copy (also HF_HUB_OFFLINE=1)");
  cmd->add_flag("--download-only", o->download_only, "fetch the hf: model into the cache and exit");
  cmd->add_flag("--demo-model", o->demo_model,
                "mark the model as a random-weight demo in /v1/models (\"ocular\": {\"demo\": true}) and the web UI");
  cmd->add_option("--mmproj", o->mmproj, "vision projector GGUF (with a GGUF --model)");
  cmd->add_option("--host", o->host, "address to bind")->capture_default_str();
  cmd->add_option("--port", o->port, "port (0 = any free port)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "compute threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--kv-cache-bytes", o->kv_cache_bytes, "KV cache budget in bytes")->capture_default_str();
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens, "token budget of one engine step")->capture_default_str();
  cmd->add_option("--max-running", o->max_running, "requests running at once")->capture_default_str();
  cmd->add_option("--max-waiting", o->max_waiting, "admission queue length (beyond: 429)")->capture_default_str();
  cmd->add_option("--block-size", o->block_size, "tokens per KV block")->capture_default_str();
  cmd->add_option("--kv-dtype", o->kv_dtype, kKvDtypeHelp)
      ->capture_default_str();
  cmd->add_flag("--no-prefix-cache", o->no_prefix_cache, "disable prefix caching");
  AddMmapFlag(cmd, &o->mmap_weights);
  cmd->add_option("--max-model-len", o->max_model_len, "prompt + generated tokens per request")->capture_default_str();
  cmd->add_option("--default-max-tokens", o->default_max_tokens, "max_tokens when a request gives none")->capture_default_str();
  cmd->add_option("--feature-cache-bytes", o->feature_cache_bytes, "vision feature cache budget (0 = off)")->capture_default_str();
  cmd->add_option("--feature-cache-similar", o->feature_cache_similar, "near-duplicate image hits up to this pHash distance in bits (-1 = exact only; 6 is calibrated "
                  "for re-encoded copies). RISK: two screenshots that differ only in a small region (one "
                  "word, a checkbox) can match and get the other image's answer; see docs/feature-cache.md")->capture_default_str();
  cmd->add_option("--feature-cache-redis", o->feature_cache_redis,
                  "share vision features between replicas through Redis: redis://[[user]:password@]host[:port][/db] "
                  "(local memory stays the first tier; Redis down or slow = local only)");
  cmd->add_option("--replica-name", o->replica_name,
                  "name echoed in X-Ocular-Replica and usage.replica (default: hostname:port)");
  cmd->add_option("--api-key", o->api_key, "require 'Authorization: Bearer KEY' on inference routes (default: none)");
  cmd->add_option("--cors-origin", o->cors_origin, "allowed CORS origin (default: CORS closed)");
  cmd->add_option("--media-root", o->media_root, "folder file:// media URLs may read from (default: file:// refused)");
  cmd->add_option("--allow-host", o->allow_hosts, "only fetch media from these hosts (repeatable; default: any public host)");
  cmd->add_flag("--allow-redirects", o->allow_redirects, "follow media redirects (each hop re-validated; default off)");
  cmd->add_option("--max-body-bytes", o->max_body_bytes, "request body limit (413 beyond)")->capture_default_str();
  cmd->add_option("--max-images", o->max_images, "images per request")->capture_default_str();
  cmd->add_option("--max-videos", o->max_videos, "videos per request")->capture_default_str();
  cmd->add_option("--min-pixels", o->min_pixels, "image min pixels (0 = model default)")->capture_default_str();
  cmd->add_option("--max-pixels", o->max_pixels, "image max pixels (0 = model default; may only lower it)")->capture_default_str();
  cmd->add_option("--precision", o->precision, "f32 or bf16")->capture_default_str();
  cmd->add_flag("--no-webui", o->no_webui, "do not serve the web UI at /");
  cmd->add_option("--served-model-name", o->served_model_name, "model id in the API (default: the model's file name)");
  cmd->add_option("--http-threads", o->http_threads, "HTTP worker threads (each open stream holds one)")->capture_default_str();
  cmd->add_option("--shutdown-grace-seconds", o->shutdown_grace_seconds, "on SIGTERM, time in-flight requests get to finish")->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = Run(*o); });
}

}  // namespace ocular::cli
