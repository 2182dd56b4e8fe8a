#include "model/qwen3vl/resident_weights.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>

namespace ocular::qwen3vl {

void CopyMatrixBytes(kernels::ComputeContext& ctx, const std::vector<const MappedFile*>& mappings,
                     const kernels::WeightMatrix& w, uint8_t* dst) {
  const auto* src = static_cast<const uint8_t*>(w.data);
  const size_t bytes = static_cast<size_t>(w.rows * w.Stride());
  const MappedFile* home = nullptr;
  for (const MappedFile* m : mappings) {
    if (m->Contains(src, bytes)) home = m;
  }
  // Pieces copied in parallel: read(2) from the file where the matrix is mapped, memcpy
  // otherwise or if the file cannot be read back.
  constexpr size_t kPiece = size_t{8} << 20;
  const int64_t pieces = static_cast<int64_t>((bytes + kPiece - 1) / kPiece);
  ctx.pool().ParallelFor(pieces, [&](int64_t p, int) {
    const size_t b = static_cast<size_t>(p) * kPiece, n = std::min(bytes - b, kPiece);
    if (home == nullptr || !home->CopyOut(src + b, n, dst + b).ok()) {
      std::memcpy(dst + b, src + b, n);
    }
  });
}

AlignedBuffer CopyTextMatrices(kernels::ComputeContext& ctx,
                               const std::vector<const MappedFile*>& mappings, TextRt* text) {
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
  std::unordered_map<const void*, size_t> offset;
  std::vector<const kernels::WeightMatrix*> sources;
  size_t total = 0;
  for (const kernels::WeightMatrix* w : views) {
    if (w->data == nullptr || w->rows == 0 || offset.count(w->data) != 0) continue;
    offset.emplace(w->data, total);
    sources.push_back(w);
    total += (static_cast<size_t>(w->rows * w->Stride()) + 63) / 64 * 64;
  }
  AlignedBuffer block = AlignedBuffer::InHugePages(total);
  if (total == 0) return block;

  for (const kernels::WeightMatrix* w : sources) {
    CopyMatrixBytes(ctx, mappings, *w, block.as<uint8_t>() + offset.at(w->data));
  }
  for (kernels::WeightMatrix* w : views) {
    if (w->data == nullptr || w->rows == 0) continue;
    w->data = block.as<uint8_t>() + offset.at(w->data);
  }
  return block;
}

}  // namespace ocular::qwen3vl
