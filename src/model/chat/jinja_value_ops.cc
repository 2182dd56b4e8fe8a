#include "model/chat/jinja_value_ops.h"

#include <cmath>
#include <string>

#include "model/chat/jinja_interpreter.h"
#include "model/chat/utf8_util.h"

namespace ocular::chat::jinja {
namespace {

Status TypeError(std::string_view op, const Value& a, const Value& b) {
  return InvalidArgument("unsupported operand types for " + std::string(op) + ": " +
                         std::string(KindName(a.kind())) + " and " +
                         std::string(KindName(b.kind())));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t FloorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Result<Value> Arith(std::string_view op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) return TypeError(op, a, b);
  bool ints = !a.is_float() && !b.is_float();
  if (op == "/") {
    if (b.as_float() == 0.0) return InvalidArgument("division by zero");
    return Value::Float(a.as_float() / b.as_float());
  }
  if (ints) {
    int64_t x = a.as_int(), y = b.as_int(), r = 0;
    if (op == "+") {
      if (__builtin_add_overflow(x, y, &r)) return OutOfRange("integer overflow");
    } else if (op == "-") {
      if (__builtin_sub_overflow(x, y, &r)) return OutOfRange("integer overflow");
    } else if (op == "*") {
      if (__builtin_mul_overflow(x, y, &r)) return OutOfRange("integer overflow");
    } else if (op == "//" || op == "%") {
      if (y == 0) return InvalidArgument("division by zero");
      if (x == INT64_MIN && y == -1) return OutOfRange("integer overflow");
      r = op == "//" ? FloorDiv(x, y) : FloorMod(x, y);
    } else if (op == "**") {
      if (y < 0) {
        if (x == 0) return InvalidArgument("zero to a negative power");
        return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
      }
      r = 1;
      int64_t base = x;
      while (y > 0) {
        if (y & 1) {
          if (__builtin_mul_overflow(r, base, &r)) return OutOfRange("integer overflow");
        }
        y >>= 1;
        if (y > 0 && __builtin_mul_overflow(base, base, &base)) {
          return OutOfRange("integer overflow");
        }
      }
    }
    return Value::Int(r);
  }
  double x = a.as_float(), y = b.as_float();
  if (op == "+") return Value::Float(x + y);
  if (op == "-") return Value::Float(x - y);
  if (op == "*") return Value::Float(x * y);
  if (op == "//" || op == "%") {
    if (y == 0.0) return InvalidArgument("division by zero");
    double m = std::fmod(x, y);
    if (m != 0.0 && ((m < 0) != (y < 0))) m += y;
    if (op == "%") return Value::Float(m);
    // CPython float_floor_div.
    double div = (x - std::fmod(x, y)) / y;
    double mod = std::fmod(x, y);
    if (mod != 0.0 && ((y < 0) != (mod < 0))) div -= 1.0;
    double floordiv = 0.0;
    if (div != 0.0) {
      floordiv = std::floor(div);
      if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
      floordiv = std::copysign(0.0, x / y);
    }
    return Value::Float(floordiv);
  }
  if (op == "**") {
    if (x == 0.0 && y < 0) return InvalidArgument("zero to a negative power");
    return Value::Float(std::pow(x, y));
  }
  return TypeError(op, a, b);
}

Result<Value> Repeat(Interpreter& in, const Value& seq, int64_t count) {
  if (count < 0) count = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(count) > in.limits().max_string_bytes / s.size()) {
      return ResourceExhausted("template string exceeds the size limit");
    }
    std::string out;
    RETURN_IF_ERROR(in.Charge(s.size() * static_cast<uint64_t>(count)));
    const size_t total = s.size() * static_cast<size_t>(count);
    out.reserve(total);
    if (count > 0) out = s;
    while (!out.empty() && out.size() * 2 <= total) out += out;  // doubling: O(total) copies, few calls
    out.append(out.data(), total - out.size());
    return Value::String(std::move(out));
  }
  const auto& items = seq.items();
  if (!items.empty() && static_cast<uint64_t>(count) >
                            static_cast<uint64_t>(in.limits().max_range) / items.size()) {
    return ResourceExhausted("template list exceeds the size limit");
  }
  RETURN_IF_ERROR(in.Charge(items.size() * static_cast<uint64_t>(count) * sizeof(Value)));
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::List(std::move(out), seq.as_list().is_tuple);
}

// Python slice index normalisation (PySlice_AdjustIndices).
void AdjustSlice(int64_t length, int64_t& start, int64_t& stop, int64_t step, bool has_start,
                 bool has_stop) {
  if (!has_start) {
    start = step < 0 ? length - 1 : 0;
  } else if (start < 0) {
    start += length;
    if (start < 0) start = step < 0 ? -1 : 0;
  } else if (start >= length) {
    start = step < 0 ? length - 1 : length;
  }
  if (!has_stop) {
    stop = step < 0 ? -1 : length;
  } else if (stop < 0) {
    stop += length;
    if (stop < 0) stop = step < 0 ? -1 : 0;
  } else if (stop >= length) {
    stop = step < 0 ? length - 1 : length;
  }
}

}  // namespace

Result<std::vector<Value>> Iterate(Interpreter& in, const Value& value) {
  std::vector<Value> out;
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return out;
    case Value::Kind::kList:
      RETURN_IF_ERROR(in.Charge(value.items().size() * sizeof(Value)));
      return value.items();
    case Value::Kind::kDict:
      RETURN_IF_ERROR(in.Charge(value.as_dict().entries.size() * sizeof(Value)));
      for (const auto& [k, v] : value.as_dict().entries) out.push_back(Value::String(k));
      return out;
    case Value::Kind::kNamespace:
      break;
    case Value::Kind::kString: {
      const std::string& s = value.as_string();
      RETURN_IF_ERROR(in.Charge(s.size() * (sizeof(Value) + 16)));
      for (size_t pos = 0; pos < s.size();) {
        size_t n = CharLength(s, pos);
        out.push_back(Value::String(s.substr(pos, n)));
        pos += n;
      }
      return out;
    }
    default:
      break;
  }
  return InvalidArgument("a " + std::string(KindName(value.kind())) + " is not iterable");
}

Result<int64_t> Length(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(CharCount(value.as_string()));
    case Value::Kind::kList:
      return static_cast<int64_t>(value.items().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(value.as_dict().entries.size());
    default:
      return InvalidArgument("a " + std::string(KindName(value.kind())) + " has no length");
  }
}

Result<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!item.is_string()) return InvalidArgument("'in <string>' requires a string");
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.items()) {
        if (v.Equals(item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      return item.is_string() && container.as_dict().Find(item.as_string()) != nullptr;
    default:
      return InvalidArgument("a " + std::string(KindName(container.kind())) +
                             " does not support 'in'");
  }
}

Result<Value> IndexValue(Interpreter& in, const Value& object, int64_t index) {
  if (object.is_list()) {
    int64_t n = static_cast<int64_t>(object.items().size());
    if (index < 0) index += n;
    if (index < 0 || index >= n) return Value::Undefined();
    return object.items()[static_cast<size_t>(index)];
  }
  const std::string& s = object.as_string();
  std::vector<size_t> offsets = CharOffsets(s);
  int64_t n = static_cast<int64_t>(offsets.size()) - 1;
  if (index < 0) index += n;
  if (index < 0 || index >= n) return Value::Undefined();
  size_t i = static_cast<size_t>(index);
  return in.MakeString(s.substr(offsets[i], offsets[i + 1] - offsets[i]));
}

Result<Value> SliceValue(Interpreter& in, const Value& object, const Value& start_v,
                         const Value& stop_v, const Value& step_v) {
  if (!object.is_list() && !object.is_string()) {
    if (object.is_undefined()) return InvalidArgument("slice of an undefined value");
    return InvalidArgument("a " + std::string(KindName(object.kind())) + " cannot be sliced");
  }
  auto as_index = [](const Value& v, int64_t& out) -> Status {
    if (v.is_none()) return OkStatus();
    if (!v.is_int() && !v.is_bool()) return InvalidArgument("slice indices must be integers");
    out = v.as_int();
    return OkStatus();
  };
  int64_t start = 0, stop = 0, step = 1;
  RETURN_IF_ERROR(as_index(start_v, start));
  RETURN_IF_ERROR(as_index(stop_v, stop));
  RETURN_IF_ERROR(as_index(step_v, step));
  if (step == 0) return InvalidArgument("slice step cannot be zero");
  if (step == INT64_MIN) step = -INT64_MAX;
  std::vector<size_t> offsets;
  int64_t length;
  if (object.is_list()) {
    length = static_cast<int64_t>(object.items().size());
  } else {
    offsets = CharOffsets(object.as_string());
    length = static_cast<int64_t>(offsets.size()) - 1;
  }
  AdjustSlice(length, start, stop, step, !start_v.is_none(), !stop_v.is_none());
  std::vector<int64_t> picked;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    picked.push_back(i);
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  if (object.is_list()) {
    RETURN_IF_ERROR(in.Charge(picked.size() * sizeof(Value)));
    std::vector<Value> out;
    out.reserve(picked.size());
    for (int64_t i : picked) out.push_back(object.items()[static_cast<size_t>(i)]);
    return Value::List(std::move(out), object.as_list().is_tuple);
  }
  const std::string& s = object.as_string();
  std::string out;
  for (int64_t i : picked) {
    size_t k = static_cast<size_t>(i);
    out.append(s, offsets[k], offsets[k + 1] - offsets[k]);
  }
  return in.MakeString(std::move(out));
}

Result<Value> UnaryArith(std::string_view op, const Value& operand) {
  if (!operand.is_number()) {
    return InvalidArgument("bad operand type for unary " + std::string(op) + ": " +
                           std::string(KindName(operand.kind())));
  }
  if (op == "+") return operand.is_float() ? operand : Value::Int(operand.as_int());
  if (operand.is_float()) return Value::Float(-operand.as_float());
  if (operand.as_int() == INT64_MIN) return OutOfRange("integer overflow");
  return Value::Int(-operand.as_int());
}

Result<Value> BinaryOp(Interpreter& in, std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return Value::Bool(a.Equals(b));
  if (op == "!=") return Value::Bool(!a.Equals(b));
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    ASSIGN_OR_RETURN(int c, Compare(a, b));
    if (op == "<") return Value::Bool(c < 0);
    if (op == "<=") return Value::Bool(c <= 0);
    if (op == ">") return Value::Bool(c > 0);
    return Value::Bool(c >= 0);
  }
  if (op == "in" || op == "not in") {
    ASSIGN_OR_RETURN(bool found, Contains(b, a));
    return Value::Bool(found == (op == "in"));
  }
  if (op == "~") {
    std::string out;
    size_t limit = in.limits().max_string_bytes;
    if (!a.AppendStr(out, limit) || !b.AppendStr(out, limit)) {
      return ResourceExhausted("template string exceeds the size limit");
    }
    return in.MakeString(std::move(out));
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      if (a.as_string().size() + b.as_string().size() > in.limits().max_string_bytes) {
        return ResourceExhausted("template string exceeds the size limit");
      }
      return in.MakeString(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list()) {
      size_t n = a.items().size() + b.items().size();
      if (n > static_cast<size_t>(in.limits().max_range)) {
        return ResourceExhausted("template list exceeds the size limit");
      }
      RETURN_IF_ERROR(in.Charge(n * sizeof(Value)));
      std::vector<Value> out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return Value::List(std::move(out), a.as_list().is_tuple);
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
      return Repeat(in, a, b.as_int());
    }
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
      return Repeat(in, b, a.as_int());
    }
  }
  if (op == "%" && a.is_string()) {
    return Unimplemented("printf-style string formatting is not supported");
  }
  return Arith(op, a, b);
}

}  // namespace ocular::chat::jinja
