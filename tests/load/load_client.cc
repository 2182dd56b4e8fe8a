#include "tests/load/load_client.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace ocular::testing {

using nlohmann::json;

namespace {

void ParseEvents(Exchange* e) {
  std::istringstream in(e->body);
  std::string line;
  bool after_done = false;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string data = line.substr(6);
    if (after_done) e->malformed = true;
    if (data == "[DONE]") {
      after_done = true;
      continue;
    }
    json j = json::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      e->malformed = true;
      continue;
    }
    if (j.contains("choices") && j["choices"].is_array()) {
      for (const json& c : j["choices"]) {
        if (c.contains("finish_reason") && c["finish_reason"].is_string()) e->finish_reason = c["finish_reason"];
      }
    }
    if (j.contains("usage") && j["usage"].is_object() && j["usage"].contains("completion_tokens")) {
      e->completion_tokens = j["usage"]["completion_tokens"].get<int>();
    }
  }
  e->done = after_done;
}

}  // namespace

Exchange ChatCompletion(httplib::Client& client, const json& request, bool cancel_after_first) {
  Exchange e;
  const bool stream = request.value("stream", false);
  httplib::Request r;
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.body = request.dump();
  r.set_header("Content-Type", "application/json");
  const auto t0 = std::chrono::steady_clock::now();
  bool cancelled = false;
  if (stream) {
    r.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
      e.body.append(d, n);
      if (e.ttft_ms < 0 && e.body.find("data: {") != std::string::npos) {
        e.ttft_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (cancel_after_first) {
          cancelled = true;
          return false;
        }
      }
      return true;
    };
  }
  auto res = client.send(r);
  if (cancelled) {
    e.status = 200;
    return e;
  }
  if (!res) return e;
  e.status = res->status;
  e.retry_after = res->get_header_value("Retry-After");
  if (!stream) {
    e.body = res->body;
    json j = json::parse(e.body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("choices")) {
      for (const json& c : j["choices"]) {
        if (c.contains("finish_reason") && c["finish_reason"].is_string()) e.finish_reason = c["finish_reason"];
      }
      if (j.contains("usage")) e.completion_tokens = j["usage"].value("completion_tokens", -1);
    }
  } else if (e.status == 200) {
    ParseEvents(&e);
  } else {
    e.body = res->body;
  }
  return e;
}

std::string MakePng(int w, int h, int seed) {
  auto be32 = [](std::string* s, uint32_t v) {
    for (int i = 3; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
  };
  auto chunk = [&](std::string* out, const char* type, const std::string& data) {
    be32(out, static_cast<uint32_t>(data.size()));
    std::string td = std::string(type, 4) + data;
    out->append(td);
    be32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size()))));
  };
  std::string raw;  // [h, 1 + 3w] u8: filter byte 0 + RGB rows
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    for (int x = 0; x < w; ++x) {
      raw.push_back(static_cast<char>((x * 7 + seed * 31) & 255));
      raw.push_back(static_cast<char>((y * 5 + seed * 17) & 255));
      raw.push_back(static_cast<char>((x * y + seed) & 255));
    }
  }
  uLongf zn = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zn, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &zn, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()));
  z.resize(zn);
  std::string ihdr;
  be32(&ihdr, static_cast<uint32_t>(w));
  be32(&ihdr, static_cast<uint32_t>(h));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  std::string png = "\x89PNG\r\n\x1a\n";
  chunk(&png, "IHDR", ihdr);
  chunk(&png, "IDAT", z);
  chunk(&png, "IEND", "");
  return png;
}


double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace ocular::testing
