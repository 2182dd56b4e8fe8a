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

// True for code points with NFC_Quick_Check = Yes and canonical combining class 0 in ranges
// verified by hand against the Unicode data (conservative: false means "let utf8proc decide").
// Such a character starts a normalization boundary: NFC never combines it with what precedes
// it (UAX #15 §9), so text can be normalized piecewise between such characters.
bool IsBoundaryStarter(char32_t cp) {
  if (cp < 0x300) return true;
  if (cp < 0x400) return false;                      // Greek etc.: singletons, marks
  if (cp <= 0x482) return true;                      // Cyrillic letters
  if (cp < 0x48A) return false;                      // Cyrillic combining marks
  if (cp <= 0x4FF) return true;
  if (cp < 0x2002) return false;
  if (cp <= 0x206F) return true;                     // general punctuation (not 2000/2001)
  if (cp >= 0x2190 && cp <= 0x22FF) return true;     // arrows, math operators
  if (cp >= 0x2500 && cp <= 0x27BF) return true;     // box drawing, shapes, dingbats
  if (cp >= 0x3000 && cp <= 0x3029) return true;     // CJK punctuation (302A-302F are marks)
  if (cp >= 0x3030 && cp <= 0x303F) return true;
  if (cp >= 0x3041 && cp <= 0x3096) return true;     // hiragana (3099/309A are marks)
  if (cp >= 0x30A0 && cp <= 0x30FF) return true;     // katakana
  if (cp >= 0x3400 && cp <= 0x4DBF) return true;     // CJK extension A
  if (cp >= 0x4E00 && cp <= 0x9FFF) return true;     // CJK unified ideographs
  if (cp >= 0xAC00 && cp <= 0xD7A3) return true;     // Hangul syllables
  if (cp >= 0xFF01 && cp <= 0xFFEF) return true;     // half/fullwidth forms
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return true;   // emoji and symbols
  return false;
}

}  // namespace

void AppendNfc(std::string_view text, std::string* out) {
  size_t pos = 0;
  size_t piece = 0;         // start of the current piece (begins at a boundary starter)
  bool piece_safe = true;   // the piece holds only boundary starters: NFC leaves it alone
  auto flush = [&](size_t end) {
    if (end <= piece) return;
    if (piece_safe) {
      out->append(text.substr(piece, end - piece));
    } else {
      AppendNfcValid(text.substr(piece, end - piece), out);
    }
  };
  while (pos < text.size()) {
    const auto b = static_cast<uint8_t>(text[pos]);
    if (b < 0x80) {  // ASCII is a boundary starter; the piece continues safely
      if (!piece_safe) {
        flush(pos);
        piece = pos;
        piece_safe = true;
      }
      ++pos;
      continue;
    }
    const Utf8Step step = NextUtf8Step(text.substr(pos));
    if (step.kind != Utf8Step::kValid) {
      // Ill-formed bytes are copied unchanged and end the piece on both sides.
      flush(pos);
      out->append(text.substr(pos, step.length));
      pos += step.length;
      piece = pos;
      piece_safe = true;
      continue;
    }
    if (IsBoundaryStarter(step.code_point)) {
      if (!piece_safe) {
        flush(pos);
        piece = pos;
        piece_safe = true;
      }
    } else if (piece_safe) {
      // The previous character (a starter) may compose with this one: the unsafe piece
      // starts there.
      size_t prev = pos;
      while (prev > piece && (static_cast<uint8_t>(text[prev - 1]) & 0xC0) == 0x80) --prev;
      if (prev > piece) --prev;
      flush(prev);
      piece = prev;
      piece_safe = false;
    }
    pos += step.length;
  }
  flush(pos);
}

}  // namespace ocular::tokenizer
