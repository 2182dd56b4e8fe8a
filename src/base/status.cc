#include "base/status.h"

namespace ocular {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(StatusCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

#define OCULAR_STATUS_CTOR(Name, Code) \
  Status Name(std::string message) { return Status(StatusCode::Code, std::move(message)); }
OCULAR_STATUS_CTOR(InvalidArgument, kInvalidArgument)
OCULAR_STATUS_CTOR(NotFound, kNotFound)
OCULAR_STATUS_CTOR(OutOfRange, kOutOfRange)
OCULAR_STATUS_CTOR(Unimplemented, kUnimplemented)
OCULAR_STATUS_CTOR(ResourceExhausted, kResourceExhausted)
OCULAR_STATUS_CTOR(FailedPrecondition, kFailedPrecondition)
OCULAR_STATUS_CTOR(PermissionDenied, kPermissionDenied)
OCULAR_STATUS_CTOR(Unauthenticated, kUnauthenticated)
OCULAR_STATUS_CTOR(Cancelled, kCancelled)
OCULAR_STATUS_CTOR(DeadlineExceeded, kDeadlineExceeded)
OCULAR_STATUS_CTOR(Unavailable, kUnavailable)
OCULAR_STATUS_CTOR(DataLoss, kDataLoss)
OCULAR_STATUS_CTOR(Internal, kInternal)
#undef OCULAR_STATUS_CTOR

}  // namespace ocular
