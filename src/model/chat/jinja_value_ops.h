// Python semantics of the operators on template values: arithmetic, concatenation,
// comparison, membership, iteration, indexing and slicing. Every result that allocates is
// checked against the interpreter's budget before it is built.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/chat/jinja_value.h"

namespace ocular::chat::jinja {

class Interpreter;

// Items of an iterable: list items, dict keys, string characters; Undefined is empty.
Result<std::vector<Value>> Iterate(Interpreter& in, const Value& value);

// Python len(); error for values without a length.
Result<int64_t> Length(const Value& value);

// `item in container`.
Result<bool> Contains(const Value& container, const Value& item);

// obj[index] for lists and strings (negative indices count from the end; out of range is
// Undefined, as Jinja's getitem).
Result<Value> IndexValue(Interpreter& in, const Value& object, int64_t index);

// obj[start:stop:step] for lists and strings (None = omitted bound).
Result<Value> SliceValue(Interpreter& in, const Value& object, const Value& start,
                         const Value& stop, const Value& step);

// Unary "-" / "+".
Result<Value> UnaryArith(std::string_view op, const Value& operand);

// Binary operators other than and/or: + - * / // % ** ~ == != < <= > >= in, not in.
Result<Value> BinaryOp(Interpreter& in, std::string_view op, const Value& left,
                       const Value& right);

}  // namespace ocular::chat::jinja
