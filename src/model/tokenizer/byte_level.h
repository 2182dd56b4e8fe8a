// The GPT-2 "byte-level" alphabet: every byte 0..255 is spelled as one printable Unicode
// character in vocab strings (bytes `!`..`~`, `¡`..`¬`, `®`..`ÿ` map to themselves, the other 68
// bytes to U+0100.. in byte order; e.g. space -> `Ġ` U+0120, newline -> `Ċ` U+010A).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace ocular::tokenizer {

class ByteLevelAlphabet {
 public:
  ByteLevelAlphabet();

  // The code point spelling byte `b`.
  char32_t CharForByte(uint8_t b) const { return byte_to_char_[b]; }
  // The byte spelled by `cp`, or -1 when `cp` is not in the alphabet.
  int ByteForChar(char32_t cp) const { return cp < 324 ? char_to_byte_[cp] : -1; }

  // Raw bytes -> vocab spelling.
  std::string Encode(std::string_view bytes) const;
  // Vocab spelling -> raw bytes; nullopt when `text` is not valid UTF-8 or contains a character
  // outside the alphabet (such a vocab entry can never be produced from bytes).
  std::optional<std::string> Decode(std::string_view text) const;

 private:
  std::array<char32_t, 256> byte_to_char_;
  std::array<int16_t, 324> char_to_byte_;  // the alphabet lies in U+0021..U+0143
};

}  // namespace ocular::tokenizer
