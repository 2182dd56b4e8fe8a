// UTF-8 helpers for the tokenizer: strict validation (no overlong forms, no surrogates, nothing
// above U+10FFFF) and lossy decoding that replaces each *maximal subpart* of an ill-formed
// sequence with one U+FFFD (Unicode 15 §3.9 "U+FFFD substitution of maximal subparts", the
// WHATWG / Python errors="replace" rule), e.g. `E4 BD 41` -> `\uFFFD A`, `C0 80` -> two U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ocular::tokenizer {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Result of looking at the bytes starting at some position.
struct Utf8Step {
  enum Kind : uint8_t {
    kValid,       // a complete well-formed character of `length` bytes
    kInvalid,     // an ill-formed maximal subpart of `length` (>= 1) bytes: one U+FFFD
    kIncomplete,  // all remaining bytes (`length`) are a valid prefix of a longer character
  };
  Kind kind;
  uint8_t length;
  char32_t code_point;  // valid only for kValid
};

// Classifies the bytes at the start of `s` (must be non-empty).
Utf8Step NextUtf8Step(std::string_view s);

// Length of the longest prefix of `s` that is well-formed UTF-8.
size_t ValidUtf8PrefixLength(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return ValidUtf8PrefixLength(s) == s.size(); }

// Appends `bytes` decoded lossily (an incomplete trailing sequence becomes one U+FFFD).
void AppendLossyUtf8(std::string_view bytes, std::string* out);
inline std::string LossyUtf8(std::string_view bytes) {
  std::string out;
  AppendLossyUtf8(bytes, &out);
  return out;
}

// Streaming form: decodes the longest prefix of `bytes` whose decoding cannot change when more
// bytes are appended, appends it to `out` and returns how many bytes were consumed. The rest
// (at most 3 bytes) is a valid-so-far prefix of a multi-byte character.
size_t AppendLossyUtf8Prefix(std::string_view bytes, std::string* out);

// Appends the UTF-8 encoding of `cp` (CHECKs that it is a scalar value).
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace ocular::tokenizer
