// Logging: thin wrappers over spdlog so the rest of the code does not depend on it directly.
// Thread-safe. Messages go to stderr; the level is set once in apps/.
#pragma once

#include <spdlog/spdlog.h>

namespace ocular {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };
void SetLogLevel(LogLevel level);
// Points the default logger at stderr (spdlog's own default writes to stdout, which would mix
// log lines into `ocular run --json` and other machine-read output). Called first in main().
void LogToStderr();
// Sets the level from OCULAR_LOG_LEVEL (debug, info, warn, error, off) when it is set.
// Returns false (and changes nothing) for any other value.
bool SetLogLevelFromEnv();

}  // namespace ocular

#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
