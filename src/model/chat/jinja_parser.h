// Recursive-descent parser for the Jinja subset, following Jinja2's grammar and operator
// precedence (filters and tests bind tighter than arithmetic; `x if c else y` is lowest).
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/chat/jinja_ast.h"
#include "model/chat/jinja_lexer.h"

namespace ocular::chat::jinja {

struct ParseOptions {
  int max_nesting = 128;  // nested blocks + nested expressions; bounds parser and evaluator stack
};

// Parses a token stream from Lex(). Errors name the template line.
Result<Body> Parse(const std::vector<Token>& tokens, const ParseOptions& options = {});

}  // namespace ocular::chat::jinja
