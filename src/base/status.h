// Status and Result<T>: the one mechanism for bad input and bad environment (STYLE.md rule 10).
// A Status carries a code and a short message meant for users: it never contains payload bytes,
// addresses or library messages. Broken invariants use CHECK (base/check.h) instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace ocular {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // malformed request or file content
  kNotFound,           // missing file, key or tensor
  kOutOfRange,         // value outside a limit (maps to 400/413)
  kUnimplemented,      // valid but unsupported (e.g. FP8 weights, MoE)
  kResourceExhausted,  // a limit on size or count was hit (413/429)
  kFailedPrecondition, // wrong state (e.g. server draining)
  kPermissionDenied,   // blocked URL, path outside the media root
  kUnauthenticated,    // missing or wrong API key
  kCancelled,
  kDeadlineExceeded,
  kUnavailable,        // transient: overloaded, dependency down
  kDataLoss,           // corrupt or truncated file
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status OutOfRange(std::string message);
Status Unimplemented(std::string message);
Status ResourceExhausted(std::string message);
Status FailedPrecondition(std::string message);
Status PermissionDenied(std::string message);
Status Unauthenticated(std::string message);
Status Cancelled(std::string message);
Status DeadlineExceeded(std::string message);
Status Unavailable(std::string message);
Status DataLoss(std::string message);
Status Internal(std::string message);

// Result<T>: a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    CHECK(!status_.ok()) << "Result constructed from an OK status without a value";
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    CHECK(ok()) << "Result::value() on error: " << status_.ToString();
    return *value_;
  }
  const T& value() const& {
    CHECK(ok()) << "Result::value() on error: " << status_.ToString();
    return *value_;
  }
  T&& value() && {
    CHECK(ok()) << "Result::value() on error: " << status_.ToString();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ocular

#define OCULAR_CONCAT_INNER(a, b) a##b
#define OCULAR_CONCAT(a, b) OCULAR_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr): propagate a non-OK Status.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::ocular::Status _ocular_status = (expr);      \
    if (!_ocular_status.ok()) return _ocular_status; \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): unwrap a Result or propagate its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(OCULAR_CONCAT(_ocular_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
