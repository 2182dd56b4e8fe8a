// Builtin filters (Jinja2 3.1 semantics; `tojson` as HF's json.dumps(ensure_ascii=False)).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <utf8proc.h>

#include "model/chat/jinja_builtins.h"
#include "model/chat/jinja_value_ops.h"
#include "model/chat/utf8_util.h"

namespace ocular::chat::jinja {
namespace {

Status BadArgs(std::string_view filter) {
  return InvalidArgument("bad arguments to filter '" + std::string(filter) + "'");
}

bool ArgBool(const Value* v, bool fallback) { return v == nullptr ? fallback : v->Truthy(); }

// Dotted attribute lookup ("a.b" or "0") as Jinja's make_attrgetter.
Result<Value> AttrPath(Interpreter& in, const Value& item, const Value& attribute) {
  if (attribute.is_int()) return in.GetItem(item, attribute);
  if (!attribute.is_string()) return InvalidArgument("attribute must be a string");
  Value current = item;
  std::string_view path = attribute.as_string();
  while (true) {
    size_t dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    Value key = Value::String(std::string(part));
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    if (numeric && part.size() < 18) key = Value::Int(std::atoll(std::string(part).c_str()));
    if (current.is_undefined()) return Value::Undefined();
    ASSIGN_OR_RETURN(current, in.GetItem(current, key));
    if (dot == std::string_view::npos) return current;
    path.remove_prefix(dot + 1);
  }
}

std::string CapitalizeWord(std::string_view s) {
  if (s.empty()) return "";
  size_t n = CharLength(s, 0);
  return ToUpperUtf8(s.substr(0, n)) + ToLowerUtf8(s.substr(n));
}

Result<Value> Sorted(Interpreter& in, const Value& input, const CallArgs& args, bool reverse_arg,
                     const Value* attribute, bool case_sensitive) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
  std::vector<std::pair<Value, Value>> keyed;  // (key, item)
  keyed.reserve(items.size());
  for (Value& item : items) {
    Value key = item;
    if (attribute != nullptr && !attribute->is_none()) {
      ASSIGN_OR_RETURN(key, AttrPath(in, item, *attribute));
    }
    if (!case_sensitive && key.is_string()) key = Value::String(ToLowerUtf8(key.as_string()));
    keyed.emplace_back(std::move(key), std::move(item));
  }
  Status error;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (!error.ok()) return false;
    Result<int> c = Compare(a.first, b.first);
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return reverse_arg ? *c > 0 : *c < 0;
  });
  RETURN_IF_ERROR(error);
  (void)args;
  std::vector<Value> out;
  out.reserve(keyed.size());
  for (auto& [k, v] : keyed) out.push_back(std::move(v));
  return Value::List(std::move(out));
}

Result<Value> SelectOrReject(Interpreter& in, const Value& input, const CallArgs& args,
                             bool by_attribute, bool select) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
  size_t next = 0;
  const Value* attribute = nullptr;
  if (by_attribute) {
    if (args.args.empty()) return BadArgs("selectattr");
    attribute = &args.args[next++];
  }
  std::string test_name;
  CallArgs test_args;
  if (next < args.args.size()) {
    if (!args.args[next].is_string()) return BadArgs("select");
    test_name = args.args[next++].as_string();
    test_args.args.assign(args.args.begin() + static_cast<std::ptrdiff_t>(next), args.args.end());
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    RETURN_IF_ERROR(in.CountIteration());
    Value subject = item;
    if (attribute != nullptr) {
      ASSIGN_OR_RETURN(subject, AttrPath(in, item, *attribute));
    }
    bool pass;
    if (test_name.empty()) {
      pass = subject.Truthy();
    } else {
      ASSIGN_OR_RETURN(pass, in.Test(test_name, subject, test_args));
    }
    if (pass == select) out.push_back(item);
  }
  return Value::List(std::move(out));
}

Result<Value> MinMax(Interpreter& in, const Value& input, const CallArgs& args, bool want_max) {
  ASSIGN_OR_RETURN(Value sorted, Sorted(in, input, args, false, args.Kw("attribute"),
                                        ArgBool(args.Get(0, "case_sensitive"), false)));
  if (sorted.items().empty()) return Value::Undefined();
  return want_max ? sorted.items().back() : sorted.items().front();
}

Result<Value> IntFilter(const Value& input, const CallArgs& args) {
  const Value* def = args.Get(0, "default");
  Value fallback = def != nullptr ? *def : Value::Int(0);
  if (input.is_int() || input.is_bool()) return Value::Int(input.as_int());
  if (input.is_float()) {
    double d = input.as_float();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::Int(static_cast<int64_t>(d));
  }
  if (input.is_string()) {
    std::string s = PyStrip(input.as_string(), nullptr, true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    if (s.empty()) return fallback;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end != nullptr && *end == '\0') return Value::Int(v);
    double d = std::strtod(s.c_str(), &end);
    if (end != nullptr && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return fallback;
}

Result<Value> FloatFilter(const Value& input, const CallArgs& args) {
  const Value* def = args.Get(0, "default");
  Value fallback = def != nullptr ? *def : Value::Float(0.0);
  if (input.is_number()) return Value::Float(input.as_float());
  if (input.is_string()) {
    std::string s = PyStrip(input.as_string(), nullptr, true, true);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end != nullptr && *end == '\0') return Value::Float(d);
  }
  return fallback;
}

}  // namespace

Result<Value> ApplyFilter(Interpreter& in, std::string_view name, const Value& input,
                          const CallArgs& args) {
  if (name == "safe" || name == "e" || name == "escape" || name == "forceescape") {
    if (name == "safe") return input;
    std::string out;
    for (char c : input.Str()) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out.push_back(c);
      }
    }
    return in.MakeString(std::move(out));
  }
  if (name == "length" || name == "count") {
    ASSIGN_OR_RETURN(int64_t n, Length(input));
    return Value::Int(n);
  }
  if (name == "string") {
    if (input.is_string()) return input;
    std::string out;
    if (!input.AppendStr(out, in.limits().max_string_bytes)) {
      return ResourceExhausted("template string exceeds the size limit");
    }
    return in.MakeString(std::move(out));
  }
  if (name == "trim") {
    const Value* chars = args.Get(0, "chars");
    const std::string* set = (chars != nullptr && chars->is_string()) ? &chars->as_string() : nullptr;
    return in.MakeString(PyStrip(input.Str(), set, true, true));
  }
  if (name == "lower") return in.MakeString(ToLowerUtf8(input.Str()));
  if (name == "upper") return in.MakeString(ToUpperUtf8(input.Str()));
  if (name == "capitalize") return in.MakeString(CapitalizeWord(input.Str()));
  if (name == "title") {
    // Jinja: capitalise the first letter of each word (words split at whitespace, '-', '(' ...).
    std::string s = input.Str();
    std::string out;
    bool start = true;
    for (size_t pos = 0; pos < s.size();) {
      size_t n = CharLength(s, pos);
      uint32_t cp = DecodeChar(s, pos);
      std::string_view ch(s.data() + pos, n);
      bool sep = IsPyWhitespace(cp) || cp == '-' || cp == '(' || cp == '[' || cp == '{' ||
                 cp == '<' || cp == '_';
      out += start ? ToUpperUtf8(ch) : ToLowerUtf8(ch);
      start = sep;
      pos += n;
    }
    return in.MakeString(std::move(out));
  }
  if (name == "default" || name == "d") {
    const Value* def = args.Get(0, "default_value");
    bool boolean = ArgBool(args.Get(1, "boolean"), false);
    bool use_default = input.is_undefined() || (boolean && !input.Truthy());
    if (!use_default) return input;
    return def != nullptr ? *def : Value::String("");
  }
  if (name == "tojson") {
    const Value* indent = args.Get(0, "indent");
    int width = -1;
    if (indent != nullptr && !indent->is_none()) {
      if (!indent->is_int() || indent->as_int() < 0 || indent->as_int() > 64) {
        return BadArgs("tojson");
      }
      width = static_cast<int>(indent->as_int());
    }
    bool sort_keys = ArgBool(args.Kw("sort_keys"), false);
    ASSIGN_OR_RETURN(std::string text,
                     ToJson(input, width, sort_keys, in.limits().max_string_bytes));
    return in.MakeString(std::move(text));
  }
  if (name == "int") return IntFilter(input, args);
  if (name == "float") return FloatFilter(input, args);
  if (name == "abs") {
    if (input.is_float()) return Value::Float(std::fabs(input.as_float()));
    if (!input.is_number() || input.as_int() == INT64_MIN) return BadArgs("abs");
    return Value::Int(std::llabs(input.as_int()));
  }
  if (name == "round") {
    if (!input.is_number()) return BadArgs("round");
    const Value* precision = args.Get(0, "precision");
    const Value* method = args.Get(1, "method");
    int64_t digits = precision != nullptr && precision->is_int() ? precision->as_int() : 0;
    if (digits < 0 || digits > 15) return BadArgs("round");
    double scale = std::pow(10.0, static_cast<double>(digits));
    double x = input.as_float() * scale;
    std::string how = method != nullptr && method->is_string() ? method->as_string() : "common";
    double r = how == "ceil" ? std::ceil(x) : how == "floor" ? std::floor(x) : std::nearbyint(x);
    return Value::Float(r / scale);
  }
  if (name == "first" || name == "last") {
    if (input.is_list()) {
      if (input.items().empty()) return Value::Undefined();
      return name == "first" ? input.items().front() : input.items().back();
    }
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    if (items.empty()) return Value::Undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    if (input.is_list() && !input.as_list().is_tuple) return input;
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    return Value::List(std::move(items));
  }
  if (name == "reverse") {
    if (input.is_string()) {
      return SliceValue(in, input, Value::None(), Value::None(), Value::Int(-1));
    }
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    std::reverse(items.begin(), items.end());
    return Value::List(std::move(items));
  }
  if (name == "join") {
    const Value* sep = args.Get(0, "d");
    const Value* attribute = args.Get(1, "attribute");
    std::string separator = sep != nullptr ? sep->Str() : "";
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    std::string out;
    size_t limit = in.limits().max_string_bytes;
    for (size_t i = 0; i < items.size(); ++i) {
      Value item = items[i];
      if (attribute != nullptr && !attribute->is_none()) {
        ASSIGN_OR_RETURN(item, AttrPath(in, item, *attribute));
      }
      if (i > 0) out += separator;
      if (out.size() > limit || !item.AppendStr(out, limit)) {
        return ResourceExhausted("template string exceeds the size limit");
      }
    }
    return in.MakeString(std::move(out));
  }
  if (name == "replace") {
    const Value* old = args.Get(0, "old");
    const Value* rep = args.Get(1, "new");
    const Value* count = args.Get(2, "count");
    if (old == nullptr || rep == nullptr) return BadArgs("replace");
    ASSIGN_OR_RETURN(std::string out,
                     PyReplace(in, input.Str(), old->Str(), rep->Str(),
                               count != nullptr && count->is_int() ? count->as_int() : -1));
    return in.MakeString(std::move(out));
  }
  if (name == "items") {
    if (input.is_undefined()) return Value::List({});
    if (!input.is_dict()) return BadArgs("items");
    return CallMethod(in, input, "items", CallArgs{});
  }
  if (name == "dictsort") {
    if (!input.is_dict()) return BadArgs("dictsort");
    ASSIGN_OR_RETURN(Value pairs, CallMethod(in, input, "items", CallArgs{}));
    const Value* by = args.Get(2, "by");
    Value index = Value::Int(by != nullptr && by->is_string() && by->as_string() == "value" ? 1 : 0);
    return Sorted(in, pairs, args, ArgBool(args.Get(3, "reverse"), false), &index,
                  ArgBool(args.Get(0, "case_sensitive"), false));
  }
  if (name == "sort") {
    return Sorted(in, input, args, ArgBool(args.Get(0, "reverse"), false),
                  args.Get(2, "attribute"), ArgBool(args.Get(1, "case_sensitive"), false));
  }
  if (name == "unique") {
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    const Value* attribute = args.Get(1, "attribute");
    bool case_sensitive = ArgBool(args.Get(0, "case_sensitive"), false);
    std::vector<Value> out, seen;
    for (const Value& item : items) {
      RETURN_IF_ERROR(in.CountIteration());
      Value key = item;
      if (attribute != nullptr && !attribute->is_none()) {
        ASSIGN_OR_RETURN(key, AttrPath(in, item, *attribute));
      }
      if (!case_sensitive && key.is_string()) key = Value::String(ToLowerUtf8(key.as_string()));
      bool dup = false;
      for (const Value& s : seen) {
        RETURN_IF_ERROR(in.CountIteration());
        if (s.Equals(key)) {
          dup = true;
          break;
        }
      }
      if (!dup) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return Value::List(std::move(out));
  }
  if (name == "min" || name == "max") return MinMax(in, input, args, name == "max");
  if (name == "sum") {
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    const Value* attribute = args.Get(0, "attribute");
    const Value* start = args.Get(1, "start");
    Value total = start != nullptr ? *start : Value::Int(0);
    for (const Value& item : items) {
      Value v = item;
      if (attribute != nullptr && !attribute->is_none()) {
        ASSIGN_OR_RETURN(v, AttrPath(in, item, *attribute));
      }
      ASSIGN_OR_RETURN(total, BinaryOp(in, "+", total, v));
    }
    return total;
  }
  if (name == "map") {
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in, input));
    const Value* attribute = args.Kw("attribute");
    std::vector<Value> out;
    out.reserve(items.size());
    if (attribute != nullptr) {
      const Value* def = args.Kw("default");
      for (const Value& item : items) {
        RETURN_IF_ERROR(in.CountIteration());
        ASSIGN_OR_RETURN(Value v, AttrPath(in, item, *attribute));
        if (v.is_undefined() && def != nullptr) v = *def;
        out.push_back(std::move(v));
      }
      return Value::List(std::move(out));
    }
    if (args.args.empty() || !args.args[0].is_string()) return BadArgs("map");
    std::string filter = args.args[0].as_string();
    if (filter == "map") return BadArgs("map");
    CallArgs rest;
    rest.args.assign(args.args.begin() + 1, args.args.end());
    rest.kwargs = args.kwargs;
    for (const Value& item : items) {
      RETURN_IF_ERROR(in.CountIteration());
      ASSIGN_OR_RETURN(Value v, ApplyFilter(in, filter, item, rest));
      out.push_back(std::move(v));
    }
    return Value::List(std::move(out));
  }
  if (name == "select" || name == "reject") {
    return SelectOrReject(in, input, args, false, name == "select");
  }
  if (name == "selectattr" || name == "rejectattr") {
    return SelectOrReject(in, input, args, true, name == "selectattr");
  }
  if (name == "attr") {
    const Value* attribute = args.Get(0, "name");
    if (attribute == nullptr || !attribute->is_string()) return BadArgs("attr");
    // Jinja's attr() is getattr() only: no fallback to dict items.
    if (input.is_dict() && !HasMethod(input, attribute->as_string())) return Value::Undefined();
    return in.GetAttr(input, attribute->as_string());
  }
  if (name == "indent") {
    const Value* width_v = args.Get(0, "width");
    std::string pad;
    if (width_v == nullptr || width_v->is_int()) {
      int64_t width = width_v != nullptr ? width_v->as_int() : 4;
      if (width < 0 || width > 256) return BadArgs("indent");
      pad.assign(static_cast<size_t>(width), ' ');
    } else {
      pad = width_v->Str();
    }
    bool first = ArgBool(args.Get(1, "first"), false);
    bool blank = ArgBool(args.Get(2, "blank"), false);
    std::string s = input.Str();
    std::string out;
    size_t pos = 0;
    bool first_line = true;
    while (true) {
      size_t nl = s.find('\n', pos);
      std::string_view line(s.data() + pos, (nl == std::string::npos ? s.size() : nl) - pos);
      bool indent_it = first_line ? first : (blank || !line.empty());
      if (indent_it) out += pad;
      out += line;
      if (out.size() > in.limits().max_string_bytes) {
        return ResourceExhausted("template string exceeds the size limit");
      }
      if (nl == std::string::npos) break;
      out.push_back('\n');
      pos = nl + 1;
      first_line = false;
    }
    return in.MakeString(std::move(out));
  }
  if (name == "wordcount") {
    ASSIGN_OR_RETURN(std::vector<std::string> words, PySplit(input.Str(), nullptr, -1, false));
    return Value::Int(static_cast<int64_t>(words.size()));
  }
  return InvalidArgument("unknown filter '" + std::string(name.substr(0, 32)) + "'");
}

}  // namespace ocular::chat::jinja
