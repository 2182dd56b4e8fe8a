#include "model/qwen3vl/resident_weights.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace ocular::qwen3vl {
namespace {

// The mapping that holds all of `w`'s bytes, or null.
const MappedFile* HomeOf(const std::vector<const MappedFile*>& mappings,
                         const kernels::WeightMatrix& w) {
  const MappedFile* home = nullptr;
  for (const MappedFile* m : mappings) {
    if (m->Contains(w.data, static_cast<size_t>(w.rows * w.Stride()))) home = m;
  }
  return home;
}

// n bytes at src to dst: read(2) from the file where they are mapped (so the mapped pages
// never fault in), memcpy otherwise or if the file cannot be read back.
void ReadBytes(const MappedFile* home, const uint8_t* src, size_t n, uint8_t* dst) {
  if (home == nullptr || !home->CopyOut(src, n, dst).ok()) std::memcpy(dst, src, n);
}

}  // namespace

void CopyMatrixBytes(kernels::ComputeContext& ctx, const std::vector<const MappedFile*>& mappings,
                     const kernels::WeightMatrix& w, uint8_t* dst) {
  const auto* src = static_cast<const uint8_t*>(w.data);
  const size_t bytes = static_cast<size_t>(w.rows * w.Stride());
  const MappedFile* home = HomeOf(mappings, w);
  // Pieces copied in parallel.
  constexpr size_t kPiece = size_t{8} << 20;
  const int64_t pieces = static_cast<int64_t>((bytes + kPiece - 1) / kPiece);
  ctx.pool().ParallelFor(pieces, [&](int64_t p, int) {
    const size_t b = static_cast<size_t>(p) * kPiece, n = std::min(bytes - b, kPiece);
    ReadBytes(home, src + b, n, dst + b);
  });
}

kernels::WeightMatrix PackMatrixBytes(kernels::ComputeContext& ctx,
                                      const std::vector<const MappedFile*>& mappings,
                                      const kernels::WeightMatrix& w, uint8_t* dst) {
  const auto* src = static_cast<const uint8_t*>(w.data);
  const MappedFile* home = HomeOf(mappings, w);
  // Pieces of 64 groups of 16 rows: the rows read into a per-thread buffer (ReadBytes), then
  // packed.
  constexpr int64_t kGroupsPerPiece = 64;
  const int64_t groups = (w.rows + 15) / 16;
  const int64_t gbytes = kernels::GemvGroupBytes(w.dtype, w.cols);
  const int64_t pieces = (groups + kGroupsPerPiece - 1) / kGroupsPerPiece;
  ctx.pool().ParallelFor(pieces, [&](int64_t p, int) {
    thread_local std::vector<uint8_t> rows;
    const int64_t r0 = p * kGroupsPerPiece * 16;
    const int64_t r1 = std::min(w.rows, r0 + kGroupsPerPiece * 16);
    const size_t n = static_cast<size_t>((r1 - r0) * w.Stride());
    rows.resize(n);
    ReadBytes(home, src + r0 * w.Stride(), n, rows.data());
    for (int64_t r = r0; r < r1; r += 16) {
      const int count = static_cast<int>(std::min<int64_t>(16, r1 - r));
      kernels::PackGemvGroup(w.dtype, w.cols, rows.data() + (r - r0) * w.Stride(), w.Stride(),
                             count, dst + (r / 16) * gbytes);
    }
  });
  kernels::WeightMatrix packed = w;
  packed.data = dst;
  packed.row_stride_bytes = 0;
  packed.layout = kernels::WeightLayout::kGemvPacked;
  return packed;
}

AlignedBuffer CopyTextMatrices(kernels::ComputeContext& ctx,
                               const std::vector<const MappedFile*>& mappings, TextRt* text,
                               bool pack_for_gemv) {
  std::vector<kernels::WeightMatrix*> views;
  for (TextLayerRt& l : text->layers) {
    for (kernels::WeightMatrix* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) {
      views.push_back(w);
    }
  }
  views.push_back(&text->token_embd);
  views.push_back(&text->lm_head);

  // Distinct sources (a tied LM head is the token embedding) -> offset in the block; each
  // matrix starts on a 64-byte boundary.
  auto packs = [&](const kernels::WeightMatrix& w) {
    return pack_for_gemv && !w.packed() && kernels::GemvPackable(w.dtype);
  };
  std::unordered_map<const void*, size_t> offset;
  std::vector<const kernels::WeightMatrix*> sources;
  size_t total = 0;
  for (const kernels::WeightMatrix* w : views) {
    if (w->data == nullptr || w->rows == 0 || offset.count(w->data) != 0) continue;
    offset.emplace(w->data, total);
    sources.push_back(w);
    const int64_t bytes =
        packs(*w) ? kernels::GemvPackedBytes(w->dtype, w->rows, w->cols) : w->rows * w->Stride();
    total += (static_cast<size_t>(bytes) + 63) / 64 * 64;
  }
  AlignedBuffer block = AlignedBuffer::InHugePages(total);
  if (total == 0) return block;

  // Source data -> the view that replaces it (a tied LM head and the embedding share one).
  std::unordered_map<const void*, kernels::WeightMatrix> placed;
  for (const kernels::WeightMatrix* w : sources) {
    uint8_t* dst = block.as<uint8_t>() + offset.at(w->data);
    kernels::WeightMatrix view = *w;
    if (packs(*w)) {
      view = PackMatrixBytes(ctx, mappings, *w, dst);
    } else {
      CopyMatrixBytes(ctx, mappings, *w, dst);
      view.data = dst;
    }
    placed.emplace(w->data, view);
  }
  for (kernels::WeightMatrix* w : views) {
    if (w->data == nullptr || w->rows == 0) continue;
    *w = placed.at(w->data);
  }
  return block;
}

}  // namespace ocular::qwen3vl
