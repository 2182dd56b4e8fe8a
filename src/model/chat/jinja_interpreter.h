// Tree-walking evaluator for the Jinja subset (internal to the chat library; use Template).
// One Interpreter renders one template once; it owns the scope chain, the output buffer and
// the budget counters that bound the render.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/chat/jinja_ast.h"
#include "model/chat/jinja_template.h"
#include "model/chat/jinja_value.h"

namespace ocular::chat::jinja {

// Evaluated call arguments.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;

  // Positional argument `i`, else keyword `name`, else nullptr.
  const Value* Get(size_t i, std::string_view name) const;
  const Value* Kw(std::string_view name) const;
};

class Interpreter {
 public:
  explicit Interpreter(const Limits& limits) : limits_(limits) {}

  Result<std::string> Run(const Body& body, const Value& globals);

  // Budget accounting used by builtins.
  const Limits& limits() const { return limits_; }
  // Charges `bytes` of newly built data against max_alloc_bytes.
  Status Charge(uint64_t bytes);
  // A new string value after checking max_string_bytes and charging it.
  Result<Value> MakeString(std::string s);
  Status CountIteration();

  // Calls anything callable (macro, caller block, global, bound method).
  Result<Value> CallValue(const Value& callee, CallArgs args);
  // Filters and tests by name (also used by map/select filters).
  Result<Value> Filter(std::string_view name, const Value& input, const CallArgs& args);
  Result<bool> Test(std::string_view name, const Value& input, const CallArgs& args);
  // Attribute / item access with Jinja's fallbacks.
  Result<Value> GetAttr(const Value& object, std::string_view name);
  Result<Value> GetItem(const Value& object, const Value& key);

 private:
  struct Frame {
    std::vector<std::pair<std::string, Value>> vars;
    Frame* parent = nullptr;
    Value* Find(std::string_view name);
    void Set(std::string_view name, Value value);
  };
  enum class Flow { kNormal, kBreak, kContinue };

  class DepthGuard;

  Status Exec(const Body& body);
  Status ExecStmt(const Stmt& stmt);
  Status ExecFor(const Stmt& stmt);
  Status ExecSet(const Stmt& stmt);
  Status Emit(const Value& value);
  Result<Value> Eval(const Expr& expr);
  Result<Value> EvalBinary(const Expr& expr);
  Result<Value> EvalCall(const Expr& expr);
  Result<CallArgs> EvalArgs(const Expr& expr, size_t first);
  Result<Value> Lookup(std::string_view name);
  Result<Value> CallMacro(const Stmt& macro, CallArgs args, const Value* caller);
  Result<Value> CallCaller(const Stmt& call_block, CallArgs args);
  Result<std::string> RenderBody(const Body& body, Frame* frame);
  Status WithLine(const Status& status, int line) const;

  Limits limits_;
  int64_t steps_ = 0;
  int64_t iterations_ = 0;
  int64_t allocated_ = 0;
  int eval_depth_ = 0;
  int call_depth_ = 0;
  int loop_depth_ = 0;
  Flow flow_ = Flow::kNormal;
  Frame* root_ = nullptr;
  Frame* frame_ = nullptr;
  std::string* out_ = nullptr;
  Value block_input_;  // body text of the enclosing filter / set block
};

}  // namespace ocular::chat::jinja
