// libFuzzer: tokenizer.json-like input must load or fail with a Status (never crash, hang or
// leak); a tokenizer that loads must encode, decode and stream its own ids consistently.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"
#include "model/tokenizer/detokenizer.h"
#include "model/tokenizer/tokenizer_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ocular::tokenizer;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ocular::Result<Tokenizer> tok = LoadTokenizerJson(text, {.word_cache_entries = 256});
  if (!tok.ok()) return 0;
  // Encode a short sample (hostile pre-tokenizer regexes are bounded per match, so keep the
  // number of matches small) plus a fixed multilingual string.
  for (std::string_view sample : {text.substr(0, 128), std::string_view("Hi <|im_start|> 你好 \xFF 123")}) {
    const std::vector<int32_t> ids = tok->Encode(sample);
    ocular::Result<std::string> decoded = tok->Decode(ids);
    CHECK(decoded.ok()) << "Encode produced an id that is not a token";
    IncrementalDetokenizer detok(*tok, {});
    std::string streamed;
    for (int32_t id : ids) streamed += detok.Add(id).value().text;
    streamed += detok.Finish().text;
    CHECK(streamed == *decoded) << "streamed text differs from Decode";
  }
  return 0;
}
