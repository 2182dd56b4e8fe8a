// Syntax tree of the Jinja subset. Built by the parser (jinja_parser.h), owned by a Template,
// walked by the interpreter. Nodes are plain tagged structs: the language is small and a
// visitor hierarchy would cost more code than it saves.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/chat/jinja_value.h"

namespace ocular::chat::jinja {

enum class ExprKind {
  kLiteral,   // literal; an Undefined literal stands for the body of a filter / set block
  kName,      // name
  kList,      // children = items
  kTuple,     // children = items
  kDict,      // children = key0, value0, key1, value1, ...
  kGetAttr,   // children[0] . name
  kGetItem,   // children[0] [ children[1] ]
  kSlice,     // children[0] [ children[1] : children[2] : children[3] ] (null = omitted)
  kCall,      // children[0] ( children[1..] , kwargs )
  kFilter,    // children[0] | name ( children[1..] , kwargs )
  kTest,      // children[0] is [not] name ( children[1..] )
  kUnary,     // op children[0]: "not", "-", "+"
  kBinary,    // children[0] op children[1]
  kCond,      // children[1] if children[0] else children[2] (children[2] may be null)
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  int line = 0;
  Value literal;
  std::string name;  // variable, attribute, filter, test or operator
  bool negate = false;
  int depth = 1;  // height of this subtree (bounded by the parser's nesting limit)
  std::vector<std::unique_ptr<Expr>> children;
  std::vector<std::pair<std::string, std::unique_ptr<Expr>>> kwargs;
};

enum class StmtKind {
  kText,      // text
  kEmit,      // {{ expr }}
  kIf,        // branches (cond, body), else_body
  kFor,       // targets in expr [if filter]: body [else else_body]
  kSet,       // targets = expr; or target.attr = expr
  kSetBlock,  // {% set target %}body{% endset %} (optional filter chain in expr)
  kMacro,     // {% macro name(params) %}body
  kCallBlock, // {% call(params) expr %}body
  kFilterBlock,  // {% filter f %}body  (expr is the filter chain applied to a placeholder)
  kBreak,
  kContinue,
  kBody,      // plain nested body ({% generation %})
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct MacroParam {
  std::string name;
  std::unique_ptr<Expr> default_value;  // may be null
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;                  // kText; macro name; set attribute
  std::unique_ptr<Expr> expr;        // emitted / assigned / iterated / called expression
  std::unique_ptr<Expr> filter;      // for-loop filter condition
  std::vector<std::string> targets;  // for / set targets (several = unpacking)
  std::vector<std::pair<std::unique_ptr<Expr>, Body>> branches;  // if / elif
  Body body;
  Body else_body;
  std::vector<MacroParam> params;
};

}  // namespace ocular::chat::jinja
