#include "model/tokenizer/byte_level.h"

#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {

ByteLevelAlphabet::ByteLevelAlphabet() {
  char_to_byte_.fill(-1);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
    byte_to_char_[b] = cp;
    char_to_byte_[cp] = static_cast<int16_t>(b);
  }
}

std::string ByteLevelAlphabet::Encode(std::string_view bytes) const {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(byte_to_char_[static_cast<uint8_t>(c)], &out);
  return out;
}

std::optional<std::string> ByteLevelAlphabet::Decode(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const Utf8Step step = NextUtf8Step(text.substr(i));
    if (step.kind != Utf8Step::kValid) return std::nullopt;
    const int b = ByteForChar(step.code_point);
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
    i += step.length;
  }
  return out;
}

}  // namespace ocular::tokenizer
