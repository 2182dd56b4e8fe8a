#include "model/chat/jinja_interpreter.h"

#include <algorithm>

#include "model/chat/jinja_builtins.h"
#include "model/chat/jinja_lexer.h"
#include "model/chat/jinja_parser.h"
#include "model/chat/jinja_value_ops.h"
#include "model/chat/utf8_util.h"

namespace ocular::chat::jinja {

const Value* CallArgs::Get(size_t i, std::string_view name) const {
  if (i < args.size()) return &args[i];
  return Kw(name);
}

const Value* CallArgs::Kw(std::string_view name) const {
  for (const auto& [k, v] : kwargs) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value* Interpreter::Frame::Find(std::string_view name) {
  for (auto& [k, v] : vars) {
    if (k == name) return &v;
  }
  return nullptr;
}

void Interpreter::Frame::Set(std::string_view name, Value value) {
  if (Value* existing = Find(name)) {
    *existing = std::move(value);
  } else {
    vars.emplace_back(std::string(name), std::move(value));
  }
}

// Bounds the C++ recursion of Exec/Eval and counts steps.
class Interpreter::DepthGuard {
 public:
  explicit DepthGuard(Interpreter& in) : in_(in) { ++in_.eval_depth_; }
  ~DepthGuard() { --in_.eval_depth_; }
  Status Check() {
    if (in_.eval_depth_ > in_.limits_.max_eval_depth) {
      return ResourceExhausted("template recursion is too deep");
    }
    if (++in_.steps_ > in_.limits_.max_steps) {
      return ResourceExhausted("template exceeded its evaluation step limit");
    }
    return OkStatus();
  }

 private:
  Interpreter& in_;
};

Status Interpreter::WithLine(const Status& status, int line) const {
  if (status.ok() || status.message().rfind("template line ", 0) == 0) return status;
  return Status(status.code(), "template line " + std::to_string(line) + ": " + status.message());
}

Status Interpreter::Charge(uint64_t bytes) {
  allocated_ += static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
  if (allocated_ > limits_.max_alloc_bytes) {
    return ResourceExhausted("template built more data than allowed");
  }
  return OkStatus();
}

Result<Value> Interpreter::MakeString(std::string s) {
  if (s.size() > limits_.max_string_bytes) {
    return ResourceExhausted("template string exceeds the size limit");
  }
  RETURN_IF_ERROR(Charge(s.size()));
  return Value::String(std::move(s));
}

Status Interpreter::CountIteration() {
  if (++iterations_ > limits_.max_loop_iterations) {
    return ResourceExhausted("template exceeded its loop iteration limit");
  }
  return OkStatus();
}

Result<std::string> Interpreter::Run(const Body& body, const Value& globals) {
  Frame root;
  if (globals.is_dict()) {
    for (const auto& [k, v] : globals.as_dict().entries) root.vars.emplace_back(k, v);
  }
  root_ = &root;
  frame_ = &root;
  std::string out;
  out_ = &out;
  Status status = Exec(body);
  root_ = frame_ = nullptr;
  out_ = nullptr;
  if (!status.ok()) return status;
  if (flow_ != Flow::kNormal) return InvalidArgument("break or continue outside a loop");
  return out;
}

Status Interpreter::Emit(const Value& value) {
  if (!value.AppendStr(*out_, limits_.max_output_bytes)) {
    return ResourceExhausted("template output exceeds the size limit");
  }
  return OkStatus();
}

Status Interpreter::Exec(const Body& body) {
  for (const auto& stmt : body) {
    RETURN_IF_ERROR(ExecStmt(*stmt));
    if (flow_ != Flow::kNormal) return OkStatus();
  }
  return OkStatus();
}

Result<std::string> Interpreter::RenderBody(const Body& body, Frame* frame) {
  std::string buffer;
  std::string* saved_out = out_;
  Frame* saved_frame = frame_;
  out_ = &buffer;
  frame_ = frame;
  Status status = Exec(body);
  out_ = saved_out;
  frame_ = saved_frame;
  if (!status.ok()) return status;
  RETURN_IF_ERROR(Charge(buffer.size()));
  return buffer;
}

Status Interpreter::ExecStmt(const Stmt& stmt) {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(WithLine(guard.Check(), stmt.line));
  switch (stmt.kind) {
    case StmtKind::kText:
      if (stmt.text.size() > limits_.max_output_bytes - std::min(limits_.max_output_bytes, out_->size())) {
        return WithLine(ResourceExhausted("template output exceeds the size limit"), stmt.line);
      }
      *out_ += stmt.text;
      return OkStatus();
    case StmtKind::kEmit: {
      ASSIGN_OR_RETURN(Value v, Eval(*stmt.expr));
      return WithLine(Emit(v), stmt.line);
    }
    case StmtKind::kIf:
      for (const auto& [cond, body] : stmt.branches) {
        ASSIGN_OR_RETURN(Value c, Eval(*cond));
        if (c.Truthy()) return Exec(body);
      }
      return Exec(stmt.else_body);
    case StmtKind::kFor:
      return ExecFor(stmt);
    case StmtKind::kSet:
      return ExecSet(stmt);
    case StmtKind::kSetBlock: {
      ASSIGN_OR_RETURN(std::string text, RenderBody(stmt.body, frame_));
      ASSIGN_OR_RETURN(Value v, MakeString(std::move(text)));
      if (stmt.expr) {
        Value saved = std::move(block_input_);
        block_input_ = v;
        Result<Value> filtered = Eval(*stmt.expr);
        block_input_ = std::move(saved);
        if (!filtered.ok()) return filtered.status();
        v = std::move(filtered).value();
      }
      frame_->Set(stmt.targets[0], std::move(v));
      return OkStatus();
    }
    case StmtKind::kFilterBlock: {
      ASSIGN_OR_RETURN(std::string text, RenderBody(stmt.body, frame_));
      ASSIGN_OR_RETURN(Value v, MakeString(std::move(text)));
      Value saved = std::move(block_input_);
      block_input_ = v;
      Result<Value> filtered = Eval(*stmt.expr);
      block_input_ = std::move(saved);
      if (!filtered.ok()) return filtered.status();
      return WithLine(Emit(*filtered), stmt.line);
    }
    case StmtKind::kMacro: {
      auto fn = std::make_shared<CallableObject>();
      fn->type = CallableObject::Type::kMacro;
      fn->name = stmt.text;
      fn->stmt = &stmt;
      frame_->Set(stmt.text, Value::Callable(std::move(fn)));
      return OkStatus();
    }
    case StmtKind::kCallBlock: {
      auto caller = std::make_shared<CallableObject>();
      caller->type = CallableObject::Type::kCaller;
      caller->name = "caller";
      caller->stmt = &stmt;
      const Expr& call = *stmt.expr;
      ASSIGN_OR_RETURN(Value callee, Eval(*call.children[0]));
      ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call, 1));
      if (!callee.is_callable() || callee.as_callable().type != CallableObject::Type::kMacro) {
        return WithLine(InvalidArgument("call block target is not a macro"), stmt.line);
      }
      Value caller_value = Value::Callable(std::move(caller));
      ASSIGN_OR_RETURN(Value result,
                       CallMacro(*callee.as_callable().stmt, std::move(args), &caller_value));
      return WithLine(Emit(result), stmt.line);
    }
    case StmtKind::kBreak:
    case StmtKind::kContinue:
      if (loop_depth_ == 0) {
        return WithLine(InvalidArgument("break or continue outside a loop"), stmt.line);
      }
      flow_ = stmt.kind == StmtKind::kBreak ? Flow::kBreak : Flow::kContinue;
      return OkStatus();
    case StmtKind::kBody:
      return Exec(stmt.body);
  }
  return OkStatus();
}

Status Interpreter::ExecSet(const Stmt& stmt) {
  ASSIGN_OR_RETURN(Value v, Eval(*stmt.expr));
  if (!stmt.text.empty()) {  // {% set ns.attr = v %}
    ASSIGN_OR_RETURN(Value target, Lookup(stmt.targets[0]));
    if (!target.is_namespace()) {
      return WithLine(InvalidArgument("can only set attributes of a namespace"), stmt.line);
    }
    NamespaceObject& ns = target.as_namespace();
    if (Value* existing = ns.Find(stmt.text)) {
      *existing = std::move(v);
    } else {
      if (ns.entries.size() >= 4096) {
        return WithLine(ResourceExhausted("namespace has too many attributes"), stmt.line);
      }
      ns.entries.emplace_back(stmt.text, std::move(v));
    }
    return OkStatus();
  }
  if (stmt.targets.size() == 1) {
    frame_->Set(stmt.targets[0], std::move(v));
    return OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<Value> parts, Iterate(*this, v));
  if (parts.size() != stmt.targets.size()) {
    return WithLine(InvalidArgument("wrong number of values to unpack"), stmt.line);
  }
  for (size_t i = 0; i < parts.size(); ++i) frame_->Set(stmt.targets[i], std::move(parts[i]));
  return OkStatus();
}

Status Interpreter::ExecFor(const Stmt& stmt) {
  ASSIGN_OR_RETURN(Value seq, Eval(*stmt.expr));
  Result<std::vector<Value>> all = Iterate(*this, seq);
  if (!all.ok()) return WithLine(all.status(), stmt.line);
  auto bind = [&](Frame& frame, const Value& item) -> Status {
    if (stmt.targets.size() == 1) {
      frame.Set(stmt.targets[0], item);
      return OkStatus();
    }
    ASSIGN_OR_RETURN(std::vector<Value> parts, Iterate(*this, item));
    if (parts.size() != stmt.targets.size()) {
      return WithLine(InvalidArgument("wrong number of values to unpack"), stmt.line);
    }
    for (size_t i = 0; i < parts.size(); ++i) frame.Set(stmt.targets[i], std::move(parts[i]));
    return OkStatus();
  };
  auto items = std::make_shared<std::vector<Value>>();
  if (stmt.filter) {
    Frame probe;
    probe.parent = frame_;
    Frame* saved = frame_;
    for (const Value& item : *all) {
      Status counted = CountIteration();
      if (!counted.ok()) {
        frame_ = saved;
        return WithLine(counted, stmt.line);
      }
      probe.vars.clear();
      Status bound = bind(probe, item);
      if (!bound.ok()) {
        frame_ = saved;
        return bound;
      }
      frame_ = &probe;
      Result<Value> keep = Eval(*stmt.filter);
      frame_ = saved;
      if (!keep.ok()) return keep.status();
      if (keep->Truthy()) items->push_back(item);
    }
  } else {
    *items = std::move(all).value();
  }
  if (items->empty()) return Exec(stmt.else_body);
  std::shared_ptr<const std::vector<Value>> shared = items;
  Frame* saved = frame_;
  ++loop_depth_;
  Status status;
  for (size_t i = 0; i < shared->size(); ++i) {
    status = WithLine(CountIteration(), stmt.line);
    if (!status.ok()) break;
    Frame iteration;
    iteration.parent = saved;
    status = bind(iteration, (*shared)[i]);
    if (!status.ok()) break;
    auto loop = std::make_shared<LoopObject>();
    loop->index0 = static_cast<int64_t>(i);
    loop->length = static_cast<int64_t>(shared->size());
    loop->items = shared;
    iteration.Set("loop", Value::Loop(std::move(loop)));
    frame_ = &iteration;
    status = Exec(stmt.body);
    frame_ = saved;
    if (!status.ok()) break;
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    flow_ = Flow::kNormal;
  }
  --loop_depth_;
  frame_ = saved;
  return status;
}

Result<Value> Interpreter::Lookup(std::string_view name) {
  for (Frame* f = frame_; f != nullptr; f = f->parent) {
    if (Value* v = f->Find(name)) return *v;
  }
  if (IsGlobalFunction(name)) {
    auto fn = std::make_shared<CallableObject>();
    fn->type = CallableObject::Type::kGlobal;
    fn->name = std::string(name);
    return Value::Callable(std::move(fn));
  }
  return Value::Undefined();
}

Result<Value> Interpreter::Eval(const Expr& expr) {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(WithLine(guard.Check(), expr.line));
  switch (expr.kind) {
    case ExprKind::kLiteral:
      if (expr.literal.is_undefined()) return block_input_;
      return expr.literal;
    case ExprKind::kName:
      return Lookup(expr.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(expr.children.size());
      for (const auto& child : expr.children) {
        ASSIGN_OR_RETURN(Value v, Eval(*child));
        items.push_back(std::move(v));
      }
      RETURN_IF_ERROR(Charge(items.size() * sizeof(Value)));
      Result<Value> list = Value::List(std::move(items), expr.kind == ExprKind::kTuple);
      if (!list.ok()) return WithLine(list.status(), expr.line);
      return list;
    }
    case ExprKind::kDict: {
      std::vector<std::pair<std::string, Value>> entries;
      for (size_t i = 0; i + 1 < expr.children.size(); i += 2) {
        ASSIGN_OR_RETURN(Value key, Eval(*expr.children[i]));
        ASSIGN_OR_RETURN(Value value, Eval(*expr.children[i + 1]));
        if (!key.is_string()) {
          return WithLine(Unimplemented("only string dict keys are supported"), expr.line);
        }
        entries.emplace_back(key.as_string(), std::move(value));
      }
      RETURN_IF_ERROR(Charge(entries.size() * sizeof(Value) * 2));
      Result<Value> dict = Value::Dict(std::move(entries));
      if (!dict.ok()) return WithLine(dict.status(), expr.line);
      return dict;
    }
    case ExprKind::kGetAttr: {
      ASSIGN_OR_RETURN(Value object, Eval(*expr.children[0]));
      Result<Value> v = GetAttr(object, expr.name);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return v;
    }
    case ExprKind::kGetItem: {
      ASSIGN_OR_RETURN(Value object, Eval(*expr.children[0]));
      ASSIGN_OR_RETURN(Value key, Eval(*expr.children[1]));
      Result<Value> v = GetItem(object, key);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return v;
    }
    case ExprKind::kSlice: {
      ASSIGN_OR_RETURN(Value object, Eval(*expr.children[0]));
      Value bounds[3];
      for (int i = 0; i < 3; ++i) {
        if (expr.children[i + 1]) {
          ASSIGN_OR_RETURN(bounds[i], Eval(*expr.children[i + 1]));
        } else {
          bounds[i] = Value::None();
        }
      }
      Result<Value> v = SliceValue(*this, object, bounds[0], bounds[1], bounds[2]);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return v;
    }
    case ExprKind::kCall:
      return EvalCall(expr);
    case ExprKind::kFilter: {
      ASSIGN_OR_RETURN(Value input, Eval(*expr.children[0]));
      ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
      Result<Value> v = Filter(expr.name, input, args);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return v;
    }
    case ExprKind::kTest: {
      ASSIGN_OR_RETURN(Value input, Eval(*expr.children[0]));
      ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
      Result<bool> v = Test(expr.name, input, args);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return Value::Bool(*v != expr.negate);
    }
    case ExprKind::kUnary: {
      ASSIGN_OR_RETURN(Value operand, Eval(*expr.children[0]));
      if (expr.name == "not") return Value::Bool(!operand.Truthy());
      Result<Value> v = UnaryArith(expr.name, operand);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return v;
    }
    case ExprKind::kBinary:
      return EvalBinary(expr);
    case ExprKind::kCond: {
      ASSIGN_OR_RETURN(Value cond, Eval(*expr.children[0]));
      if (cond.Truthy()) return Eval(*expr.children[1]);
      if (expr.children[2]) return Eval(*expr.children[2]);
      return Value::Undefined();
    }
  }
  return Value::Undefined();
}

Result<Value> Interpreter::EvalBinary(const Expr& expr) {
  const std::string& op = expr.name;
  ASSIGN_OR_RETURN(Value left, Eval(*expr.children[0]));
  if (op == "and") {
    if (!left.Truthy()) return left;
    return Eval(*expr.children[1]);
  }
  if (op == "or") {
    if (left.Truthy()) return left;
    return Eval(*expr.children[1]);
  }
  ASSIGN_OR_RETURN(Value right, Eval(*expr.children[1]));
  Result<Value> v = BinaryOp(*this, op, left, right);
  if (!v.ok()) return WithLine(v.status(), expr.line);
  return v;
}

Result<CallArgs> Interpreter::EvalArgs(const Expr& expr, size_t first) {
  CallArgs args;
  for (size_t i = first; i < expr.children.size(); ++i) {
    ASSIGN_OR_RETURN(Value v, Eval(*expr.children[i]));
    args.args.push_back(std::move(v));
  }
  for (const auto& [name, value_expr] : expr.kwargs) {
    ASSIGN_OR_RETURN(Value v, Eval(*value_expr));
    args.kwargs.emplace_back(name, std::move(v));
  }
  return args;
}

Result<Value> Interpreter::EvalCall(const Expr& expr) {
  const Expr& callee_expr = *expr.children[0];
  Value callee;
  if (callee_expr.kind == ExprKind::kGetAttr) {
    // Method calls: avoid building a bound callable for `s.startswith(...)`.
    ASSIGN_OR_RETURN(Value object, Eval(*callee_expr.children[0]));
    if (HasMethod(object, callee_expr.name)) {
      ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
      Result<Value> v = CallMethod(*this, object, callee_expr.name, args);
      if (!v.ok()) return WithLine(v.status(), expr.line);
      return v;
    }
    Result<Value> attr = GetAttr(object, callee_expr.name);
    if (!attr.ok()) return WithLine(attr.status(), expr.line);
    callee = std::move(attr).value();
  } else {
    ASSIGN_OR_RETURN(callee, Eval(callee_expr));
  }
  ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
  Result<Value> v = CallValue(callee, std::move(args));
  if (!v.ok()) return WithLine(v.status(), expr.line);
  return v;
}

Result<Value> Interpreter::CallValue(const Value& callee, CallArgs args) {
  if (!callee.is_callable()) {
    return InvalidArgument("a " + std::string(KindName(callee.kind())) + " is not callable");
  }
  const CallableObject& fn = callee.as_callable();
  switch (fn.type) {
    case CallableObject::Type::kMacro:
      return CallMacro(*fn.stmt, std::move(args), nullptr);
    case CallableObject::Type::kCaller:
      return CallCaller(*fn.stmt, std::move(args));
    case CallableObject::Type::kGlobal:
      return CallGlobal(*this, fn.name, args);
    case CallableObject::Type::kMethod:
      return CallMethod(*this, fn.bound[0], fn.name, args);
    case CallableObject::Type::kLoopCycle: {
      if (args.args.empty()) return InvalidArgument("loop.cycle needs at least one value");
      const LoopObject& loop = fn.bound[0].as_loop();
      return args.args[static_cast<size_t>(loop.index0) % args.args.size()];
    }
  }
  return InvalidArgument("not callable");
}

Result<Value> Interpreter::CallMacro(const Stmt& macro, CallArgs args, const Value* caller) {
  if (call_depth_ >= limits_.max_call_depth) {
    return ResourceExhausted("template macro calls nest too deeply");
  }
  if (args.args.size() > macro.params.size()) {
    return InvalidArgument("macro called with too many arguments");
  }
  Frame frame;
  frame.parent = root_;
  Frame* saved = frame_;
  frame_ = &frame;
  for (size_t i = 0; i < macro.params.size(); ++i) {
    const MacroParam& p = macro.params[i];
    const Value* given = args.Get(i, p.name);
    if (given != nullptr) {
      frame.Set(p.name, *given);
    } else if (p.default_value) {
      Result<Value> def = Eval(*p.default_value);
      if (!def.ok()) {
        frame_ = saved;
        return def.status();
      }
      frame.Set(p.name, std::move(def).value());
    } else {
      frame.Set(p.name, Value::Undefined());
    }
  }
  frame_ = saved;
  for (const auto& [k, v] : args.kwargs) {
    bool known = false;
    for (const auto& p : macro.params) known = known || p.name == k;
    if (!known) return InvalidArgument("macro called with an unknown keyword argument");
  }
  if (caller != nullptr) frame.Set("caller", *caller);
  ++call_depth_;
  int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  Result<std::string> text = RenderBody(macro.body, &frame);
  loop_depth_ = saved_loop_depth;
  --call_depth_;
  if (!text.ok()) return text.status();
  return Value::String(std::move(text).value());
}

Result<Value> Interpreter::CallCaller(const Stmt& call_block, CallArgs args) {
  if (call_depth_ >= limits_.max_call_depth) {
    return ResourceExhausted("template macro calls nest too deeply");
  }
  Frame frame;
  frame.parent = frame_;
  for (size_t i = 0; i < call_block.params.size(); ++i) {
    const Value* given = args.Get(i, call_block.params[i].name);
    frame.Set(call_block.params[i].name, given != nullptr ? *given : Value::Undefined());
  }
  ++call_depth_;
  Result<std::string> text = RenderBody(call_block.body, &frame);
  --call_depth_;
  if (!text.ok()) return text.status();
  return Value::String(std::move(text).value());
}

Result<Value> Interpreter::Filter(std::string_view name, const Value& input, const CallArgs& args) {
  return ApplyFilter(*this, name, input, args);
}

Result<bool> Interpreter::Test(std::string_view name, const Value& input, const CallArgs& args) {
  return ApplyTest(*this, name, input, args);
}

Result<Value> Interpreter::GetAttr(const Value& object, std::string_view name) {
  switch (object.kind()) {
    case Value::Kind::kUndefined:
      return InvalidArgument("attribute '" + std::string(name.substr(0, 64)) +
                             "' of an undefined value");
    case Value::Kind::kDict: {
      if (HasMethod(object, name)) break;
      const Value* v = object.as_dict().Find(name);
      return v != nullptr ? *v : Value::Undefined();
    }
    case Value::Kind::kNamespace: {
      Value* v = object.as_namespace().Find(name);
      return v != nullptr ? *v : Value::Undefined();
    }
    case Value::Kind::kLoop:
      return LoopAttribute(object, name);
    default:
      break;
  }
  if (HasMethod(object, name)) {
    auto fn = std::make_shared<CallableObject>();
    fn->type = CallableObject::Type::kMethod;
    fn->name = std::string(name);
    fn->bound.push_back(object);
    return Value::Callable(std::move(fn));
  }
  return Value::Undefined();
}

Result<Value> Interpreter::GetItem(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Value::Kind::kUndefined:
      return InvalidArgument("item of an undefined value");
    case Value::Kind::kDict: {
      if (!key.is_string()) return Value::Undefined();
      const Value* v = object.as_dict().Find(key.as_string());
      return v != nullptr ? *v : Value::Undefined();
    }
    case Value::Kind::kList:
    case Value::Kind::kString: {
      if (key.is_int() || key.is_bool()) return IndexValue(*this, object, key.as_int());
      if (key.is_string()) return GetAttr(object, key.as_string());
      return Value::Undefined();
    }
    case Value::Kind::kNamespace:
    case Value::Kind::kLoop:
      if (key.is_string()) return GetAttr(object, key.as_string());
      return Value::Undefined();
    default:
      return Value::Undefined();
  }
}

// ---- Template ----

struct Template::Parsed {
  Body body;
};

Result<Template> Template::Parse(std::string_view source, const Limits& limits) {
  if (source.size() > limits.max_template_bytes) {
    return ResourceExhausted("chat template is larger than allowed");
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  ParseOptions options;
  options.max_nesting = limits.max_nesting;
  auto parsed = std::make_shared<Parsed>();
  ASSIGN_OR_RETURN(parsed->body, jinja::Parse(tokens, options));
  return Template(std::move(parsed), limits);
}

Result<std::string> Template::Render(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) return InvalidArgument("template context must be a JSON object");
  ASSIGN_OR_RETURN(Value globals, Value::FromJson(context));
  return Render(globals);
}

Result<std::string> Template::Render(const Value& context) const {
  if (!context.is_dict()) return InvalidArgument("template context must be a dict");
  Interpreter interpreter(limits_);
  return interpreter.Run(parsed_->body, context);
}

}  // namespace ocular::chat::jinja
