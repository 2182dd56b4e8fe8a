#include "tests/support/golden.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

namespace ocular::testing {

std::optional<std::filesystem::path> GoldenDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("OCULAR_GOLDEN_DIR"); env != nullptr && *env) {
    if (fs::is_directory(env)) return fs::path(env);
    return std::nullopt;
  }
  fs::path p = fs::path(OCULAR_SOURCE_DIR).parent_path() / "shared" / "golden";
  if (fs::is_directory(p / "models")) return p;
  return std::nullopt;
}

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string ReadFileText(const std::filesystem::path& path) {
  auto b = ReadFileBytes(path);
  return std::string(b.begin(), b.end());
}

template <typename T>
static std::vector<T> ReadRaw(const std::filesystem::path& path) {
  auto b = ReadFileBytes(path);
  if (b.size() % sizeof(T) != 0) {
    ADD_FAILURE() << path << " size not a multiple of " << sizeof(T);
    return {};
  }
  std::vector<T> v(b.size() / sizeof(T));
  if (!b.empty()) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

std::vector<float> ReadF32(const std::filesystem::path& path) { return ReadRaw<float>(path); }
std::vector<int32_t> ReadI32(const std::filesystem::path& path) { return ReadRaw<int32_t>(path); }

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("ocular_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ocular::testing
