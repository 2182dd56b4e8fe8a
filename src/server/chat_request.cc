#include "server/chat_request.h"

#include <cmath>
#include <random>

#include "base/clock.h"
#include "cache/features/feature_cache.h"
#include "cache/features/perceptual_hash.h"
#include "media/data_source.h"
#include "media/image.h"
#include "media/video_decoder.h"
#include "media/video_preprocess.h"
#include "model/chat/chat_template.h"
#include "model/chat/prompt_builder.h"
#include "model/tokenizer/tokenizer.h"
#include "server/fetch.h"

namespace ocular::server {
namespace {

using nlohmann::json;

Status ParamError(const std::string& param, const std::string& what) {
  return InvalidArgument(param + ": " + what);
}

// Field access with type checks; absent or null -> nullopt.
Result<std::optional<double>> GetNumber(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return ParamError(name, "must be a number");
  double v = it->get<double>();
  if (!std::isfinite(v)) return ParamError(name, "must be finite");
  return std::optional<double>(v);
}

Result<std::optional<int64_t>> GetInteger(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > uint64_t(INT64_MAX)) return ParamError(name, "out of range");
    return std::optional<int64_t>(int64_t(it->get<uint64_t>()));
  }
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) {
      return std::optional<int64_t>(int64_t(v));
    }
  }
  return ParamError(name, "must be an integer");
}

Result<std::optional<bool>> GetBool(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return ParamError(name, "must be a boolean");
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::string>> GetString(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return ParamError(name, "must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Status CheckRange(const char* name, std::optional<double> v, double lo, double hi, bool lo_open) {
  if (!v) return OkStatus();
  if ((lo_open ? *v <= lo : *v < lo) || *v > hi) {
    return OutOfRange(std::string(name) + ": must be in " + (lo_open ? "(" : "[") +
                      std::to_string(lo).substr(0, 4) + ", " + std::to_string(hi).substr(0, 4) + "]");
  }
  return OkStatus();
}

// Shared sampling/output fields of both endpoints.
Status ParseCommon(const json& body, const RequestLimits& limits, ParsedChatRequest& out) {
  ASSIGN_OR_RETURN(auto temperature, GetNumber(body, "temperature"));
  RETURN_IF_ERROR(CheckRange("temperature", temperature, 0, 2, false));
  ASSIGN_OR_RETURN(auto top_p, GetNumber(body, "top_p"));
  RETURN_IF_ERROR(CheckRange("top_p", top_p, 0, 1, true));
  ASSIGN_OR_RETURN(auto min_p, GetNumber(body, "min_p"));
  RETURN_IF_ERROR(CheckRange("min_p", min_p, 0, 1, false));
  ASSIGN_OR_RETURN(auto presence, GetNumber(body, "presence_penalty"));
  RETURN_IF_ERROR(CheckRange("presence_penalty", presence, -2, 2, false));
  ASSIGN_OR_RETURN(auto frequency, GetNumber(body, "frequency_penalty"));
  RETURN_IF_ERROR(CheckRange("frequency_penalty", frequency, -2, 2, false));
  ASSIGN_OR_RETURN(auto repetition, GetNumber(body, "repetition_penalty"));
  RETURN_IF_ERROR(CheckRange("repetition_penalty", repetition, 0, 2, true));
  ASSIGN_OR_RETURN(auto top_k, GetInteger(body, "top_k"));
  if (top_k && (*top_k < -1 || *top_k > (1 << 24))) return OutOfRange("top_k: must be -1 or in [0, 16777216]");
  ASSIGN_OR_RETURN(auto seed, GetInteger(body, "seed"));
  if (seed && *seed < 0) return OutOfRange("seed: must be >= 0");
  if (temperature) out.overrides.temperature = float(*temperature);
  if (top_p) out.overrides.top_p = float(*top_p);
  if (min_p) out.overrides.min_p = float(*min_p);
  if (presence) out.overrides.presence_penalty = float(*presence);
  if (frequency) out.overrides.frequency_penalty = float(*frequency);
  if (repetition) out.overrides.repetition_penalty = float(*repetition);
  if (top_k) out.overrides.top_k = int32_t(*top_k);
  if (seed) out.overrides.seed = uint64_t(*seed);

  ASSIGN_OR_RETURN(auto max_tokens, GetInteger(body, "max_tokens"));
  ASSIGN_OR_RETURN(auto max_completion, GetInteger(body, "max_completion_tokens"));
  if (max_tokens && *max_tokens < 1) return OutOfRange("max_tokens: must be >= 1");
  if (max_completion && *max_completion < 1) return OutOfRange("max_completion_tokens: must be >= 1");
  out.max_tokens = max_completion ? max_completion : max_tokens;

  ASSIGN_OR_RETURN(auto n, GetInteger(body, "n"));
  if (n && (*n < 1 || *n > limits.max_n)) {
    return OutOfRange("n: must be in [1, " + std::to_string(limits.max_n) + "]");
  }
  out.n = n ? int(*n) : 1;

  if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    std::vector<const json*> items;
    if (it->is_string()) {
      items.push_back(&*it);
    } else if (it->is_array()) {
      if (int64_t(it->size()) > limits.max_stop) {
        return OutOfRange("stop: at most " + std::to_string(limits.max_stop) + " strings");
      }
      for (const json& s : *it) items.push_back(&s);
    } else {
      return ParamError("stop", "must be a string or a list of strings");
    }
    for (const json* s : items) {
      if (!s->is_string()) return ParamError("stop", "must be a string or a list of strings");
      const std::string& v = s->get_ref<const std::string&>();
      if (v.empty()) return ParamError("stop", "strings must not be empty");
      if (int64_t(v.size()) > limits.max_stop_bytes) return OutOfRange("stop: string too long");
      out.stop.push_back(v);
    }
  }

  // logprobs: bool in chat; an integer count in the legacy completions API.
  if (auto it = body.find("logprobs"); it != body.end() && !it->is_null()) {
    if (it->is_boolean()) {
      out.logprobs = it->get<bool>();
    } else if (!out.is_chat && it->is_number_integer()) {
      int64_t v = it->get<int64_t>();
      if (v < 0 || v > sampling::kMaxTopLogprobs) return OutOfRange("logprobs: must be in [0, 20]");
      out.logprobs = true;
      out.top_logprobs = int(v);
    } else {
      return ParamError("logprobs", out.is_chat ? "must be a boolean" : "must be an integer");
    }
  }
  ASSIGN_OR_RETURN(auto top_logprobs, GetInteger(body, "top_logprobs"));
  if (top_logprobs) {
    if (*top_logprobs < 0 || *top_logprobs > sampling::kMaxTopLogprobs) {
      return OutOfRange("top_logprobs: must be in [0, 20]");
    }
    if (!out.logprobs && *top_logprobs > 0) return ParamError("top_logprobs", "needs logprobs: true");
    out.top_logprobs = int(*top_logprobs);
  }
  if (out.logprobs) out.overrides.num_logprobs = out.top_logprobs;

  ASSIGN_OR_RETURN(auto ignore_eos, GetBool(body, "ignore_eos"));
  out.ignore_eos = ignore_eos.value_or(false);
  ASSIGN_OR_RETURN(auto stream, GetBool(body, "stream"));
  out.stream = stream.value_or(false);
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return ParamError("stream_options", "must be an object");
    ASSIGN_OR_RETURN(auto inc, GetBool(*it, "include_usage"));
    if (inc.has_value() && !stream.value_or(false)) {
      return ParamError("stream_options", "only allowed with stream: true");
    }
    out.include_usage = inc.value_or(false);
  }
  ASSIGN_OR_RETURN(auto user, GetString(body, "user"));
  if (user) {
    if (user->size() > 256) return OutOfRange("user: too long");
    out.user = *user;
  }
  ASSIGN_OR_RETURN(auto salt, GetString(body, "cache_salt"));
  if (salt) {
    if (salt->size() > 256) return OutOfRange("cache_salt: too long");
    out.cache_salt = *salt;
  }
  ASSIGN_OR_RETURN(auto model, GetString(body, "model"));
  if (model) out.model = *model;
  return OkStatus();
}

Result<std::optional<int64_t>> GetPixelBound(const json& part, const std::string& p, const char* name) {
  auto v = GetInteger(part, name);
  if (!v.ok()) return ParamError(p + "." + name, "must be an integer");
  if (*v && **v <= 0) return OutOfRange(p + "." + name + ": must be > 0");
  return *v;
}

Status ParseContentParts(const json& content, const std::string& p, bool media_allowed,
                         const RequestLimits& limits, ParsedChatRequest& out,
                         nlohmann::ordered_json& parts_out, int64_t& text_bytes) {
  parts_out = nlohmann::ordered_json::array();
  for (size_t j = 0; j < content.size(); ++j) {
    const json& part = content[j];
    const std::string pp = p + "[" + std::to_string(j) + "]";
    if (!part.is_object()) return ParamError(pp, "must be an object");
    auto type_it = part.find("type");
    if (type_it == part.end() || !type_it->is_string()) return ParamError(pp + ".type", "must be a string");
    const std::string& type = type_it->get_ref<const std::string&>();
    if (type == "text") {
      auto t = part.find("text");
      if (t == part.end() || !t->is_string()) return ParamError(pp + ".text", "must be a string");
      text_bytes += int64_t(t->get_ref<const std::string&>().size());
      parts_out.push_back({{"type", "text"}, {"text", t->get<std::string>()}});
    } else if (type == "image_url" || type == "video_url") {
      const bool image = type == "image_url";
      if (!media_allowed) return ParamError(pp, "media parts are only allowed in user messages");
      auto obj = part.find(type);
      std::string url;
      const std::string up = pp + "." + type;
      if (obj != part.end() && obj->is_string()) {
        url = obj->get<std::string>();  // some clients send the URL directly
      } else if (obj != part.end() && obj->is_object()) {
        auto u = obj->find("url");
        if (u == obj->end() || !u->is_string()) return ParamError(up + ".url", "must be a string");
        url = u->get<std::string>();
        if (auto d = obj->find("detail"); d != obj->end() && !d->is_null()) {
          if (!d->is_string()) return ParamError(up + ".detail", "must be a string");
          const auto& dv = d->get_ref<const std::string&>();
          if (dv != "auto" && dv != "low" && dv != "high") {
            return ParamError(up + ".detail", "must be auto, low or high");
          }
        }
      } else {
        return ParamError(up, "must be an object with a url");
      }
      if (url.empty()) return ParamError(up + ".url", "must not be empty");
      MediaRef ref;
      ref.kind = image ? MediaRefKind::kImage : MediaRefKind::kVideo;
      ref.url = std::move(url);
      ref.param = up + ".url";
      ASSIGN_OR_RETURN(ref.min_pixels, GetPixelBound(part, pp, "min_pixels"));
      ASSIGN_OR_RETURN(ref.max_pixels, GetPixelBound(part, pp, "max_pixels"));
      if (ref.min_pixels && ref.max_pixels && *ref.min_pixels > *ref.max_pixels) {
        return ParamError(pp + ".min_pixels", "must not exceed max_pixels");
      }
      int images = 0, videos = 0;
      for (const auto& m : out.media) (m.kind == MediaRefKind::kImage ? images : videos)++;
      if (image && images + 1 > limits.max_images) {
        return ResourceExhausted(pp + ": at most " + std::to_string(limits.max_images) + " images per request");
      }
      if (!image && videos + 1 > limits.max_videos) {
        return ResourceExhausted(pp + ": at most " + std::to_string(limits.max_videos) + " videos per request");
      }
      out.media.push_back(std::move(ref));
      parts_out.push_back({{"type", image ? "image" : "video"}});
    } else {
      return ParamError(pp + ".type", "unsupported content part type");
    }
  }
  return OkStatus();
}

}  // namespace

Result<nlohmann::json> ParseJsonBody(std::string_view text, int max_depth) {
  // Depth pre-scan outside strings: nlohmann's recursive DOM has no depth limit of its own.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return InvalidArgument("body: JSON nesting too deep");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("body: malformed JSON");
  if (!j.is_object()) return InvalidArgument("body: must be a JSON object");
  return j;
}

std::string ErrorParam(const Status& status) {
  const std::string& m = status.message();
  size_t colon = m.find(": ");
  if (colon == std::string::npos || colon == 0) return "";
  for (size_t i = 0; i < colon; ++i) {
    char c = m[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' || c == ']')) return "";
  }
  return m.substr(0, colon);
}

Result<ParsedChatRequest> ParseChatRequest(const json& body, const RequestLimits& limits) {
  if (!body.is_object()) return InvalidArgument("body: must be a JSON object");
  ParsedChatRequest out;
  out.is_chat = true;
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array()) return ParamError("messages", "must be a list");
  if (msgs->empty()) return ParamError("messages", "must not be empty");
  if (int64_t(msgs->size()) > limits.max_messages) return OutOfRange("messages: too many messages");
  RETURN_IF_ERROR(ParseCommon(body, limits, out));
  out.messages = nlohmann::ordered_json::array();
  int64_t text_bytes = 0;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return ParamError(p, "must be an object");
    auto role_it = m.find("role");
    if (role_it == m.end() || !role_it->is_string()) return ParamError(p + ".role", "must be a string");
    const std::string& role = role_it->get_ref<const std::string&>();
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" &&
        role != "developer") {
      return ParamError(p + ".role", "unknown role");
    }
    nlohmann::ordered_json nm;
    nm["role"] = role == "developer" ? "system" : role;
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) {
      if (role != "assistant") return ParamError(p + ".content", "is required");
      nm["content"] = "";
    } else if (content->is_string()) {
      text_bytes += int64_t(content->get_ref<const std::string&>().size());
      nm["content"] = content->get<std::string>();
    } else if (content->is_array()) {
      nlohmann::ordered_json parts;
      RETURN_IF_ERROR(ParseContentParts(*content, p + ".content", role == "user", limits, out,
                                        parts, text_bytes));
      nm["content"] = std::move(parts);
    } else {
      return ParamError(p + ".content", "must be a string or a list of parts");
    }
    if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
      if (role != "assistant" || !tc->is_array()) return ParamError(p + ".tool_calls", "must be a list in an assistant message");
      nm["tool_calls"] = *tc;
    }
    if (text_bytes > limits.max_text_bytes) return ResourceExhausted("messages: text too long");
    out.messages.push_back(std::move(nm));
  }
  return out;
}

Result<ParsedChatRequest> ParseCompletionRequest(const json& body, const RequestLimits& limits) {
  if (!body.is_object()) return InvalidArgument("body: must be a JSON object");
  ParsedChatRequest out;
  out.is_chat = false;
  auto p = body.find("prompt");
  if (p == body.end() || !p->is_string()) return ParamError("prompt", "must be a string");
  if (int64_t(p->get_ref<const std::string&>().size()) > limits.max_text_bytes) {
    return ResourceExhausted("prompt: too long");
  }
  out.prompt = p->get<std::string>();
  RETURN_IF_ERROR(ParseCommon(body, limits, out));
  return out;
}

namespace {

Result<std::vector<uint8_t>> FetchMediaBytes(const MediaRef& ref, const ModelContext& ctx,
                                             std::optional<std::string>* declared_mime,
                                             const std::function<bool()>& cancelled) {
  const bool image = ref.kind == MediaRefKind::kImage;
  const uint64_t cap = image ? ctx.limits.max_image_bytes : ctx.limits.max_video_bytes;
  std::string_view url = ref.url;
  auto starts = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (starts("data:")) {
    auto r = media::ParseDataUrl(url, cap);
    if (!r.ok()) return Status(r.status().code(), ref.param + ": " + r.status().message());
    *declared_mime = r->declared_mime;
    return std::move(r->bytes);
  }
  if (starts("file:")) {
    if (!ctx.media_root) return PermissionDenied(ref.param + ": file URLs are disabled (no --media-root)");
    auto r = ctx.media_root->ReadFile(url, cap);
    if (!r.ok()) return Status(r.status().code(), ref.param + ": " + r.status().message());
    return std::move(*r);
  }
  if (starts("http://") || starts("https://")) {
    if (!ctx.fetcher) return PermissionDenied(ref.param + ": URL fetching is disabled");
    auto r = ctx.fetcher->Fetch(url, cap, image ? ctx.limits.image_fetch_timeout : ctx.limits.video_fetch_timeout,
                                cancelled);
    if (!r.ok() && r.status().code() == StatusCode::kCancelled) return r.status();
    if (!r.ok()) return Status(r.status().code(), ref.param + ": " + r.status().message());
    return std::move(*r);
  }
  return ParamError(ref.param, "unsupported URL scheme (use data:, http(s): or file:)");
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// "ocular-media:<64 hex>" -> `pm` holding the cached entry of that media id for this request's
// salt, pinned. Unknown ids fail with FailedPrecondition (HTTP 409 media_not_cached).
Status ResolveMediaRef(const MediaRef& ref, const std::string& salt, const ModelContext& ctx,
                       engine::PreparedMedia* pm) {
  if (ref.kind != MediaRefKind::kImage) {
    return ParamError(ref.param, "media-id references are accepted for images only");
  }
  const std::string_view hex = std::string_view(ref.url).substr(kMediaRefScheme.size());
  Sha256Digest id{};
  if (hex.size() != 2 * id.size()) return ParamError(ref.param, "a media id has 64 hex digits");
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(hex[i])));
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return ParamError(ref.param, "a media id has 64 hex digits");
    id[i / 2] = static_cast<uint8_t>(id[i / 2] | (i % 2 ? v : v << 4));
  }
  if (ctx.feature_cache) {
    features::FeatureQuery q;
    q.key = features::MakeFeatureKey(id, salt);
    ctx.feature_cache->PrefetchShared(q.key);  // another replica may have encoded it (Redis)
    if (auto hit = ctx.feature_cache->Lookup(q); hit && !hit->similar) {
      const features::GridThw g = hit->lease.entry().grid;
      pm->kind = engine::MediaKind::kImage;
      pm->media_id = id;
      pm->grid_thw = {g.t, g.h, g.w};
      pm->cached = std::make_shared<const features::FeatureLease>(std::move(hit->lease));
      return OkStatus();
    }
  }
  return FailedPrecondition(ref.param + ": this media id is not cached; send the image itself");
}

}  // namespace

bool IsMediaNotCached(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition;
}

Result<BuiltRequest> BuildChatRequest(const ParsedChatRequest& request, const ModelContext& ctx,
                                      const std::function<bool()>& cancelled) {
  if (!ctx.tokenizer || (request.is_chat && !ctx.chat_template)) return Internal("model context incomplete");
  BuiltRequest out;
  std::vector<engine::PreparedMedia> prepared;
  std::vector<chat::MediaItem> items;
  for (const MediaRef& ref : request.media) {
    if (StartsWithNoCase(ref.url, kMediaRefScheme)) {  // a media-id reference: nothing to fetch
      engine::PreparedMedia pm;
      RETURN_IF_ERROR(ResolveMediaRef(ref, request.cache_salt, ctx, &pm));
      chat::MediaItem item;
      item.kind = chat::MediaKind::kImage;
      item.grid_thw = pm.grid_thw;
      prepared.push_back(std::move(pm));
      items.push_back(std::move(item));
      continue;
    }
    const int64_t t0 = NowNs();
    std::optional<std::string> mime;
    if (cancelled && cancelled()) return Cancelled("request cancelled");
    ASSIGN_OR_RETURN(auto bytes, FetchMediaBytes(ref, ctx, &mime, cancelled));
    const int64_t t1 = NowNs();
    out.fetch_ms += double(t1 - t0) / 1e6;
    engine::PreparedMedia pm;
    chat::MediaItem item;
    auto tag = [&](const Status& s) { return Status(s.code(), ref.param + ": " + s.message()); };
    if (ref.kind == MediaRefKind::kImage) {
      media::ImageLimits il;
      il.max_input_bytes = ctx.limits.max_image_bytes;
      auto decoded = media::DecodeImage(bytes, il, mime ? std::optional<std::string_view>(*mime) : std::nullopt);
      if (!decoded.ok()) return tag(decoded.status());
      auto cfg = media::ApplyRequestPixelBounds(ctx.image_config, ref.min_pixels, ref.max_pixels);
      if (!cfg.ok()) return tag(cfg.status());
      auto pre = media::PreprocessImage(decoded->rgb, *cfg, ctx.pool);
      if (!pre.ok()) return tag(pre.status());
      pm.kind = engine::MediaKind::kImage;
      pm.media_id = pre->media_id.digest;
      for (int k = 0; k < 3; ++k) pm.grid_thw[k] = pre->pixel_values.grid_thw[k];
      const int64_t n = pre->pixel_values.num_patches() * media::kPatchDim;
      const float* px = pre->pixel_values.values();
      pm.pixel_values = std::make_shared<const std::vector<float>>(px, px + n);
      if (ctx.compute_phash) {
        const auto& rgb = decoded->rgb;
        auto h = features::PerceptualHash({rgb.data.data(), rgb.width, rgb.height, int64_t(rgb.width) * 3});
        if (h.ok()) pm.phash = *h;
      }
      item.kind = chat::MediaKind::kImage;
    } else {
      media::VideoLimits vl;
      vl.max_input_bytes = ctx.limits.max_video_bytes;
      media::VideoSamplingConfig cfg = ctx.video_config;
      if (ref.min_pixels) cfg.min_pixels = std::max(cfg.min_pixels, std::min(*ref.min_pixels, cfg.max_pixels));
      if (ref.max_pixels) cfg.max_pixels = std::max(cfg.min_pixels, std::min(*ref.max_pixels, cfg.max_pixels));
      auto sampled = media::DecodeVideo(bytes, vl, cfg);
      if (!sampled.ok()) return tag(sampled.status());
      auto pre = media::PreprocessVideo(*sampled, cfg, ctx.pool);
      if (!pre.ok()) return tag(pre.status());
      pm.kind = engine::MediaKind::kVideo;
      pm.media_id = pre->media_id.digest;
      for (int k = 0; k < 3; ++k) pm.grid_thw[k] = pre->pixel_values.grid_thw[k];
      const int64_t n = pre->pixel_values.num_patches() * media::kPatchDim;
      const float* px = pre->pixel_values.values();
      pm.pixel_values = std::make_shared<const std::vector<float>>(px, px + n);
      item.kind = chat::MediaKind::kVideo;
      item.timestamps_seconds = pre->timestamps;
    }
    item.grid_thw = pm.grid_thw;
    out.preprocess_ms += double(NowNs() - t1) / 1e6;
    prepared.push_back(std::move(pm));
    items.push_back(std::move(item));
  }

  std::string rendered;
  if (request.is_chat) {
    chat::ChatRenderInput in;
    in.messages = request.messages;
    in.add_generation_prompt = true;
    auto r = ctx.chat_template->Render(in);
    if (!r.ok()) return InvalidArgument("messages: the chat template could not render them");
    rendered = std::move(*r);
  } else {
    rendered = request.prompt;
  }
  const tokenizer::Tokenizer& tok = *ctx.tokenizer;
  chat::PromptOptions po;
  po.merge_size = ctx.merge_size;
  po.max_prompt_tokens = ctx.max_model_len;
  engine::EngineRequest base;
  if (request.is_chat) {
    auto prompt = chat::BuildPrompt(rendered, items, [&](std::string_view t) { return tok.Encode(t); }, {}, po);
    if (!prompt.ok()) {
      return Status(prompt.status().code(), "messages: " + prompt.status().message());
    }
    base.prompt_ids = std::move(prompt->ids);
    base.positions.assign(prompt->positions.begin(), prompt->positions.end());
    base.rope_delta = prompt->rope_delta;
    for (const auto& s : prompt->spans) base.spans.push_back({s.media_index, s.first_token, s.num_tokens});
  } else {
    // Raw completion: special tokens in the prompt text are treated as plain text.
    tokenizer::EncodeOptions eo;
    eo.parse_special = false;
    base.prompt_ids = tok.Encode(rendered, eo);
    const int64_t L = int64_t(base.prompt_ids.size());
    base.positions.resize(size_t(3 * L));
    for (int64_t r = 0; r < 3; ++r) {
      for (int64_t i = 0; i < L; ++i) base.positions[size_t(r * L + i)] = i;
    }
    base.rope_delta = 0;
  }
  const int64_t L = int64_t(base.prompt_ids.size());
  if (L == 0) return InvalidArgument(std::string(request.is_chat ? "messages" : "prompt") + ": empty prompt");
  if (L >= ctx.max_model_len) {
    return OutOfRange(std::string(request.is_chat ? "messages" : "prompt") + ": prompt of " +
                      std::to_string(L) + " tokens exceeds the context length " +
                      std::to_string(ctx.max_model_len));
  }
  const int64_t room = ctx.max_model_len - L;
  if (request.max_tokens) {
    if (*request.max_tokens > room) {
      return OutOfRange("max_tokens: prompt plus max_tokens exceed the context length " +
                        std::to_string(ctx.max_model_len));
    }
    base.max_tokens = *request.max_tokens;
  } else {
    base.max_tokens = std::min(ctx.default_max_tokens, room);
  }
  base.media = std::move(prepared);
  base.stop_strings = request.stop;
  base.ignore_eos = request.ignore_eos;
  base.cache_salt = request.cache_salt;
  base.fetch_ms = out.fetch_ms;
  base.preprocess_ms = out.preprocess_ms;
  out.prompt_tokens = L;

  std::random_device rd;
  const uint64_t fallback = (uint64_t(rd()) << 32) ^ rd();
  for (int i = 0; i < request.n; ++i) {
    engine::EngineRequest r = base;
    sampling::SamplingOverrides ov = request.overrides;
    if (ov.seed) ov.seed = *ov.seed + uint64_t(i);
    r.sampling = sampling::ResolveSamplingParams(ctx.generation_defaults, ov, fallback + uint64_t(i));
    Status v = sampling::ValidateSamplingParams(r.sampling);
    if (!v.ok()) return InvalidArgument("sampling: " + v.message());
    out.choices.push_back(std::move(r));
  }
  return out;
}

}  // namespace ocular::server
