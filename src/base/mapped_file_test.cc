// MappedFile: the mapping shows the file's bytes, Contains bounds ranges (no overflow), and
// CopyOut reads the same bytes from the file without touching the mapping, failing cleanly
// when the file shrank after it was mapped.
#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace ocular {
namespace {

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 7 + 3) ^ (i >> 11));
  return v;
}

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("ocular_mapped_file_test_" + std::to_string(::getpid()) + ".bin"))
                .string();
    bytes_ = Pattern(300'001);  // not a whole number of pages
    std::ofstream(path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes_.data()), static_cast<std::streamsize>(bytes_.size()));
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
  std::vector<uint8_t> bytes_;
};

TEST_F(MappedFileTest, ContainsBoundsRanges) {
  auto f = MappedFile::Open(path_);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const uint8_t* d = f->data();
  EXPECT_TRUE(f->Contains(d, bytes_.size()));
  EXPECT_TRUE(f->Contains(d + bytes_.size(), 0));
  EXPECT_TRUE(f->Contains(d + 5, bytes_.size() - 5));
  EXPECT_FALSE(f->Contains(d + 5, bytes_.size() - 4));
  EXPECT_FALSE(f->Contains(d - 1, 2));
  EXPECT_FALSE(f->Contains(d + 1, std::numeric_limits<size_t>::max()));
  int outside = 0;
  EXPECT_FALSE(f->Contains(&outside, sizeof outside));
}

TEST_F(MappedFileTest, CopyOutReadsTheFileBytes) {
  auto f = MappedFile::Open(path_);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), bytes_.size());
  for (auto [b, n] : {std::pair<size_t, size_t>{0, bytes_.size()}, {4095, 70'003}, {299'990, 11}}) {
    std::vector<uint8_t> out(n, 0xAA);
    ASSERT_TRUE(f->CopyOut(f->data() + b, n, out.data()).ok());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), bytes_.begin() + static_cast<ptrdiff_t>(b)))
        << "range " << b << " + " << n;
  }
}

TEST_F(MappedFileTest, CopyOutOfAShrunkFileIsAnError) {
  auto f = MappedFile::Open(path_);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  std::filesystem::resize_file(path_, 1000);
  std::vector<uint8_t> out(5000);
  const Status s = f->CopyOut(f->data() + 200'000, out.size(), out.data());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("short read"), std::string::npos) << s.ToString();
  // The bytes still in the file are read.
  EXPECT_TRUE(f->CopyOut(f->data() + 10, 900, out.data()).ok());
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 900, bytes_.begin() + 10));
}

}  // namespace
}  // namespace ocular
