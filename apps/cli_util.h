// Shared helpers for the `ocular` subcommands: uniform errors (one line on stderr, exit 2).
#pragma once

#include <cstdio>
#include <string>

#include "base/status.h"

namespace ocular::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

// Prints "ocular <command>: error: <message>" and returns kExitError.
inline int Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "ocular %s: error: %s\n", command, status.message().c_str());
  return kExitError;
}
inline int Fail(const char* command, const std::string& message) {
  std::fprintf(stderr, "ocular %s: error: %s\n", command, message.c_str());
  return kExitError;
}

}  // namespace ocular::cli
