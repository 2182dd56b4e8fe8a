// Small UTF-8 helpers: Python strings index by code point, templates by bytes.
// Invalid bytes are treated as one "character" each so every byte string has a consistent
// character split (templates and data may contain anything).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ocular::chat::jinja {

// Appends the UTF-8 encoding of `cp` (values above 0x10FFFF are written as U+FFFD).
void AppendUtf8(uint32_t cp, std::string& out);

// Byte length of the character starting at s[pos] (1 for invalid bytes).
size_t CharLength(std::string_view s, size_t pos);

// Decodes the character at s[pos]; invalid bytes decode to 0xDC00 + byte (never valid output).
uint32_t DecodeChar(std::string_view s, size_t pos);

// Byte offsets of every character start, plus s.size() at the end.
std::vector<size_t> CharOffsets(std::string_view s);

// Number of characters.
size_t CharCount(std::string_view s);

// Python str.isspace() for one code point.
bool IsPyWhitespace(uint32_t cp);

// Simple (one-to-one) case mapping of a whole string, like Python's lower()/upper() for the
// common case.
std::string ToLowerUtf8(std::string_view s);
std::string ToUpperUtf8(std::string_view s);

}  // namespace ocular::chat::jinja
