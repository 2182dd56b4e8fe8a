// WeightLayout::kGemvPacked: packing at load, unpacking for the paths that want row-major
// blocks (oneDNN tiles, row gathers, ISAs without the packed kernel). The layout is
// documented in kernels.h.
#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "kernels/kernels.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

constexpr int kGroupRows = 16;

// 4-byte words of quants per row and block.
int Words(DType dtype) {
  CHECK(dtype == DType::kQ8_0 || dtype == DType::kQ4_0) << "packed GEMV layout is q8_0 / q4_0";
  return dtype == DType::kQ8_0 ? 8 : 4;
}

int64_t BlockBytes(DType dtype) {
  return dtype == DType::kQ8_0 ? int64_t{sizeof(BlockQ8_0)} : int64_t{sizeof(BlockQ4_0)};
}

// Offsets in a group (kernels.h): block pair p starts at p * (64 + 2 * words * 64) with the
// 64-byte scale line, then the quants of block 2p and of block 2p + 1.
int64_t QuantsOffset(int words, int64_t b) {
  return (b / 2) * (64 + 2 * words * 64) + 64 + (b % 2) * words * 64;
}
int64_t ScalesOffset(int words, int64_t b) {
  return (b / 2) * (64 + 2 * words * 64) + (b % 2) * 32;
}

}  // namespace

int64_t GemvGroupBytes(DType dtype, int64_t cols) {
  CHECK_EQ(cols % 32, 0);
  const int64_t nb = cols / 32;
  return (nb + 1) / 2 * 64 + nb * Words(dtype) * 64;
}

int64_t GemvPackedBytes(DType dtype, int64_t rows, int64_t cols) {
  return (rows + kGroupRows - 1) / kGroupRows * GemvGroupBytes(dtype, cols);
}

bool GemvPackingPays(const ComputeContext& ctx) { return ctx.isa() == Isa::kAvx512; }

void PackGemvGroup(DType dtype, int64_t cols, const void* src, int64_t src_stride, int count,
                   void* dst) {
  CHECK(count >= 1 && count <= kGroupRows);
  const int words = Words(dtype);
  const int64_t nb = cols / 32, block_bytes = BlockBytes(dtype);
  const uint8_t flip = dtype == DType::kQ8_0 ? 0x80 : 0x00;  // q8_0: value + 128
  auto* group = static_cast<uint8_t*>(dst);
  std::memset(dst, 0, static_cast<size_t>(GemvGroupBytes(dtype, cols)));
  for (int r = 0; r < count; ++r) {
    const auto* row = static_cast<const uint8_t*>(src) + r * src_stride;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * block_bytes;
      // The f16 d leads both block types.
      std::memcpy(group + ScalesOffset(words, b) + 2 * r, blk, 2);
      const uint8_t* qs = blk + 2;
      for (int t = 0; t < words; ++t) {
        uint8_t* out = group + QuantsOffset(words, b) + (t * kGroupRows + r) * 4;
        for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(qs[4 * t + i] ^ flip);
      }
    }
  }
}

WeightMatrix PackForGemv(ComputeContext& ctx, const WeightMatrix& src, void* dst) {
  CHECK(!src.packed());
  CHECK(reinterpret_cast<uintptr_t>(dst) % 64 == 0) << "packed weights must be 64-byte aligned";
  const int64_t groups = (src.rows + kGroupRows - 1) / kGroupRows;
  const int64_t gbytes = GemvGroupBytes(src.dtype, src.cols);
  ctx.pool().ParallelRange(groups, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t g = b; g < e; ++g) {
      const int count = static_cast<int>(std::min<int64_t>(kGroupRows, src.rows - g * kGroupRows));
      PackGemvGroup(src.dtype, src.cols, src.Row(g * kGroupRows), src.Stride(), count,
                    static_cast<uint8_t*>(dst) + g * gbytes);
    }
  });
  WeightMatrix w = src;
  w.data = dst;
  w.row_stride_bytes = 0;
  w.layout = WeightLayout::kGemvPacked;
  return w;
}

void UnpackGemvRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, void* dst) {
  CHECK(w.packed());
  CHECK(row_begin >= 0 && row_begin <= row_end && row_end <= w.rows);
  const int words = Words(w.dtype);
  const int64_t nb = w.cols / 32, block_bytes = BlockBytes(w.dtype);
  const int64_t gbytes = GemvGroupBytes(w.dtype, w.cols), row_bytes = nb * block_bytes;
  const uint8_t flip = w.dtype == DType::kQ8_0 ? 0x80 : 0x00;
  for (int64_t j = row_begin; j < row_end; ++j) {
    const auto* group = static_cast<const uint8_t*>(w.data) + (j / kGroupRows) * gbytes;
    const int64_t r = j % kGroupRows;
    uint8_t* row = static_cast<uint8_t*>(dst) + (j - row_begin) * row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* blk = row + b * block_bytes;
      std::memcpy(blk, group + ScalesOffset(words, b) + 2 * r, 2);
      for (int t = 0; t < words; ++t) {
        const uint8_t* in = group + QuantsOffset(words, b) + (t * kGroupRows + r) * 4;
        for (int i = 0; i < 4; ++i) blk[2 + 4 * t + i] = static_cast<uint8_t>(in[i] ^ flip);
      }
    }
  }
}

}  // namespace ocular::kernels
