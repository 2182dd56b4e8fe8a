#include "model/tokenizer/added_tokens.h"

#include <utf8proc.h>

#include <algorithm>

#include "model/tokenizer/utf8.h"

namespace ocular::tokenizer {

namespace {

// The code point ending just before `pos` (0 when none or ill-formed) and its length.
char32_t CodePointBefore(std::string_view text, size_t pos, size_t* length) {
  *length = 0;
  size_t start = pos;
  while (start > 0 && pos - start < 4) {
    --start;
    if ((static_cast<uint8_t>(text[start]) & 0xC0) != 0x80) break;
  }
  if (start == pos) return 0;
  const Utf8Step step = NextUtf8Step(text.substr(start, pos - start));
  if (step.kind != Utf8Step::kValid || step.length != pos - start) return 0;
  *length = step.length;
  return step.code_point;
}

char32_t CodePointAt(std::string_view text, size_t pos, size_t* length) {
  *length = 0;
  if (pos >= text.size()) return 0;
  const Utf8Step step = NextUtf8Step(text.substr(pos));
  *length = step.length;
  return step.kind == Utf8Step::kValid ? step.code_point : 0;
}

bool IsWhitespace(char32_t cp) {
  if (cp == 0) return false;
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85) return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
         cat == UTF8PROC_CATEGORY_ZP;
}

bool IsWordChar(char32_t cp) {
  if (cp == 0) return false;
  if (cp == '_') return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  std::stable_sort(tokens_.begin(), tokens_.end(), [](const AddedToken& a, const AddedToken& b) {
    return a.content.size() > b.content.size();
  });
  for (const AddedToken& t : tokens_) {
    if (!t.content.empty()) first_byte_[static_cast<uint8_t>(t.content[0])] = true;
  }
}

int AddedTokenMatcher::MatchAt(std::string_view text, size_t pos, bool allow_special) const {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.special && !allow_special) continue;
    if (t.content.empty() || text.size() - pos < t.content.size()) continue;
    if (text.compare(pos, t.content.size(), t.content) != 0) continue;
    if (t.single_word) {
      size_t len;
      if (IsWordChar(CodePointBefore(text, pos, &len))) continue;
      if (IsWordChar(CodePointAt(text, pos + t.content.size(), &len))) continue;
    }
    return static_cast<int>(i);
  }
  return -1;
}

void AddedTokenMatcher::Split(std::string_view text, bool allow_special,
                              std::vector<AddedSplit>* out) const {
  size_t plain_start = 0;  // start of the pending plain-text span
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    const int k = MatchAt(text, pos, allow_special);
    if (k < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[k];
    size_t start = pos;
    size_t end = pos + t.content.size();
    if (t.lstrip) {
      size_t len;
      while (start > plain_start && IsWhitespace(CodePointBefore(text, start, &len)) &&
             start - len >= plain_start) {
        start -= len;
      }
    }
    if (t.rstrip) {
      while (end < text.size()) {
        size_t len;
        const char32_t cp = CodePointAt(text, end, &len);
        if (!IsWhitespace(cp)) break;
        end += len;
      }
    }
    if (start > plain_start) out->push_back({text.substr(plain_start, start - plain_start), -1});
    out->push_back({text.substr(start, end - start), t.id});
    pos = end;
    plain_start = end;
  }
  if (plain_start < text.size()) out->push_back({text.substr(plain_start), -1});
}

}  // namespace ocular::tokenizer
