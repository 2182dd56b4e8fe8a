#include "model/chat/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

namespace ocular::chat::jinja {
namespace {

using ExprPtr = std::unique_ptr<Expr>;

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const ParseOptions& options)
      : tokens_(tokens), options_(options) {}

  Result<Body> ParseTemplate() {
    std::string end;
    ASSIGN_OR_RETURN(Body body, ParseBody({}, &end));
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& Peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    return Peek(ahead).type == TokenType::kOp && Peek(ahead).value == op;
  }
  bool IsName(std::string_view name, size_t ahead = 0) const {
    return Peek(ahead).type == TokenType::kName && Peek(ahead).value == name;
  }
  bool SkipOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool SkipName(std::string_view name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }
  Status Error(std::string_view what) const {
    return InvalidArgument("template line " + std::to_string(Peek().line) + ": " +
                           std::string(what));
  }
  Status ExpectOp(std::string_view op) {
    if (!SkipOp(op)) return Error("expected '" + std::string(op) + "'");
    return OkStatus();
  }
  Status ExpectBlockEnd() {
    if (Peek().type != TokenType::kBlockEnd) return Error("expected end of tag");
    Next();
    return OkStatus();
  }
  Result<std::string> ExpectName() {
    if (Peek().type != TokenType::kName) return Error("expected a name");
    return Next().value;
  }

  // Nesting guard: every recursive production holds one while active.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser& p) : p_(p) { ++p_.depth_; }
    ~DepthGuard() { --p_.depth_; }
    bool exceeded() const { return p_.depth_ > p_.options_.max_nesting; }

   private:
    Parser& p_;
  };

  // Appends a child (may be null) and tracks the tree depth, so that no expression tree deeper
  // than the nesting limit is ever built (deep trees would also overflow the stack when
  // destroyed).
  void Adopt(Expr& parent, ExprPtr child) {
    if (child) parent.depth = std::max(parent.depth, child->depth + 1);
    parent.children.push_back(std::move(child));
  }
  Result<ExprPtr> Checked(ExprPtr node) {
    if (node->depth > options_.max_nesting) return Error("expression nests too deeply");
    return node;
  }

  ExprPtr NewExpr(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----
  Result<Body> ParseBody(std::initializer_list<std::string_view> ends, std::string* found_end) {
    DepthGuard guard(*this);
    if (guard.exceeded()) return Error("template nests too deeply");
    Body body;
    while (true) {
      const Token& t = Peek();
      if (t.type == TokenType::kEof) {
        if (ends.size() != 0) {
          return Error("unexpected end of template, expected '" +
                       std::string(*(ends.end() - 1)) + "'");
        }
        return body;
      }
      if (t.type == TokenType::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->text = t.value;
        body.push_back(std::move(s));
        Next();
        continue;
      }
      if (t.type == TokenType::kVarBegin) {
        int line = t.line;
        Next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kEmit;
        s->line = line;
        ASSIGN_OR_RETURN(s->expr, ParseTuple(true));
        if (Peek().type != TokenType::kVarEnd) return Error("expected '}}'");
        Next();
        body.push_back(std::move(s));
        continue;
      }
      if (t.type != TokenType::kBlockBegin) return Error("unexpected token");
      const Token& name = Peek(1);
      if (name.type != TokenType::kName) return Error("expected a tag name");
      for (std::string_view end : ends) {
        if (name.value == end) {
          Next();
          Next();
          *found_end = name.value;
          return body;
        }
      }
      Next();
      ASSIGN_OR_RETURN(auto stmt, ParseStatement());
      body.push_back(std::move(stmt));
    }
  }

  Result<std::unique_ptr<Stmt>> ParseStatement() {
    const Token& kw = Next();
    auto s = std::make_unique<Stmt>();
    s->line = kw.line;
    std::string end;
    if (kw.value == "if") {
      s->kind = StmtKind::kIf;
      while (true) {
        ASSIGN_OR_RETURN(ExprPtr cond, ParseExpression(true));
        RETURN_IF_ERROR(ExpectBlockEnd());
        ASSIGN_OR_RETURN(Body body, ParseBody({"elif", "else", "endif"}, &end));
        s->branches.emplace_back(std::move(cond), std::move(body));
        if (end == "elif") continue;
        if (end == "else") {
          RETURN_IF_ERROR(ExpectBlockEnd());
          ASSIGN_OR_RETURN(s->else_body, ParseBody({"endif"}, &end));
        }
        break;
      }
      RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (kw.value == "for") {
      s->kind = StmtKind::kFor;
      ASSIGN_OR_RETURN(s->targets, ParseTargets());
      if (!SkipName("in")) return Error("expected 'in'");
      ASSIGN_OR_RETURN(s->expr, ParseTuple(false));
      if (SkipName("if")) {
        ASSIGN_OR_RETURN(s->filter, ParseExpression(true));
      }
      if (IsName("recursive")) return Error("recursive loops are not supported");
      RETURN_IF_ERROR(ExpectBlockEnd());
      ASSIGN_OR_RETURN(s->body, ParseBody({"else", "endfor"}, &end));
      if (end == "else") {
        RETURN_IF_ERROR(ExpectBlockEnd());
        ASSIGN_OR_RETURN(s->else_body, ParseBody({"endfor"}, &end));
      }
      RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (kw.value == "set") {
      ASSIGN_OR_RETURN(std::string first, ExpectName());
      s->targets.push_back(first);
      if (SkipOp(".")) {
        ASSIGN_OR_RETURN(s->text, ExpectName());  // namespace attribute
      } else {
        while (SkipOp(",")) {
          ASSIGN_OR_RETURN(std::string more, ExpectName());
          s->targets.push_back(more);
        }
      }
      if (SkipOp("=")) {
        s->kind = StmtKind::kSet;
        ASSIGN_OR_RETURN(s->expr, ParseTuple(true));
        RETURN_IF_ERROR(ExpectBlockEnd());
      } else {
        if (s->targets.size() != 1 || !s->text.empty()) return Error("bad block set target");
        s->kind = StmtKind::kSetBlock;
        if (IsOp("|")) {
          ASSIGN_OR_RETURN(s->expr, ParseFilterExpr(NewExpr(ExprKind::kLiteral, s->line)));
        }
        RETURN_IF_ERROR(ExpectBlockEnd());
        ASSIGN_OR_RETURN(s->body, ParseBody({"endset"}, &end));
        RETURN_IF_ERROR(ExpectBlockEnd());
      }
    } else if (kw.value == "macro" || kw.value == "call") {
      bool is_macro = kw.value == "macro";
      s->kind = is_macro ? StmtKind::kMacro : StmtKind::kCallBlock;
      if (is_macro) {
        ASSIGN_OR_RETURN(s->text, ExpectName());
        RETURN_IF_ERROR(ExpectOp("("));
        RETURN_IF_ERROR(ParseParams(*s));
      } else if (SkipOp("(")) {
        RETURN_IF_ERROR(ParseParams(*s));
      }
      if (!is_macro) {
        ASSIGN_OR_RETURN(s->expr, ParseExpression(true));
        if (s->expr->kind != ExprKind::kCall) return Error("call block needs a call expression");
      }
      RETURN_IF_ERROR(ExpectBlockEnd());
      ASSIGN_OR_RETURN(s->body, ParseBody({is_macro ? "endmacro" : "endcall"}, &end));
      if (Peek().type == TokenType::kName) Next();  // optional name after endmacro
      RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (kw.value == "filter") {
      s->kind = StmtKind::kFilterBlock;
      ExprPtr placeholder = NewExpr(ExprKind::kLiteral, s->line);
      ASSIGN_OR_RETURN(s->expr, ParseFilterChain(std::move(placeholder)));
      RETURN_IF_ERROR(ExpectBlockEnd());
      ASSIGN_OR_RETURN(s->body, ParseBody({"endfilter"}, &end));
      RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (kw.value == "break" || kw.value == "continue") {
      s->kind = kw.value == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (kw.value == "generation") {
      // HF's AssistantTracker extension: renders its body unchanged.
      s->kind = StmtKind::kBody;
      RETURN_IF_ERROR(ExpectBlockEnd());
      ASSIGN_OR_RETURN(s->body, ParseBody({"endgeneration"}, &end));
      RETURN_IF_ERROR(ExpectBlockEnd());
    } else {
      return InvalidArgument("template line " + std::to_string(kw.line) +
                             ": unsupported or unknown tag");
    }
    return s;
  }

  Result<std::vector<std::string>> ParseTargets() {
    std::vector<std::string> targets;
    bool paren = SkipOp("(");
    do {
      ASSIGN_OR_RETURN(std::string name, ExpectName());
      targets.push_back(std::move(name));
    } while (SkipOp(","));
    if (paren) RETURN_IF_ERROR(ExpectOp(")"));
    return targets;
  }

  Status ParseParams(Stmt& s) {
    while (!SkipOp(")")) {
      if (!s.params.empty()) RETURN_IF_ERROR(ExpectOp(","));
      if (SkipOp(")")) break;
      MacroParam p;
      ASSIGN_OR_RETURN(p.name, ExpectName());
      if (SkipOp("=")) {
        ASSIGN_OR_RETURN(p.default_value, ParseExpression(true));
      }
      s.params.push_back(std::move(p));
      if (s.params.size() > 64) return Error("too many macro parameters");
    }
    return OkStatus();
  }

  // ---- expressions ----
  Result<ExprPtr> ParseTuple(bool with_cond) {
    int line = Peek().line;
    std::vector<ExprPtr> items;
    bool trailing_comma = false;
    while (true) {
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(with_cond));
      items.push_back(std::move(e));
      trailing_comma = false;
      if (!SkipOp(",")) break;
      trailing_comma = true;
      TokenType tt = Peek().type;
      if (tt == TokenType::kVarEnd || tt == TokenType::kBlockEnd || IsOp(")") || IsName("if") ||
          IsName("in")) {
        break;
      }
    }
    if (items.size() == 1 && !trailing_comma) return std::move(items[0]);
    ExprPtr tuple = NewExpr(ExprKind::kTuple, line);
    tuple->children = std::move(items);
    return tuple;
  }

  Result<ExprPtr> ParseExpression(bool with_cond) {
    DepthGuard guard(*this);
    if (guard.exceeded()) return Error("expression nests too deeply");
    if (!with_cond) return ParseOr();
    ASSIGN_OR_RETURN(ExprPtr expr, ParseOr());
    while (IsName("if")) {
      int line = Next().line;
      ASSIGN_OR_RETURN(ExprPtr cond, ParseOr());
      ExprPtr otherwise;
      if (SkipName("else")) {
        ASSIGN_OR_RETURN(otherwise, ParseExpression(true));
      }
      ExprPtr node = NewExpr(ExprKind::kCond, line);
      Adopt(*node, std::move(cond));
      Adopt(*node, std::move(expr));
      Adopt(*node, std::move(otherwise));
      ASSIGN_OR_RETURN(expr, Checked(std::move(node)));
    }
    return expr;
  }

  Result<ExprPtr> Binary(std::string op, ExprPtr left, ExprPtr right, int line) {
    ExprPtr node = NewExpr(ExprKind::kBinary, line);
    node->name = std::move(op);
    Adopt(*node, std::move(left));
    Adopt(*node, std::move(right));
    return Checked(std::move(node));
  }

  Result<ExprPtr> ParseOr() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
    while (IsName("or")) {
      int line = Next().line;
      ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
      ASSIGN_OR_RETURN(left, Binary("or", std::move(left), std::move(right), line));
    }
    return left;
  }

  Result<ExprPtr> ParseAnd() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
    while (IsName("and")) {
      int line = Next().line;
      ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
      ASSIGN_OR_RETURN(left, Binary("and", std::move(left), std::move(right), line));
    }
    return left;
  }

  Result<ExprPtr> ParseNot() {
    if (IsName("not")) {
      DepthGuard guard(*this);
      if (guard.exceeded()) return Error("expression nests too deeply");
      int line = Next().line;
      ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
      ExprPtr node = NewExpr(ExprKind::kUnary, line);
      node->name = "not";
      Adopt(*node, std::move(operand));
      return node;
    }
    return ParseCompare();
  }

  Result<ExprPtr> ParseCompare() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseMath1());
    while (true) {
      int line = Peek().line;
      std::string op;
      if (Peek().type == TokenType::kOp &&
          (Peek().value == "==" || Peek().value == "!=" || Peek().value == "<" ||
           Peek().value == "<=" || Peek().value == ">" || Peek().value == ">=")) {
        op = Next().value;
      } else if (IsName("in")) {
        Next();
        op = "in";
      } else if (IsName("not") && IsName("in", 1)) {
        Next();
        Next();
        op = "not in";
      } else {
        return left;
      }
      ASSIGN_OR_RETURN(ExprPtr right, ParseMath1());
      ASSIGN_OR_RETURN(left, Binary(op, std::move(left), std::move(right), line));
    }
  }

  Result<ExprPtr> ParseMath1() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
    while (IsOp("+") || IsOp("-")) {
      const Token& t = Next();
      ASSIGN_OR_RETURN(ExprPtr right, ParseConcat());
      ASSIGN_OR_RETURN(left, Binary(t.value, std::move(left), std::move(right), t.line));
    }
    return left;
  }

  Result<ExprPtr> ParseConcat() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseMath2());
    while (IsOp("~")) {
      int line = Next().line;
      ASSIGN_OR_RETURN(ExprPtr right, ParseMath2());
      ASSIGN_OR_RETURN(left, Binary("~", std::move(left), std::move(right), line));
    }
    return left;
  }

  Result<ExprPtr> ParseMath2() {
    ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token& t = Next();
      ASSIGN_OR_RETURN(ExprPtr right, ParsePow());
      ASSIGN_OR_RETURN(left, Binary(t.value, std::move(left), std::move(right), t.line));
    }
    return left;
  }

  Result<ExprPtr> ParsePow() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
    while (IsOp("**")) {
      int line = Next().line;
      ASSIGN_OR_RETURN(ExprPtr right, ParseUnary(true));
      ASSIGN_OR_RETURN(left, Binary("**", std::move(left), std::move(right), line));
    }
    return left;
  }

  Result<ExprPtr> ParseUnary(bool with_filter) {
    DepthGuard guard(*this);
    if (guard.exceeded()) return Error("expression nests too deeply");
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      const Token& t = Next();
      ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
      node = NewExpr(ExprKind::kUnary, t.line);
      node->name = t.value;
      Adopt(*node, std::move(operand));
    } else {
      ASSIGN_OR_RETURN(node, ParsePrimary());
    }
    ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
    if (with_filter) {
      ASSIGN_OR_RETURN(node, ParseFilterExpr(std::move(node)));
    }
    return node;
  }

  Result<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    int line = t.line;
    if (t.type == TokenType::kName) {
      Next();
      ExprPtr node = NewExpr(ExprKind::kLiteral, line);
      if (t.value == "true" || t.value == "True") {
        node->literal = Value::Bool(true);
      } else if (t.value == "false" || t.value == "False") {
        node->literal = Value::Bool(false);
      } else if (t.value == "none" || t.value == "None") {
        node->literal = Value::None();
      } else {
        node->kind = ExprKind::kName;
        node->name = t.value;
      }
      return node;
    }
    if (t.type == TokenType::kString) {
      std::string s;
      while (Peek().type == TokenType::kString) s += Next().value;  // adjacent literals join
      ExprPtr node = NewExpr(ExprKind::kLiteral, line);
      node->literal = Value::String(std::move(s));
      return node;
    }
    if (t.type == TokenType::kInt || t.type == TokenType::kFloat) {
      Next();
      ExprPtr node = NewExpr(ExprKind::kLiteral, line);
      node->literal = t.type == TokenType::kInt ? Value::Int(t.int_value) : Value::Float(t.float_value);
      return node;
    }
    if (SkipOp("(")) {
      if (SkipOp(")")) return NewExpr(ExprKind::kTuple, line);
      ASSIGN_OR_RETURN(ExprPtr inner, ParseTuple(true));
      RETURN_IF_ERROR(ExpectOp(")"));
      return inner;
    }
    if (SkipOp("[")) {
      ExprPtr node = NewExpr(ExprKind::kList, line);
      while (!SkipOp("]")) {
        if (!node->children.empty()) {
          RETURN_IF_ERROR(ExpectOp(","));
          if (SkipOp("]")) break;
        }
        ASSIGN_OR_RETURN(ExprPtr item, ParseExpression(true));
        Adopt(*node, std::move(item));
      }
      return node;
    }
    if (SkipOp("{")) {
      ExprPtr node = NewExpr(ExprKind::kDict, line);
      while (!SkipOp("}")) {
        if (!node->children.empty()) {
          RETURN_IF_ERROR(ExpectOp(","));
          if (SkipOp("}")) break;
        }
        ASSIGN_OR_RETURN(ExprPtr key, ParseExpression(true));
        RETURN_IF_ERROR(ExpectOp(":"));
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
        Adopt(*node, std::move(key));
        Adopt(*node, std::move(value));
      }
      return node;
    }
    return Error("unexpected token in expression");
  }

  Result<ExprPtr> ParsePostfix(ExprPtr node) {
    while (true) {
      int line = Peek().line;
      if (SkipOp(".")) {
        if (Peek().type == TokenType::kInt) {
          ExprPtr index = NewExpr(ExprKind::kLiteral, line);
          index->literal = Value::Int(Next().int_value);
          ExprPtr item = NewExpr(ExprKind::kGetItem, line);
          Adopt(*item, std::move(node));
          Adopt(*item, std::move(index));
          ASSIGN_OR_RETURN(node, Checked(std::move(item)));
          continue;
        }
        ASSIGN_OR_RETURN(std::string attr, ExpectName());
        ExprPtr get = NewExpr(ExprKind::kGetAttr, line);
        get->name = std::move(attr);
        Adopt(*get, std::move(node));
        ASSIGN_OR_RETURN(node, Checked(std::move(get)));
      } else if (SkipOp("[")) {
        ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node), line));
      } else if (IsOp("(")) {
        ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  Result<ExprPtr> ParseSubscript(ExprPtr target, int line) {
    ExprPtr parts[3];
    int colons = 0;
    for (int i = 0; i < 3; ++i) {
      if (!IsOp(":") && !IsOp("]")) {
        ASSIGN_OR_RETURN(parts[i], ParseExpression(true));
      }
      if (i < 2 && SkipOp(":")) {
        ++colons;
        continue;
      }
      break;
    }
    RETURN_IF_ERROR(ExpectOp("]"));
    if (colons == 0) {
      if (!parts[0]) return Error("empty subscript");
      ExprPtr item = NewExpr(ExprKind::kGetItem, line);
      Adopt(*item, std::move(target));
      item->children.push_back(std::move(parts[0]));
      return Checked(std::move(item));
    }
    ExprPtr slice = NewExpr(ExprKind::kSlice, line);
    Adopt(*slice, std::move(target));
    for (auto& p : parts) Adopt(*slice, std::move(p));
    return Checked(std::move(slice));
  }

  // Parses "(args)" after a callee / filter / test into `node` (children after the first).
  Status ParseArgs(Expr& node) {
    RETURN_IF_ERROR(ExpectOp("("));
    bool first = true;
    while (!SkipOp(")")) {
      if (!first) {
        RETURN_IF_ERROR(ExpectOp(","));
        if (SkipOp(")")) break;
      }
      first = false;
      if (IsOp("*") || IsOp("**")) return Error("*args / **kwargs are not supported");
      if (Peek().type == TokenType::kName && IsOp("=", 1)) {
        std::string key = Next().value;
        Next();
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
        node.depth = std::max(node.depth, value->depth + 1);
        node.kwargs.emplace_back(std::move(key), std::move(value));
      } else {
        if (!node.kwargs.empty()) return Error("positional argument after keyword argument");
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
        Adopt(node, std::move(value));
      }
      if (node.children.size() + node.kwargs.size() > 256) return Error("too many arguments");
    }
    return OkStatus();
  }

  Result<ExprPtr> ParseCall(ExprPtr callee) {
    ExprPtr call = NewExpr(ExprKind::kCall, Peek().line);
    Adopt(*call, std::move(callee));
    RETURN_IF_ERROR(ParseArgs(*call));
    return Checked(std::move(call));
  }

  Result<ExprPtr> ParseOneFilter(ExprPtr input) {
    int line = Peek().line;
    ASSIGN_OR_RETURN(std::string name, ExpectName());
    while (SkipOp(".")) {
      ASSIGN_OR_RETURN(std::string more, ExpectName());
      name += "." + more;
    }
    ExprPtr filter = NewExpr(ExprKind::kFilter, line);
    filter->name = std::move(name);
    Adopt(*filter, std::move(input));
    if (IsOp("(")) RETURN_IF_ERROR(ParseArgs(*filter));
    return Checked(std::move(filter));
  }

  // `{% filter a | b %}`: a chain without a leading pipe.
  Result<ExprPtr> ParseFilterChain(ExprPtr input) {
    ASSIGN_OR_RETURN(ExprPtr node, ParseOneFilter(std::move(input)));
    while (SkipOp("|")) {
      ASSIGN_OR_RETURN(node, ParseOneFilter(std::move(node)));
    }
    return node;
  }

  Result<ExprPtr> ParseFilterExpr(ExprPtr node) {
    while (true) {
      if (SkipOp("|")) {
        ASSIGN_OR_RETURN(node, ParseOneFilter(std::move(node)));
      } else if (IsName("is")) {
        int line = Next().line;
        ExprPtr test = NewExpr(ExprKind::kTest, line);
        test->negate = SkipName("not");
        ASSIGN_OR_RETURN(test->name, ExpectName());
        Adopt(*test, std::move(node));
        const Token& t = Peek();
        if (IsOp("(")) {
          RETURN_IF_ERROR(ParseArgs(*test));
        } else if ((t.type == TokenType::kName && t.value != "else" && t.value != "or" &&
                    t.value != "and" && t.value != "if" && t.value != "in" &&
                    t.value != "not" && t.value != "is") ||
                   t.type == TokenType::kString || t.type == TokenType::kInt ||
                   t.type == TokenType::kFloat || IsOp("[") || IsOp("{")) {
          ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
          ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
          Adopt(*test, std::move(arg));
        }
        ASSIGN_OR_RETURN(node, Checked(std::move(test)));
      } else if (IsOp("(")) {
        ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  const std::vector<Token>& tokens_;
  ParseOptions options_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Body> Parse(const std::vector<Token>& tokens, const ParseOptions& options) {
  if (tokens.empty() || tokens.back().type != TokenType::kEof) {
    return InvalidArgument("template token stream is not terminated");
  }
  return Parser(tokens, options).ParseTemplate();
}

}  // namespace ocular::chat::jinja
