#include "model/chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ocular::chat::jinja {

const Value* DictObject::Find(std::string_view key) const {
  auto it = index.find(std::string(key));
  return it == index.end() ? nullptr : &entries[it->second].second;
}

Value* NamespaceObject::Find(std::string_view key) {
  for (auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

Result<Value> Value::List(std::vector<Value> items, bool is_tuple) {
  auto list = std::make_shared<ListObject>();
  int depth = 1;
  for (const Value& item : items) depth = std::max(depth, item.depth() + 1);
  if (depth > kMaxValueDepth) return OutOfRange("template value nests too deeply");
  list->items = std::move(items);
  list->is_tuple = is_tuple;
  list->depth = depth;
  Value v;
  v.data_ = ListPtr(std::move(list));
  return v;
}

Result<Value> Value::Dict(std::vector<std::pair<std::string, Value>> entries) {
  auto dict = std::make_shared<DictObject>();
  int depth = 1;
  for (auto& [key, value] : entries) {
    depth = std::max(depth, value.depth() + 1);
    auto it = dict->index.find(key);
    if (it != dict->index.end()) {
      dict->entries[it->second].second = std::move(value);  // Python: later key wins
      continue;
    }
    dict->index.emplace(key, dict->entries.size());
    dict->entries.emplace_back(std::move(key), std::move(value));
  }
  if (depth > kMaxValueDepth) return OutOfRange("template value nests too deeply");
  dict->depth = depth;
  Value v;
  v.data_ = DictPtr(std::move(dict));
  return v;
}

namespace {

Result<Value> FromJsonAt(const nlohmann::ordered_json& json, int depth) {
  if (depth > kMaxValueDepth) return OutOfRange("template input nests too deeply");
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::Int(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Float(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::Float(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::String(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) {
        ASSIGN_OR_RETURN(Value v, FromJsonAt(item, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      std::vector<std::pair<std::string, Value>> entries;
      entries.reserve(json.size());
      for (auto it = json.begin(); it != json.end(); ++it) {
        ASSIGN_OR_RETURN(Value v, FromJsonAt(it.value(), depth + 1));
        entries.emplace_back(it.key(), std::move(v));
      }
      return Value::Dict(std::move(entries));
    }
    default:
      return InvalidArgument("unsupported JSON value in template input");
  }
}

}  // namespace

Result<Value> Value::FromJson(const nlohmann::ordered_json& json) { return FromJsonAt(json, 0); }

int Value::depth() const {
  if (is_list()) return as_list().depth;
  if (is_dict()) return as_dict().depth;
  return 0;
}

bool Value::Truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !items().empty();
    case Kind::kDict:
      return !as_dict().entries.empty();
    default:
      return true;
  }
}

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, as Python's repr (David Gay's algorithm gives the same digits).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]d[.ddd]e[+-]XX
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int exponent = std::atoi(sci.c_str() + e_pos + 1);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    out += exp_buf;
    return out;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
    return out;
  }
  size_t int_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_digits) {
    out += digits;
    out.append(int_digits - digits.size(), '0');
    out += ".0";
  } else {
    out.append(digits, 0, int_digits);
    out += '.';
    out.append(digits, int_digits, std::string::npos);
  }
  return out;
}

std::string PyStringRepr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(quote);
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else if (c == 0xC2 && i + 1 < s.size() &&
               static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      // C1 controls U+0080..U+009F are not printable in Python.
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(s[i + 1]));
      out += buf;
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back(quote);
  return out;
}

std::string Value::Str() const {
  std::string out;
  AppendStr(out, SIZE_MAX);
  return out;
}

std::string Value::Repr() const {
  std::string out;
  AppendRepr(out, SIZE_MAX);
  return out;
}

bool Value::AppendStr(std::string& out, size_t limit) const {
  if (is_undefined()) return true;
  if (is_string()) {
    if (as_string().size() > limit - std::min(limit, out.size())) return false;
    out += as_string();
    return true;
  }
  return AppendRepr(out, limit);
}

bool Value::AppendRepr(std::string& out, size_t limit) const {
  auto fits = [&]() { return out.size() <= limit; };
  switch (kind()) {
    case Kind::kUndefined:
      return true;
    case Kind::kNone:
      out += "None";
      return fits();
    case Kind::kBool:
      out += as_bool() ? "True" : "False";
      return fits();
    case Kind::kInt:
      out += std::to_string(as_int());
      return fits();
    case Kind::kFloat:
      out += PyFloatRepr(as_float());
      return fits();
    case Kind::kString:
      if (as_string().size() > limit - std::min(limit, out.size())) return false;
      out += PyStringRepr(as_string());
      return fits();
    case Kind::kList: {
      const ListObject& list = as_list();
      out += list.is_tuple ? "(" : "[";
      for (size_t i = 0; i < list.items.size(); ++i) {
        if (i > 0) out += ", ";
        if (!list.items[i].AppendRepr(out, limit)) return false;
      }
      if (list.is_tuple && list.items.size() == 1) out += ",";
      out += list.is_tuple ? ")" : "]";
      return fits();
    }
    case Kind::kDict: {
      out += "{";
      bool first = true;
      for (const auto& [key, value] : as_dict().entries) {
        if (!first) out += ", ";
        first = false;
        if (key.size() > limit - std::min(limit, out.size())) return false;
        out += PyStringRepr(key);
        out += ": ";
        if (!value.AppendRepr(out, limit)) return false;
      }
      out += "}";
      return fits();
    }
    case Kind::kNamespace:
      out += "<Namespace>";
      return fits();
    case Kind::kLoop:
      out += "<LoopContext>";
      return fits();
    case Kind::kCallable:
      out += "<callable " + as_callable().name + ">";
      return fits();
  }
  return true;
}

bool Value::Equals(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (is_float() || other.is_float()) return as_float() == other.as_float();
    return as_int() == other.as_int();
  }
  if (kind() != other.kind()) return false;
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return as_string() == other.as_string();
    case Kind::kList: {
      const auto& a = items();
      const auto& b = other.items();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].Equals(b[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const DictObject& a = as_dict();
      const DictObject& b = other.as_dict();
      if (a.entries.size() != b.entries.size()) return false;
      for (const auto& [key, value] : a.entries) {
        const Value* found = b.Find(key);
        if (found == nullptr || !value.Equals(*found)) return false;
      }
      return true;
    }
    case Kind::kNamespace:
      return &as_namespace() == &other.as_namespace();
    case Kind::kLoop:
      return &as_loop() == &other.as_loop();
    case Kind::kCallable:
      return &as_callable() == &other.as_callable();
    default:
      return false;
  }
}

std::string_view KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kUndefined: return "undefined";
    case Value::Kind::kNone: return "none";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return "string";
    case Value::Kind::kList: return "list";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kNamespace: return "namespace";
    case Value::Kind::kLoop: return "loop";
    case Value::Kind::kCallable: return "callable";
  }
  return "value";
}

namespace {

void JsonEscape(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

Status JsonDump(const Value& v, int indent, bool sort_keys, int level, size_t max_bytes,
                std::string& out) {
  if (out.size() > max_bytes) return ResourceExhausted("tojson output exceeds the size limit");
  auto newline = [&](int lvl) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(lvl), ' ');
  };
  switch (v.kind()) {
    case Value::Kind::kNone:
      out += "null";
      return OkStatus();
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return OkStatus();
    case Value::Kind::kInt:
      out += std::to_string(v.as_int());
      return OkStatus();
    case Value::Kind::kFloat: {
      double d = v.as_float();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d < 0 ? "-Infinity" : "Infinity";
      else out += PyFloatRepr(d);
      return OkStatus();
    }
    case Value::Kind::kString:
      if (v.as_string().size() > max_bytes - std::min(max_bytes, out.size())) {
        return ResourceExhausted("tojson output exceeds the size limit");
      }
      JsonEscape(v.as_string(), out);
      return OkStatus();
    case Value::Kind::kList: {
      const auto& items = v.items();
      if (items.empty()) {
        out += "[]";
        return OkStatus();
      }
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(level + 1);
        RETURN_IF_ERROR(JsonDump(items[i], indent, sort_keys, level + 1, max_bytes, out));
      }
      if (indent >= 0) newline(level);
      out.push_back(']');
      return OkStatus();
    }
    case Value::Kind::kDict: {
      const auto& entries = v.as_dict().entries;
      if (entries.empty()) {
        out += "{}";
        return OkStatus();
      }
      std::vector<size_t> order(entries.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (sort_keys) {
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return entries[a].first < entries[b].first; });
      }
      out.push_back('{');
      for (size_t i = 0; i < order.size(); ++i) {
        if (i > 0) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(level + 1);
        JsonEscape(entries[order[i]].first, out);
        out += ": ";
        RETURN_IF_ERROR(JsonDump(entries[order[i]].second, indent, sort_keys, level + 1, max_bytes, out));
      }
      if (indent >= 0) newline(level);
      out.push_back('}');
      return OkStatus();
    }
    default:
      return InvalidArgument("tojson: a " + std::string(KindName(v.kind())) +
                             " value is not JSON serializable");
  }
}

}  // namespace

Result<std::string> ToJson(const Value& value, int indent, bool sort_keys, size_t max_bytes) {
  std::string out;
  RETURN_IF_ERROR(JsonDump(value, indent, sort_keys, 0, max_bytes, out));
  if (out.size() > max_bytes) return ResourceExhausted("tojson output exceeds the size limit");
  return out;
}

Result<int> Compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.as_float(), y = b.as_float();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());  // UTF-8 byte order = code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i].Equals(y[i])) continue;
      return Compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return InvalidArgument("cannot order a " + std::string(KindName(a.kind())) + " and a " +
                         std::string(KindName(b.kind())));
}

}  // namespace ocular::chat::jinja
