#include "base/log.h"

#include <gtest/gtest.h>

#include <cstdlib>

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

TEST(LogTest, LevelFromEnvironment) {
  ASSERT_EQ(setenv("OCULAR_LOG_LEVEL", "debug", 1), 0);
  EXPECT_TRUE(SetLogLevelFromEnv());
  EXPECT_TRUE(spdlog::should_log(spdlog::level::debug));
  ASSERT_EQ(setenv("OCULAR_LOG_LEVEL", "warn", 1), 0);
  EXPECT_TRUE(SetLogLevelFromEnv());
  EXPECT_FALSE(spdlog::should_log(spdlog::level::info));
  EXPECT_TRUE(spdlog::should_log(spdlog::level::warn));
  ASSERT_EQ(setenv("OCULAR_LOG_LEVEL", "verbose", 1), 0);
  EXPECT_FALSE(SetLogLevelFromEnv());  // unknown: refused, level unchanged
  EXPECT_FALSE(spdlog::should_log(spdlog::level::info));
  ASSERT_EQ(unsetenv("OCULAR_LOG_LEVEL"), 0);
  EXPECT_TRUE(SetLogLevelFromEnv());
  SetLogLevel(LogLevel::kInfo);
}

}  // namespace
}  // namespace ocular
