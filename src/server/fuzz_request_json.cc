// libFuzzer: arbitrary bytes -> the chat/completions request parser and validator (no model;
// stage 1 of the builder). Must never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/chat_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ocular::server;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RequestLimits limits;
  auto body = ParseJsonBody(text, limits.json_max_depth);
  if (!body.ok()) return 0;
  auto chat = ParseChatRequest(*body, limits);
  if (!chat.ok()) (void)ErrorParam(chat.status());
  auto completion = ParseCompletionRequest(*body, limits);
  if (!completion.ok()) (void)ErrorParam(completion.status());
  return 0;
}
