// libFuzzer target: ParseGguf on arbitrary bytes. On success every tensor's range is touched
// and every metadata value goes through the typed getters.
#include <cstddef>
#include <cstdint>

#include "model/loader/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ocular::loader::ParseGguf(std::span<const uint8_t>(data, size));
  if (!r.ok()) return 0;
  volatile uint8_t sink = 0;
  for (const auto& t : r->tensors()) {
    sink = sink ^ t.data[0] ^ t.data[t.size_bytes - 1];
    (void)t.View();
  }
  for (const auto& [key, value] : r->metadata()) {
    (void)r->GetU32(key);
    (void)r->GetF32(key);
    (void)r->GetString(key);
    (void)value.ToI64Array();
    (void)value.ToF32Array();
    (void)value.ToBoolArray();
    if (value.is_array() && value.array_size() > 0) (void)value.ArrayElement(0);
  }
  return 0;
}
