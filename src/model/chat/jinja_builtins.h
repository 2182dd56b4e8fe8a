// Builtin filters, tests, global functions and methods of the Jinja subset (internal).
// Semantics follow Jinja2 3.1 and HF's environment (`tojson` = json.dumps(ensure_ascii=False),
// `raise_exception`); names outside this set fail with a clear error instead of rendering
// something plausible but wrong.
#pragma once

#include <string_view>

#include "base/status.h"
#include "model/chat/jinja_interpreter.h"
#include "model/chat/jinja_value.h"

namespace ocular::chat::jinja {

// Filters (jinja_filters.cc).
Result<Value> ApplyFilter(Interpreter& in, std::string_view name, const Value& input,
                          const CallArgs& args);

// Tests and globals and methods (jinja_methods.cc).
Result<bool> ApplyTest(Interpreter& in, std::string_view name, const Value& input,
                       const CallArgs& args);
bool IsGlobalFunction(std::string_view name);
Result<Value> CallGlobal(Interpreter& in, std::string_view name, const CallArgs& args);
// Whether `receiver.name(...)` is a supported method (str and dict methods).
bool HasMethod(const Value& receiver, std::string_view name);
Result<Value> CallMethod(Interpreter& in, const Value& receiver, std::string_view name,
                         const CallArgs& args);
// loop.index, loop.first, ... and loop.cycle.
Result<Value> LoopAttribute(const Value& loop, std::string_view name);

// Shared helpers.
// Python str.strip/lstrip/rstrip; `chars` null = whitespace.
std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right);
// Python str.split / rsplit; `sep` null = runs of whitespace.
Result<std::vector<std::string>> PySplit(std::string_view s, const std::string* sep,
                                         int64_t maxsplit, bool from_right);
// Python str.replace.
Result<std::string> PyReplace(Interpreter& in, const std::string& s, const std::string& old,
                              const std::string& replacement, int64_t count);

}  // namespace ocular::chat::jinja
