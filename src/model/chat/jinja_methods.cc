// Tests, global functions, str/dict methods and loop attributes.
#include <algorithm>
#include <cmath>

#include <utf8proc.h>

#include "model/chat/jinja_builtins.h"
#include "model/chat/jinja_value_ops.h"
#include "model/chat/utf8_util.h"

namespace ocular::chat::jinja {
namespace {

Status BadArgs(std::string_view what) {
  return InvalidArgument("bad arguments to " + std::string(what));
}

const std::string* StringArg(const CallArgs& args, size_t i, std::string_view name) {
  const Value* v = args.Get(i, name);
  return (v != nullptr && v->is_string()) ? &v->as_string() : nullptr;
}

bool AllChars(std::string_view s, bool (*pred)(uint32_t)) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size(); pos += CharLength(s, pos)) {
    if (!pred(DecodeChar(s, pos))) return false;
  }
  return true;
}

bool HasCased(std::string_view s, bool want_lower) {
  bool cased = false;
  for (size_t pos = 0; pos < s.size(); pos += CharLength(s, pos)) {
    auto cp = static_cast<utf8proc_int32_t>(DecodeChar(s, pos));
    bool lower = utf8proc_toupper(cp) != cp;
    bool upper = utf8proc_tolower(cp) != cp;
    if ((want_lower && upper) || (!want_lower && lower)) return false;
    cased = cased || lower || upper;
  }
  return cased;
}

Result<Value> StringList(Interpreter& in, std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  uint64_t bytes = 0;
  for (auto& p : parts) {
    bytes += p.size() + sizeof(Value);
    items.push_back(Value::String(std::move(p)));
  }
  RETURN_IF_ERROR(in.Charge(bytes));
  return Value::List(std::move(items));
}

Result<bool> AffixMatch(const std::string& s, const Value& affix, bool prefix) {
  auto match = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_string()) return match(affix.as_string());
  if (affix.is_list()) {
    for (const Value& v : affix.items()) {
      if (!v.is_string()) return BadArgs(prefix ? "startswith" : "endswith");
      if (match(v.as_string())) return true;
    }
    return false;
  }
  return BadArgs(prefix ? "startswith" : "endswith");
}

}  // namespace

std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<uint32_t> set;
  if (chars != nullptr) {
    for (size_t pos = 0; pos < chars->size(); pos += CharLength(*chars, pos)) {
      set.push_back(DecodeChar(*chars, pos));
    }
  }
  auto strip_it = [&](uint32_t cp) {
    return chars == nullptr ? IsPyWhitespace(cp)
                            : std::find(set.begin(), set.end(), cp) != set.end();
  };
  std::vector<size_t> offsets = CharOffsets(s);
  size_t begin = 0, end = offsets.size() - 1;
  if (left) {
    while (begin < end && strip_it(DecodeChar(s, offsets[begin]))) ++begin;
  }
  if (right) {
    while (end > begin && strip_it(DecodeChar(s, offsets[end - 1]))) --end;
  }
  return std::string(s.substr(offsets[begin], offsets[end] - offsets[begin]));
}

Result<std::vector<std::string>> PySplit(std::string_view s, const std::string* sep,
                                         int64_t maxsplit, bool from_right) {
  std::vector<std::string> parts;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep != nullptr) {
    if (sep->empty()) return InvalidArgument("empty separator");
    if (!from_right) {
      size_t pos = 0;
      while (maxsplit-- > 0) {
        size_t hit = s.find(*sep, pos);
        if (hit == std::string_view::npos) break;
        parts.emplace_back(s.substr(pos, hit - pos));
        pos = hit + sep->size();
      }
      parts.emplace_back(s.substr(pos));
    } else {
      size_t end = s.size();
      while (maxsplit-- > 0 && end >= sep->size()) {
        size_t hit = s.rfind(*sep, end - sep->size());
        if (hit == std::string_view::npos) break;
        parts.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
        end = hit;
      }
      parts.emplace_back(s.substr(0, end));
      std::reverse(parts.begin(), parts.end());
    }
    return parts;
  }
  // Whitespace split: runs of whitespace separate, empty strings are dropped.
  std::vector<size_t> offsets = CharOffsets(s);
  size_t n = offsets.size() - 1;
  auto space = [&](size_t i) { return IsPyWhitespace(DecodeChar(s, offsets[i])); };
  if (!from_right) {
    size_t i = 0;
    while (i < n) {
      while (i < n && space(i)) ++i;
      if (i >= n) break;
      if (maxsplit-- <= 0) {  // the rest, trailing whitespace included
        parts.emplace_back(s.substr(offsets[i]));
        break;
      }
      size_t j = i;
      while (j < n && !space(j)) ++j;
      parts.emplace_back(s.substr(offsets[i], offsets[j] - offsets[i]));
      i = j;
    }
  } else {
    size_t i = n;
    while (i > 0) {
      while (i > 0 && space(i - 1)) --i;
      if (i == 0) break;
      if (maxsplit-- <= 0) {  // the rest, leading whitespace included
        parts.emplace_back(s.substr(0, offsets[i]));
        break;
      }
      size_t j = i;
      while (j > 0 && !space(j - 1)) --j;
      parts.emplace_back(s.substr(offsets[j], offsets[i] - offsets[j]));
      i = j;
    }
    std::reverse(parts.begin(), parts.end());
  }
  return parts;
}

Result<std::string> PyReplace(Interpreter& in, const std::string& s, const std::string& old,
                              const std::string& replacement, int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  size_t limit = in.limits().max_string_bytes;
  if (old.empty()) {
    // Python inserts the replacement around every character.
    std::vector<size_t> offsets = CharOffsets(s);
    for (size_t i = 0; i + 1 < offsets.size() + 1; ++i) {
      if (count-- > 0) out += replacement;
      if (i + 1 < offsets.size()) out.append(s, offsets[i], offsets[i + 1] - offsets[i]);
      if (out.size() > limit) return ResourceExhausted("template string exceeds the size limit");
    }
    return out;
  }
  size_t pos = 0;
  while (count-- > 0) {
    size_t hit = s.find(old, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += replacement;
    pos = hit + old.size();
    if (out.size() > limit) return ResourceExhausted("template string exceeds the size limit");
  }
  out.append(s, pos, std::string::npos);
  if (out.size() > limit) return ResourceExhausted("template string exceeds the size limit");
  return out;
}

Result<bool> ApplyTest(Interpreter& in, std::string_view name, const Value& v,
                       const CallArgs& args) {
  const Value* arg = args.Get(0, "value");
  auto need_arg = [&]() -> Status {
    return arg != nullptr ? OkStatus() : BadArgs("test '" + std::string(name) + "'");
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "iterable") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "sequence") return v.is_string() || v.is_list() || v.is_dict();
  if (name == "callable") return v.is_callable();
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    return v.is_string() && HasCased(v.as_string(), name == "lower");
  }
  if (name == "odd" || name == "even") {
    if (!v.is_int() && !v.is_bool()) return BadArgs("test '" + std::string(name) + "'");
    bool odd = (v.as_int() % 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "divisibleby") {
    RETURN_IF_ERROR(need_arg());
    if (!v.is_int() || !arg->is_int() || arg->as_int() == 0) return BadArgs("divisibleby");
    return v.as_int() % arg->as_int() == 0;
  }
  if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") {
    RETURN_IF_ERROR(need_arg());
    if (name == "sameas" && (v.kind() != arg->kind())) return false;
    return v.Equals(*arg);
  }
  if (name == "ne" || name == "!=") {
    RETURN_IF_ERROR(need_arg());
    return !v.Equals(*arg);
  }
  if (name == "lt" || name == "<" || name == "le" || name == "<=" || name == "gt" ||
      name == ">" || name == "ge" || name == ">=" || name == "lessthan" ||
      name == "greaterthan") {
    RETURN_IF_ERROR(need_arg());
    ASSIGN_OR_RETURN(int c, Compare(v, *arg));
    if (name == "lt" || name == "<" || name == "lessthan") return c < 0;
    if (name == "le" || name == "<=") return c <= 0;
    if (name == "gt" || name == ">" || name == "greaterthan") return c > 0;
    return c >= 0;
  }
  if (name == "in") {
    RETURN_IF_ERROR(need_arg());
    return Contains(*arg, v);
  }
  (void)in;
  return InvalidArgument("unknown test '" + std::string(name.substr(0, 32)) + "'");
}

bool IsGlobalFunction(std::string_view name) {
  return name == "range" || name == "namespace" || name == "dict" || name == "raise_exception";
}

Result<Value> CallGlobal(Interpreter& in, std::string_view name, const CallArgs& args) {
  if (name == "range") {
    if (!args.kwargs.empty() || args.args.empty() || args.args.size() > 3) return BadArgs("range");
    for (const Value& a : args.args) {
      if (!a.is_int() && !a.is_bool()) return BadArgs("range");
    }
    int64_t start = 0, stop = 0, step = 1;
    if (args.args.size() == 1) {
      stop = args.args[0].as_int();
    } else {
      start = args.args[0].as_int();
      stop = args.args[1].as_int();
      if (args.args.size() == 3) step = args.args[2].as_int();
    }
    if (step == 0) return InvalidArgument("range() step must not be zero");
    // Count in long double to avoid overflow on extreme bounds.
    long double span = static_cast<long double>(stop) - static_cast<long double>(start);
    long double count = std::ceil(span / static_cast<long double>(step));
    if (count < 0) count = 0;
    if (count > static_cast<long double>(in.limits().max_range)) {
      return ResourceExhausted("range() is larger than allowed");
    }
    auto n = static_cast<int64_t>(count);
    RETURN_IF_ERROR(in.Charge(static_cast<uint64_t>(n) * sizeof(Value)));
    std::vector<Value> items;
    items.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) items.push_back(Value::Int(start + i * step));
    return Value::List(std::move(items));
  }
  if (name == "namespace" || name == "dict") {
    std::vector<std::pair<std::string, Value>> entries;
    for (const Value& a : args.args) {
      if (!a.is_dict()) return BadArgs(name);
      for (const auto& e : a.as_dict().entries) entries.push_back(e);
    }
    for (const auto& e : args.kwargs) entries.push_back(e);
    if (name == "dict") return Value::Dict(std::move(entries));
    auto ns = std::make_shared<NamespaceObject>();
    for (auto& [k, v] : entries) {
      if (Value* existing = ns->Find(k)) {
        *existing = std::move(v);
      } else {
        ns->entries.emplace_back(std::move(k), std::move(v));
      }
    }
    return Value::Namespace(std::move(ns));
  }
  if (name == "raise_exception") {
    const Value* msg = args.Get(0, "message");
    std::string text = msg != nullptr ? msg->Str() : "error";
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    return InvalidArgument("chat template raised an error: " + text);
  }
  return InvalidArgument("unknown function");
}

bool HasMethod(const Value& receiver, std::string_view name) {
  if (receiver.is_dict()) {
    return name == "items" || name == "keys" || name == "values" || name == "get";
  }
  if (receiver.is_string()) {
    static constexpr std::string_view kMethods[] = {
        "startswith", "endswith", "split",  "rsplit",  "strip",   "lstrip",  "rstrip",
        "replace",    "lower",    "upper",  "title",   "capitalize", "find", "rfind",
        "count",      "join",     "isdigit", "isalpha", "isalnum", "isspace", "islower",
        "isupper",    "splitlines"};
    return std::find(std::begin(kMethods), std::end(kMethods), name) != std::end(kMethods);
  }
  return false;
}

Result<Value> CallMethod(Interpreter& in, const Value& receiver, std::string_view name,
                         const CallArgs& args) {
  if (receiver.is_dict()) {
    const DictObject& d = receiver.as_dict();
    if (name == "get") {
      const Value* key = args.Get(0, "key");
      if (key == nullptr) return BadArgs("dict.get");
      const Value* found = key->is_string() ? d.Find(key->as_string()) : nullptr;
      if (found != nullptr) return *found;
      const Value* def = args.Get(1, "default");
      return def != nullptr ? *def : Value::None();
    }
    RETURN_IF_ERROR(in.Charge(d.entries.size() * sizeof(Value) * 3));
    std::vector<Value> out;
    out.reserve(d.entries.size());
    for (const auto& [k, v] : d.entries) {
      if (name == "keys") {
        out.push_back(Value::String(k));
      } else if (name == "values") {
        out.push_back(v);
      } else {
        ASSIGN_OR_RETURN(Value pair, Value::List({Value::String(k), v}, /*is_tuple=*/true));
        out.push_back(std::move(pair));
      }
    }
    return Value::List(std::move(out));
  }
  if (!receiver.is_string()) return InvalidArgument("unknown method");
  const std::string& s = receiver.as_string();
  if (name == "startswith" || name == "endswith") {
    const Value* affix = args.Get(0, "prefix");
    if (affix == nullptr) return BadArgs(name);
    ASSIGN_OR_RETURN(bool m, AffixMatch(s, *affix, name == "startswith"));
    return Value::Bool(m);
  }
  if (name == "split" || name == "rsplit") {
    const Value* sep = args.Get(0, "sep");
    const Value* maxsplit = args.Get(1, "maxsplit");
    if (sep != nullptr && !sep->is_none() && !sep->is_string()) return BadArgs(name);
    if (maxsplit != nullptr && !maxsplit->is_int()) return BadArgs(name);
    ASSIGN_OR_RETURN(std::vector<std::string> parts,
                     PySplit(s, (sep != nullptr && sep->is_string()) ? &sep->as_string() : nullptr,
                             maxsplit != nullptr ? maxsplit->as_int() : -1, name == "rsplit"));
    return StringList(in, std::move(parts));
  }
  if (name == "splitlines") {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t nl = s.find_first_of("\n\r", pos);
      if (nl == std::string::npos) {
        parts.push_back(s.substr(pos));
        break;
      }
      parts.push_back(s.substr(pos, nl - pos));
      pos = nl + ((s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n') ? 2 : 1);
    }
    return StringList(in, std::move(parts));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Value* chars = args.Get(0, "chars");
    if (chars != nullptr && !chars->is_none() && !chars->is_string()) return BadArgs(name);
    const std::string* set = (chars != nullptr && chars->is_string()) ? &chars->as_string() : nullptr;
    return in.MakeString(PyStrip(s, set, name != "rstrip", name != "lstrip"));
  }
  if (name == "replace") {
    const std::string* old = StringArg(args, 0, "old");
    const std::string* rep = StringArg(args, 1, "new");
    const Value* count = args.Get(2, "count");
    if (old == nullptr || rep == nullptr || (count != nullptr && !count->is_int())) {
      return BadArgs("replace");
    }
    ASSIGN_OR_RETURN(std::string out, PyReplace(in, s, *old, *rep, count ? count->as_int() : -1));
    return in.MakeString(std::move(out));
  }
  if (name == "lower") return in.MakeString(ToLowerUtf8(s));
  if (name == "upper") return in.MakeString(ToUpperUtf8(s));
  if (name == "capitalize" || name == "title") {
    return in.Filter(name, receiver, CallArgs{});
  }
  if (name == "find" || name == "rfind" || name == "count") {
    const std::string* sub = StringArg(args, 0, "sub");
    if (sub == nullptr) return BadArgs(name);
    if (name == "count") {
      if (sub->empty()) return Value::Int(static_cast<int64_t>(CharCount(s)) + 1);
      int64_t n = 0;
      for (size_t pos = s.find(*sub); pos != std::string::npos; pos = s.find(*sub, pos + sub->size())) ++n;
      return Value::Int(n);
    }
    size_t hit = name == "find" ? s.find(*sub) : s.rfind(*sub);
    if (hit == std::string::npos) return Value::Int(-1);
    return Value::Int(static_cast<int64_t>(CharCount(std::string_view(s).substr(0, hit))));
  }
  if (name == "join") {
    const Value* seq = args.Get(0, "iterable");
    if (seq == nullptr) return BadArgs("join");
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, *seq));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) return BadArgs("join");
      if (i > 0) out += s;
      out += items[i].as_string();
      if (out.size() > in.limits().max_string_bytes) {
        return ResourceExhausted("template string exceeds the size limit");
      }
    }
    return in.MakeString(std::move(out));
  }
  if (name == "isdigit") return Value::Bool(AllChars(s, [](uint32_t c) { return c >= '0' && c <= '9'; }));
  if (name == "isalpha") {
    return Value::Bool(AllChars(s, [](uint32_t c) {
      auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
      return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
    }));
  }
  if (name == "isalnum") {
    return Value::Bool(AllChars(s, [](uint32_t c) {
      auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
      return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
             (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
    }));
  }
  if (name == "isspace") return Value::Bool(AllChars(s, IsPyWhitespace));
  if (name == "islower") return Value::Bool(HasCased(s, true));
  if (name == "isupper") return Value::Bool(HasCased(s, false));
  return InvalidArgument("unknown method");
}

Result<Value> LoopAttribute(const Value& loop_value, std::string_view name) {
  const LoopObject& loop = loop_value.as_loop();
  if (name == "index") return Value::Int(loop.index0 + 1);
  if (name == "index0") return Value::Int(loop.index0);
  if (name == "revindex") return Value::Int(loop.length - loop.index0);
  if (name == "revindex0") return Value::Int(loop.length - loop.index0 - 1);
  if (name == "first") return Value::Bool(loop.index0 == 0);
  if (name == "last") return Value::Bool(loop.index0 + 1 == loop.length);
  if (name == "length") return Value::Int(loop.length);
  if (name == "depth") return Value::Int(1);
  if (name == "depth0") return Value::Int(0);
  if (name == "previtem") {
    if (loop.index0 == 0) return Value::Undefined();
    return (*loop.items)[static_cast<size_t>(loop.index0 - 1)];
  }
  if (name == "nextitem") {
    if (loop.index0 + 1 >= loop.length) return Value::Undefined();
    return (*loop.items)[static_cast<size_t>(loop.index0 + 1)];
  }
  if (name == "cycle") {
    auto fn = std::make_shared<CallableObject>();
    fn->type = CallableObject::Type::kLoopCycle;
    fn->name = "cycle";
    fn->bound.push_back(loop_value);
    return Value::Callable(std::move(fn));
  }
  return Value::Undefined();
}

}  // namespace ocular::chat::jinja
