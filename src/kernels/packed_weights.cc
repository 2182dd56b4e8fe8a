// WeightLayout::kGemvPacked: packing at load, unpacking for the paths that want row-major
// blocks (oneDNN tiles, row gathers, ISAs without the packed kernel). The layout is
// documented in kernels.h.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "base/check.h"
#include "kernels/kernels.h"
#include "tensor/quant.h"

namespace ocular::kernels {
namespace {

constexpr int kGroupRows = 16;

bool IsKQuant(DType dtype) { return dtype == DType::kQ4_K || dtype == DType::kQ6_K; }

// ---- q8_0 / q4_0: block pairs ----

// 4-byte words of quants per row and block.
int Words(DType dtype) { return dtype == DType::kQ8_0 ? 8 : 4; }

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

// ---- q4_k / q6_k: one slab per 256-value block ----

// A run of bytes of a row's block and where it goes in the slab: f16 lanes (2 bytes of row r
// at dst + 2r) or words (word t of the run of row r at dst + 64t + 4r, its bytes in the order
// `perm` gives: slab byte i of a word is run byte perm[i]).
struct KPart {
  int src;
  int len;
  int dst;
  bool half;
  uint8_t perm[4];
};

constexpr KPart kQ4KParts[] = {
    {offsetof(BlockQ4_K, d), 2, 0, true, {}},
    {offsetof(BlockQ4_K, dmin), 2, 32, true, {}},
    {offsetof(BlockQ4_K, scales), kKScaleBytes, 64, false, {0, 1, 2, 3}},
    {offsetof(BlockQ4_K, qs), kQK_K / 2, 256, false, {0, 1, 2, 3}},
};
// q6_k: the quants in the order the kernel reads them: part (h, tg) (h, tg in {0, 1}) at
// 320 + 768 (2h + tg) holds qh words 8h + 4tg.. (4), then ql words 16h + 4tg.. (4) and
// 16h + 8 + 4tg.. (4).
std::vector<KPart> MakeQ6KParts() {
  std::vector<KPart> parts = {
      {offsetof(BlockQ6_K, d), 2, 0, true, {}},
      {offsetof(BlockQ6_K, scales), kQK_K / 16, 64, false, {0, 2, 1, 3}},
  };
  for (int h = 0; h < 2; ++h) {
    for (int tg = 0; tg < 2; ++tg) {
      const int dst = 320 + 768 * (2 * h + tg);
      const int qh = static_cast<int>(offsetof(BlockQ6_K, qh)) + 4 * (8 * h + 4 * tg);
      const int ql = static_cast<int>(offsetof(BlockQ6_K, ql)) + 4 * (16 * h + 4 * tg);
      parts.push_back({qh, 16, dst, false, {0, 1, 2, 3}});
      parts.push_back({ql, 16, dst + 256, false, {0, 1, 2, 3}});
      parts.push_back({ql + 32, 16, dst + 512, false, {0, 1, 2, 3}});
    }
  }
  return parts;
}

std::span<const KPart> KParts(DType dtype) {
  static const std::vector<KPart> q6k = MakeQ6KParts();
  if (dtype == DType::kQ4_K) return kQ4KParts;
  return q6k;
}

int64_t KBlockBytes(DType dtype) {
  return dtype == DType::kQ4_K ? int64_t{sizeof(BlockQ4_K)} : int64_t{sizeof(BlockQ6_K)};
}

// Row r's block `blk` -> its lanes and words in `slab`.
void PackKBlock(DType dtype, int r, const uint8_t* blk, uint8_t* slab) {
  for (const KPart& p : KParts(dtype)) {
    if (p.half) {
      std::memcpy(slab + p.dst + 2 * r, blk + p.src, 2);
      continue;
    }
    for (int t = 0; t < p.len / 4; ++t) {
      uint8_t* word = slab + p.dst + 64 * t + 4 * r;
      for (int i = 0; i < 4; ++i) word[i] = blk[p.src + 4 * t + p.perm[i]];
    }
  }
}

// The inverse: row r's block out of `slab`.
void UnpackKBlock(DType dtype, int r, const uint8_t* slab, uint8_t* blk) {
  for (const KPart& p : KParts(dtype)) {
    if (p.half) {
      std::memcpy(blk + p.src, slab + p.dst + 2 * r, 2);
      continue;
    }
    for (int t = 0; t < p.len / 4; ++t) {
      const uint8_t* word = slab + p.dst + 64 * t + 4 * r;
      for (int i = 0; i < 4; ++i) blk[p.src + 4 * t + p.perm[i]] = word[i];
    }
  }
}

}  // namespace

int64_t GemvSlabBytes(DType dtype) {
  CHECK(IsKQuant(dtype));
  return dtype == DType::kQ4_K ? 2304 : 3392;
}

int64_t GemvGroupBytes(DType dtype, int64_t cols) {
  CHECK(GemvPackable(dtype)) << "packed GEMV layout is q8_0 / q4_0 / q4_k / q6_k";
  if (IsKQuant(dtype)) {
    CHECK_EQ(cols % kQK_K, 0);
    return cols / kQK_K * GemvSlabBytes(dtype);
  }
  CHECK_EQ(cols % 32, 0);
  const int64_t nb = cols / 32;
  return (nb + 1) / 2 * 64 + nb * Words(dtype) * 64;
}

int64_t GemvPackedBytes(DType dtype, int64_t rows, int64_t cols) {
  return (rows + kGroupRows - 1) / kGroupRows * GemvGroupBytes(dtype, cols);
}

bool GemvPackingPays(const ComputeContext& ctx) { return ctx.isa() == Isa::kAvx512; }

bool GemvPackable(DType dtype) {
  return dtype == DType::kQ8_0 || dtype == DType::kQ4_0 || IsKQuant(dtype);
}

void PackGemvGroup(DType dtype, int64_t cols, const void* src, int64_t src_stride, int count,
                   void* dst) {
  CHECK(count >= 1 && count <= kGroupRows);
  const int64_t gbytes = GemvGroupBytes(dtype, cols);
  auto* group = static_cast<uint8_t*>(dst);
  std::memset(dst, 0, static_cast<size_t>(gbytes));
  if (IsKQuant(dtype)) {
    const int64_t nb = cols / kQK_K, block_bytes = KBlockBytes(dtype);
    for (int r = 0; r < count; ++r) {
      const auto* row = static_cast<const uint8_t*>(src) + r * src_stride;
      for (int64_t b = 0; b < nb; ++b) {
        PackKBlock(dtype, r, row + b * block_bytes, group + b * GemvSlabBytes(dtype));
      }
    }
    return;
  }
  const int words = Words(dtype);
  const int64_t nb = cols / 32, block_bytes = BlockBytes(dtype);
  const uint8_t flip = dtype == DType::kQ8_0 ? 0x80 : 0x00;  // q8_0: value + 128
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
  const int64_t gbytes = GemvGroupBytes(w.dtype, w.cols), row_bytes = w.RowBytes();
  if (IsKQuant(w.dtype)) {
    const int64_t nb = w.cols / kQK_K, block_bytes = KBlockBytes(w.dtype);
    for (int64_t j = row_begin; j < row_end; ++j) {
      const auto* group = static_cast<const uint8_t*>(w.data) + (j / kGroupRows) * gbytes;
      uint8_t* row = static_cast<uint8_t*>(dst) + (j - row_begin) * row_bytes;
      for (int64_t b = 0; b < nb; ++b) {
        UnpackKBlock(w.dtype, static_cast<int>(j % kGroupRows), group + b * GemvSlabBytes(w.dtype),
                     row + b * block_bytes);
      }
    }
    return;
  }
  const int words = Words(w.dtype);
  const int64_t nb = w.cols / 32, block_bytes = BlockBytes(w.dtype);
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
