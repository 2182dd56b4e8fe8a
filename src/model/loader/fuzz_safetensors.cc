// libFuzzer target: ParseSafetensors on arbitrary bytes. On success every tensor's range is
// touched, so a range outside the input shows up as an ASan report.
#include <cstddef>
#include <cstdint>

#include "model/loader/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ocular::loader::ParseSafetensors(std::span<const uint8_t>(data, size));
  if (!r.ok()) return 0;
  volatile uint8_t sink = 0;
  for (const auto& t : r->tensors) {
    if (t.size_bytes > 0) sink = sink ^ t.data[0] ^ t.data[t.size_bytes - 1];
    (void)t.AsShape();
    (void)t.ShapeString();
  }
  return 0;
}
