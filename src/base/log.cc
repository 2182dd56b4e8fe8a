#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string_view>

namespace ocular {

void LogToStderr() {
  auto logger = spdlog::get("ocular");
  if (!logger) logger = spdlog::stderr_color_mt("ocular");
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
}

void SetLogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: spdlog::set_level(spdlog::level::debug); break;
    case LogLevel::kInfo: spdlog::set_level(spdlog::level::info); break;
    case LogLevel::kWarn: spdlog::set_level(spdlog::level::warn); break;
    case LogLevel::kError: spdlog::set_level(spdlog::level::err); break;
    case LogLevel::kOff: spdlog::set_level(spdlog::level::off); break;
  }
}

bool SetLogLevelFromEnv() {
  const char* v = std::getenv("OCULAR_LOG_LEVEL");
  if (v == nullptr) return true;
  const std::string_view s(v);
  if (s == "debug") {
    SetLogLevel(LogLevel::kDebug);
  } else if (s == "info") {
    SetLogLevel(LogLevel::kInfo);
  } else if (s == "warn") {
    SetLogLevel(LogLevel::kWarn);
  } else if (s == "error") {
    SetLogLevel(LogLevel::kError);
  } else if (s == "off") {
    SetLogLevel(LogLevel::kOff);
  } else {
    return false;
  }
  return true;
}

}  // namespace ocular
