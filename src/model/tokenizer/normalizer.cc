#include "model/tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {

bool IsTriviallyNfc(std::string_view text) {
  for (char c : text) {
    if (static_cast<uint8_t>(c) >= 0xCC) return false;
  }
  return true;
}

namespace {

void AppendNfcValid(std::string_view run, std::string* out) {
  if (IsTriviallyNfc(run)) {
    out->append(run);
    return;
  }
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                   static_cast<utf8proc_ssize_t>(run.size()), &result,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0 || result == nullptr) {
    out->append(run);  // cannot happen for well-formed input; keep the bytes
  } else {
    out->append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  }
  std::free(result);  // utf8proc allocates with malloc
}

}  // namespace

void AppendNfc(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t valid = ValidUtf8PrefixLength(text.substr(pos));
    if (valid > 0) {
      AppendNfcValid(text.substr(pos, valid), out);
      pos += valid;
    }
    if (pos >= text.size()) break;
    // Copy the ill-formed subpart unchanged.
    const Utf8Step step = NextUtf8Step(text.substr(pos));
    out->append(text.substr(pos, step.length));
    pos += step.length;
  }
}

}  // namespace ocular::tokenizer
