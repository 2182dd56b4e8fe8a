// Locating ../shared/golden for tests.
//
// Golden data is found through $OCULAR_GOLDEN_DIR, else next to the repository
// (<repo>/../shared/golden). Where it is absent (a user's fresh clone) tests that need it are
// reported as SKIPPED with a loud message, never as passed; under CI (CI set in the
// environment) absence is a failure.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ocular::testing {

std::optional<std::filesystem::path> GoldenDir();

// Reads a whole file; fails the test (ADD_FAILURE) and returns empty on error.
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);
std::string ReadFileText(const std::filesystem::path& path);
// Raw little-endian float32 / int32 files (golden formats).
std::vector<float> ReadF32(const std::filesystem::path& path);
std::vector<int32_t> ReadI32(const std::filesystem::path& path);

// A fresh empty temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ocular::testing

// Skips (or under CI fails) the current test when the golden data is missing; otherwise
// declares `golden` (a std::filesystem::path) in the enclosing scope.
#define OCULAR_REQUIRE_GOLDEN(golden)                                                        \
  auto golden##_opt = ::ocular::testing::GoldenDir();                                         \
  if (!golden##_opt) {                                                                        \
    if (std::getenv("CI") != nullptr) {                                                       \
      FAIL() << "golden data (../shared/golden) missing under CI";                            \
    }                                                                                         \
    GTEST_SKIP() << "\n*** SKIPPED: golden data not found. Set OCULAR_GOLDEN_DIR or place " \
                    "shared/golden beside the repository. ***";                               \
  }                                                                                           \
  const std::filesystem::path golden = *golden##_opt
