#include "base/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

#include "base/aligned_buffer.h"

namespace ocular {
namespace {

bool Aligned(const void* p, uintptr_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

TEST(HugePageAllocatorTest, SmallAndLargeAllocationsAreAlignedAndUsable) {
  for (size_t bytes : {size_t{1}, size_t{4096}, kHugePageBytes - 1, kHugePageBytes,
                       kHugePageBytes + 12345, size_t{7} << 20}) {
    auto* p = static_cast<unsigned char*>(AllocateLarge(bytes));
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(Aligned(p, 64)) << bytes;
    if (bytes >= kHugePageBytes) EXPECT_TRUE(Aligned(p, kHugePageBytes)) << bytes;
    p[bytes - 1] = 2;  // the last byte is inside the allocation
    p[0] = 1;
    EXPECT_EQ(p[0], 1);
    if (bytes > 1) EXPECT_EQ(p[bytes - 1], 2);
    FreeLarge(p, bytes);
  }
}

TEST(HugePageAllocatorTest, VectorsGrowKeepTheirValuesAndCompareEqual) {
  LargeVector<float> v(1000, 1.5f);  // explicit values are still constructed
  for (float x : v) ASSERT_EQ(x, 1.5f);
  v.resize(size_t{3} << 20);  // crosses to a large allocation: the old values move over
  EXPECT_EQ(v[999], 1.5f);
  v[v.size() - 1] = 4.0f;
  EXPECT_TRUE(Aligned(v.data(), kHugePageBytes));
  LargeVector<float> w = v;
  EXPECT_EQ(w[999], 1.5f);
  EXPECT_EQ(w.back(), 4.0f);
  EXPECT_TRUE(HugePageAllocator<float>() == HugePageAllocator<double>());
}

TEST(HugePageAllocatorTest, LargeAlignedBuffersMoveAndFree) {
  AlignedBuffer a = AlignedBuffer::Large(size_t{5} << 20);
  ASSERT_EQ(a.size(), size_t{5} << 20);
  EXPECT_TRUE(Aligned(a.data(), kHugePageBytes));
  a.as<float>()[0] = 3.0f;
  AlignedBuffer b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.as<float>()[0], 3.0f);
  AlignedBuffer c(100);  // a plain buffer moved over a large one frees the large one
  b = std::move(c);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_TRUE(AlignedBuffer::Large(0).empty());
}

}  // namespace
}  // namespace ocular
