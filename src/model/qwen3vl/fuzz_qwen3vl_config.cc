// libFuzzer target: config.json / preprocessor / generation config parsing, and the GGUF
// metadata -> ModelConfig -> weight map path. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "model/loader/gguf.h"
#include "model/qwen3vl/config.h"
#include "model/qwen3vl/preprocess_config.h"
#include "model/qwen3vl/weight_map.h"
#include "model/qwen3vl/weight_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ocular::qwen3vl;
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 5;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode) {
    case 0: {
      auto c = ParseHfConfig(text);
      if (c.ok() && ValidateConfig(*c).ok()) {
        (void)WeightSpecs(*c, WeightFormat::kHf);
        (void)WeightSpecs(*c, WeightFormat::kGguf);
        (void)ConfigToHfJson(*c);
      }
      break;
    }
    case 1: (void)ParseImagePreprocessConfig(text); break;
    case 2: (void)ParseVideoPreprocessConfig(text); break;
    case 3: (void)ParseGenerationConfig(text); break;
    case 4: {
      auto g = ocular::loader::ParseGguf(std::span<const uint8_t>(data + 1, size - 1));
      if (!g.ok()) break;
      auto c = ConfigFromGguf(*g, nullptr);
      if (c.ok()) (void)MapGgufWeights(*c, g->tensors(), {});
      break;
    }
  }
  return 0;
}
