#include "cache/features/feature_entry.h"

#include "base/check.h"
#include "base/checked_math.h"

namespace ocular::features {

FeatureArray FeatureArray::Zeros(int64_t rows, int64_t cols) {
  CHECK_GE(rows, 0);
  CHECK_GE(cols, 0);
  uint64_t bytes = 0;
  CHECK(CheckedProduct({static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), sizeof(float)},
                       &bytes))
      << "feature array size overflows";
  FeatureArray a;
  a.rows = rows;
  a.cols = cols;
  a.data = AlignedBuffer::Large(static_cast<size_t>(bytes));
  a.data.Zero();
  return a;
}

size_t FeatureEntry::ByteSize() const {
  size_t bytes = sizeof(FeatureEntry) + embeddings.byte_size();
  for (const FeatureArray& level : deepstack) bytes += sizeof(FeatureArray) + level.byte_size();
  return bytes;
}

}  // namespace ocular::features
