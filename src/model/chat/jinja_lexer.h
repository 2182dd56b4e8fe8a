// Lexer for the Jinja subset with HF's `apply_chat_template` settings: trim_blocks,
// lstrip_blocks, `-`/`+` whitespace control on tags, newlines normalised to "\n" and one trailing
// newline dropped (keep_trailing_newline=False), exactly as Jinja2's lexer does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ocular::chat::jinja {

enum class TokenType {
  kText,        // literal template text (whitespace control already applied)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // value holds the decoded string
  kInt,
  kFloat,
  kOp,          // value holds the operator, e.g. "==", "(", "|"
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string value;
  int line = 1;
  int64_t int_value = 0;
  double float_value = 0.0;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  size_t max_tokens = 1 << 20;
};

// Splits `source` into tokens. Errors carry the 1-based line number.
Result<std::vector<Token>> Lex(std::string_view source, const LexOptions& options = {});

}  // namespace ocular::chat::jinja
