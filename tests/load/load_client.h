// The load suite's client: one chat completion over a keep-alive connection, streamed or
// not, with what the checks need (status, Retry-After, SSE completeness, time to first data).
#pragma once

#include <httplib.h>

#include <string>

#include <nlohmann/json.hpp>

#include "base/base64.h"

namespace ocular::testing {

struct Exchange {
  int status = -1;          // -1: no response (connection failed or reset)
  std::string retry_after;  // the Retry-After header of a 429
  std::string body;         // whole body (SSE text when streamed)
  double ttft_ms = -1;      // first `data: {` event, streamed requests only
  bool done = false;        // streamed: `data: [DONE]` was the last event
  bool malformed = false;   // streamed: an event that is neither JSON nor [DONE]
  std::string finish_reason;  // last non-null finish_reason seen
  int completion_tokens = -1;  // usage.completion_tokens (streamed: from include_usage)
};

// Sends `request` (stream forced from the field) on `client`. cancel_after_first: hang up
// after the first data event (a client disconnect mid-stream).
Exchange ChatCompletion(httplib::Client& client, const nlohmann::json& request, bool cancel_after_first = false);

// A small valid RGB PNG of `w` x `h` whose pixels depend on `seed` (zlib-compressed rows).
std::string MakePng(int w, int h, int seed);

// Percentile (0..100) of `v` by nearest rank; NaN when empty.
double Percentile(std::vector<double> v, double p);

}  // namespace ocular::testing
