// Values of the Jinja-subset interpreter: a JSON-like data model with Python semantics
// (truthiness, str(), repr(), equality, ordering) because chat templates are written against
// Python Jinja2 and HF `apply_chat_template`.
//
// Containers and strings are shared immutable objects (copying a Value is O(1)), so reading a
// large message through several variables never copies it. Only namespaces are mutable, as in
// Jinja (`{% set ns.x = ... %}`). Every container records its nesting depth so recursive
// operations (str, tojson, ==) are bounded by construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ocular::chat::jinja {

class Value;
struct Stmt;

// Nesting depth a container may reach; deeper values are refused where they are built.
inline constexpr int kMaxValueDepth = 64;

struct UndefinedValue {};
struct NoneValue {};

struct ListObject {
  std::vector<Value> items;
  bool is_tuple = false;  // only affects str(): "(1, 2)" vs "[1, 2]"
  int depth = 1;
};

// Insertion-ordered string-keyed dict (Python dict order; JSON objects keep file order).
struct DictObject {
  std::vector<std::pair<std::string, Value>> entries;
  std::unordered_map<std::string, size_t> index;
  int depth = 1;
  const Value* Find(std::string_view key) const;
};

struct NamespaceObject {
  std::vector<std::pair<std::string, Value>> entries;  // mutable attributes
  Value* Find(std::string_view key);
};

// State of one iteration of a for loop, exposed to the body as `loop`.
struct LoopObject {
  int64_t index0 = 0;
  int64_t length = 0;
  std::shared_ptr<const std::vector<Value>> items;  // the (filtered) sequence
};

// Something callable from a template: a macro, a `caller` block, a builtin global or a method
// bound to its receiver.
struct CallableObject {
  enum class Type { kMacro, kCaller, kGlobal, kMethod, kLoopCycle };
  Type type = Type::kGlobal;
  std::string name;            // global or method name
  const Stmt* stmt = nullptr;  // macro / call block (owned by the parsed template)
  std::vector<Value> bound;    // method receiver, or the loop for loop.cycle
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace,
                    kLoop, kCallable };

  Value() : data_(UndefinedValue{}) {}
  static Value Undefined() { return Value(); }
  static Value None() { Value v; v.data_ = NoneValue{}; return v; }
  static Value Bool(bool b) { Value v; v.data_ = b; return v; }
  static Value Int(int64_t i) { Value v; v.data_ = i; return v; }
  static Value Float(double d) { Value v; v.data_ = d; return v; }
  static Value String(std::string s) {
    Value v;
    v.data_ = std::make_shared<const std::string>(std::move(s));
    return v;
  }
  static Value SharedString(std::shared_ptr<const std::string> s) {
    Value v;
    v.data_ = std::move(s);
    return v;
  }
  // Containers: fail when the result would nest deeper than kMaxValueDepth.
  static Result<Value> List(std::vector<Value> items, bool is_tuple = false);
  static Result<Value> Dict(std::vector<std::pair<std::string, Value>> entries);
  static Value Namespace(std::shared_ptr<NamespaceObject> ns) { Value v; v.data_ = std::move(ns); return v; }
  static Value Loop(std::shared_ptr<const LoopObject> loop) { Value v; v.data_ = std::move(loop); return v; }
  static Value Callable(std::shared_ptr<const CallableObject> fn) { Value v; v.data_ = std::move(fn); return v; }

  // JSON -> Value (objects keep key order). Fails on nesting deeper than kMaxValueDepth.
  static Result<Value> FromJson(const nlohmann::ordered_json& json);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_bool() || is_int() || is_float(); }  // Python: bool is int
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }
  bool is_loop() const { return kind() == Kind::kLoop; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return is_bool() ? (as_bool() ? 1 : 0) : std::get<int64_t>(data_); }
  double as_float() const { return is_float() ? std::get<double>(data_) : static_cast<double>(as_int()); }
  const std::string& as_string() const { return *std::get<StrPtr>(data_); }
  const std::shared_ptr<const std::string>& string_ptr() const { return std::get<StrPtr>(data_); }
  const ListObject& as_list() const { return *std::get<ListPtr>(data_); }
  const std::vector<Value>& items() const { return as_list().items; }
  const DictObject& as_dict() const { return *std::get<DictPtr>(data_); }
  NamespaceObject& as_namespace() const { return *std::get<NsPtr>(data_); }
  const LoopObject& as_loop() const { return *std::get<LoopPtr>(data_); }
  const CallableObject& as_callable() const { return *std::get<FnPtr>(data_); }

  // Nesting depth: 0 for scalars.
  int depth() const;
  // Python truthiness (Undefined is false).
  bool Truthy() const;
  // Python str(value); Undefined prints as "".
  std::string Str() const;
  // Python repr(value) (what str() uses for list/dict elements).
  std::string Repr() const;
  // Bounded forms: append to `out`, return false once `out` exceeds `limit` bytes.
  bool AppendStr(std::string& out, size_t limit) const;
  bool AppendRepr(std::string& out, size_t limit) const;
  // Python ==.
  bool Equals(const Value& other) const;

 private:
  using StrPtr = std::shared_ptr<const std::string>;
  using ListPtr = std::shared_ptr<const ListObject>;
  using DictPtr = std::shared_ptr<const DictObject>;
  using NsPtr = std::shared_ptr<NamespaceObject>;
  using LoopPtr = std::shared_ptr<const LoopObject>;
  using FnPtr = std::shared_ptr<const CallableObject>;
  std::variant<UndefinedValue, NoneValue, bool, int64_t, double, StrPtr, ListPtr, DictPtr, NsPtr,
               LoopPtr, FnPtr>
      data_;
};

// Python float repr (shortest round-trip digits; exponent form outside 1e-4 <= |x| < 1e16).
std::string PyFloatRepr(double d);
// Python repr of a str (quote choice and escapes as CPython).
std::string PyStringRepr(std::string_view s);

// json.dumps(value, ensure_ascii=False, indent=indent (<0: none), sort_keys=sort_keys) with
// the default separators (", " / ": ", or "," / ": " when indented).
// Fails once the text would exceed `max_bytes`.
Result<std::string> ToJson(const Value& value, int indent = -1, bool sort_keys = false,
                           size_t max_bytes = SIZE_MAX);

// Ordering for <, <=, >, >= and sort: numbers with numbers, strings with strings (code point
// order), lists element-wise. Returns <0, 0, >0 or an error for unorderable types.
Result<int> Compare(const Value& a, const Value& b);

// A short type name for error messages ("string", "list", ...).
std::string_view KindName(Value::Kind kind);

}  // namespace ocular::chat::jinja
