#include "model/tokenizer/utf8.h"

#include "base/check.h"

namespace ocular::tokenizer {

Utf8Step NextUtf8Step(std::string_view s) {
  DCHECK(!s.empty());
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return {Utf8Step::kValid, 1, b0};
  // Expected length and the allowed range of the second byte (Unicode Table 3-7), which
  // excludes overlong forms, surrogates and code points above U+10FFFF.
  int need;
  uint8_t lo = 0x80, hi = 0xBF;
  char32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {Utf8Step::kInvalid, 1, 0};  // continuation byte, C0/C1 or F5..FF
  }
  for (int i = 1; i < need; ++i) {
    if (static_cast<size_t>(i) >= s.size()) {
      return {Utf8Step::kIncomplete, static_cast<uint8_t>(i), 0};
    }
    const auto b = static_cast<uint8_t>(s[i]);
    const uint8_t min = i == 1 ? lo : 0x80;
    const uint8_t max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return {Utf8Step::kInvalid, static_cast<uint8_t>(i), 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {Utf8Step::kValid, static_cast<uint8_t>(need), cp};
}

size_t ValidUtf8PrefixLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const Utf8Step step = NextUtf8Step(s.substr(i));
    if (step.kind != Utf8Step::kValid) return i;
    i += step.length;
  }
  return s.size();
}

void AppendLossyUtf8(std::string_view bytes, std::string* out) {
  const size_t used = AppendLossyUtf8Prefix(bytes, out);
  if (used < bytes.size()) out->append(kReplacementChar);
}

size_t AppendLossyUtf8Prefix(std::string_view bytes, std::string* out) {
  size_t i = 0;
  size_t run_start = 0;  // start of the current run of valid bytes, copied in one go
  while (i < bytes.size()) {
    if (static_cast<uint8_t>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Step step = NextUtf8Step(bytes.substr(i));
    if (step.kind == Utf8Step::kValid) {
      i += step.length;
      continue;
    }
    out->append(bytes.substr(run_start, i - run_start));
    if (step.kind == Utf8Step::kIncomplete) return i;
    out->append(kReplacementChar);
    i += step.length;
    run_start = i;
  }
  out->append(bytes.substr(run_start, i - run_start));
  return i;
}

void AppendUtf8(char32_t cp, std::string* out) {
  CHECK(cp < 0x110000 && (cp < 0xD800 || cp > 0xDFFF)) << "not a Unicode scalar value";
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace ocular::tokenizer
