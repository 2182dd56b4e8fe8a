#include "base/log.h"

#include <gtest/gtest.h>

namespace ocular {
namespace {

// Machine-read output (`ocular run --json`, `inspect --json`) is on stdout: log lines must not be.
TEST(LogTest, LinesGoToStderrNotStdout) {
  LogToStderr();
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  LOG_WARN("log line {}", 42);
  spdlog::default_logger()->flush();
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("log line 42"), std::string::npos) << err;
}

}  // namespace
}  // namespace ocular
