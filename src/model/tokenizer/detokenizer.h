// IncrementalDetokenizer: turns a stream of token ids into text chunks for streaming output.
//
// * Text is emitted only once it is final: a multi-byte UTF-8 character split across tokens is
//   held until complete; ill-formed bytes are emitted as U+FFFD as soon as they are known to be
//   ill-formed (maximal subparts, as in Tokenizer::Decode).
// * Stop strings are matched in the decoded text across token boundaries. Text that could be
//   the start of a stop string is held back; when a stop string appears, the text before it is
//   emitted, the match is reported and the stop string itself is never emitted.
// * Without a stop, the concatenation of every chunk (including Finish) equals
//   Tokenizer::Decode of all ids with the same skip_special_tokens setting.
//
// Thread-safety: one instance per stream (not synchronised); it only reads the Tokenizer,
// which must outlive it. Copyable (a copy continues independently).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/tokenizer/tokenizer.h"

namespace ocular::tokenizer {

struct DetokenizerOptions {
  bool skip_special_tokens = false;
  std::vector<std::string> stop_strings;  // empty or ill-formed UTF-8 ones are ignored
};

struct StreamChunk {
  std::string text;     // newly final text (may be empty)
  bool stopped = false; // a stop string matched in this step; `text` ends right before it
  int stop_index = -1;  // index into DetokenizerOptions::stop_strings when stopped
};

class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(const Tokenizer& tokenizer, DetokenizerOptions options);

  // Feeds one id. InvalidArgument for ids that are not tokens (nothing is consumed). After a
  // stop, further ids are ignored and produce empty chunks.
  Result<StreamChunk> Add(int32_t id);
  // End of stream: flushes an incomplete character as U+FFFD and releases held-back text
  // (a stop string can still match here). Idempotent.
  StreamChunk Finish();

  bool stopped() const { return stopped_; }

 private:
  // Moves what is final from held_ to the chunk. `final`: the stream has ended.
  void Release(bool final, StreamChunk* chunk);
  // Length of the longest suffix of held_ that is a proper prefix of some stop string.
  size_t HeldStopPrefixLength() const;

  const Tokenizer* tokenizer_;
  DetokenizerOptions options_;
  std::string pending_bytes_;  // <= 3 bytes: a valid prefix of an incomplete character
  std::string held_;           // decoded text not yet emitted
  bool stopped_ = false;
};

}  // namespace ocular::tokenizer
