#include "model/chat/utf8_util.h"

#include <utf8proc.h>

namespace ocular::chat::jinja {

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t CharLength(std::string_view s, size_t pos) {
  unsigned char c = static_cast<unsigned char>(s[pos]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || pos + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[pos + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

uint32_t DecodeChar(std::string_view s, size_t pos) {
  size_t n = CharLength(s, pos);
  unsigned char c = static_cast<unsigned char>(s[pos]);
  if (n == 1) return c < 0x80 ? c : 0xDC00u + c;
  uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  return cp;
}

std::vector<size_t> CharOffsets(std::string_view s) {
  std::vector<size_t> offsets;
  offsets.reserve(s.size() + 1);
  for (size_t pos = 0; pos < s.size(); pos += CharLength(s, pos)) offsets.push_back(pos);
  offsets.push_back(s.size());
  return offsets;
}

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size(); pos += CharLength(s, pos)) ++n;
  return n;
}

bool IsPyWhitespace(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E:
    case 0x1F: case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

template <typename Map>
std::string MapCase(std::string_view s, Map map, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    size_t n = CharLength(s, pos);
    uint32_t cp = DecodeChar(s, pos);
    if (n == 1 && cp >= 0x80) {
      out.push_back(s[pos]);  // invalid byte: keep as is
    } else if (upper && cp == 0xDF) {
      out += "SS";  // Python's full mapping of U+00DF
    } else if (!upper && cp == 0x130) {
      out += "i\xcc\x87";  // U+0130 -> i + combining dot above
    } else {
      AppendUtf8(static_cast<uint32_t>(map(static_cast<utf8proc_int32_t>(cp))), out);
    }
    pos += n;
  }
  return out;
}

}  // namespace

std::string ToLowerUtf8(std::string_view s) { return MapCase(s, utf8proc_tolower, false); }
std::string ToUpperUtf8(std::string_view s) { return MapCase(s, utf8proc_toupper, true); }

}  // namespace ocular::chat::jinja
