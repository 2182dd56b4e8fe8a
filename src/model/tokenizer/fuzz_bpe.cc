// libFuzzer: encode / decode / incremental detokenizer on arbitrary bytes with a small vocab.
// Invariants: encoding round-trips bytes exactly (normalizer off); decode never fails on ids
// from encode; streamed chunks are valid UTF-8 and concatenate to Decode (or, on a stop, to
// the text before the stop string's occurrence in Decode).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "model/tokenizer/detokenizer.h"
#include "model/tokenizer/test_vocab.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"

namespace {

using namespace ocular::tokenizer;

const Tokenizer& Raw() {
  static const Tokenizer t = [] {
    TokenizerSpec spec = testing::SmallVocabSpec();
    spec.nfc = false;
    return Tokenizer::Create(std::move(spec), {.word_cache_entries = 512}).value();
  }();
  return t;
}

const Tokenizer& Nfc() {
  static const Tokenizer t = Tokenizer::Create(testing::SmallVocabSpec(), {.word_cache_entries = 512}).value();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  // 1. Byte-exact round trip without normalization; with NFC, decode must still succeed.
  std::string bytes;
  CHECK(Raw().AppendBytes(Raw().Encode(input, {.parse_special = (mode & 1) != 0}), false, &bytes).ok());
  CHECK(bytes == input) << "bytes did not round-trip";
  const std::vector<int32_t> nfc_ids = Nfc().Encode(input);
  CHECK(Nfc().Decode(nfc_ids).ok());

  // 2. Arbitrary ids (two input bytes each) through Decode and the streaming detokenizer.
  const Tokenizer& t = Nfc();
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < input.size(); i += 2) {
    ids.push_back(static_cast<int32_t>((static_cast<uint8_t>(input[i]) << 8 | static_cast<uint8_t>(input[i + 1])) %
                                       static_cast<uint32_t>(t.size())));
  }
  const bool skip = (mode & 2) != 0;
  const std::string full = t.Decode(ids, {.skip_special_tokens = skip}).value();
  CHECK(IsValidUtf8(full));
  DetokenizerOptions options{.skip_special_tokens = skip};
  if ((mode & 4) != 0 && input.size() >= 2) {
    // A stop string taken from the decoded text (often matches) and one from raw input.
    if (!full.empty()) options.stop_strings.push_back(full.substr(full.size() / 2, 1 + mode % 5));
    options.stop_strings.emplace_back(input.substr(0, 1 + mode % 3));
  }
  IncrementalDetokenizer d(t, options);
  std::string streamed;
  bool stopped = false;
  for (int32_t id : ids) {
    StreamChunk c = d.Add(id).value();
    CHECK(IsValidUtf8(c.text));
    streamed += c.text;
    stopped |= c.stopped;
  }
  StreamChunk last = d.Finish();
  streamed += last.text;
  stopped |= last.stopped;
  if (!stopped) {
    CHECK(streamed == full) << "streamed text differs from Decode";
  } else {
    CHECK(full.compare(0, streamed.size(), streamed) == 0) << "streamed text is not a prefix";
  }
  return 0;
}
