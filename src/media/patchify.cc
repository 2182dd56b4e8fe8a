#include "media/patchify.h"

#include <sys/mman.h>

#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"

namespace ocular::media {

namespace {

// pixel_values buffers are tens of MB and written once: asking for transparent huge pages
// turns ~12k page faults into a few dozen (they dominate the cost in VMs).
void AdviseHugePages(void* p, size_t n) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

std::array<float, 256> NormalizationTable(Normalization kind) {
  std::array<float, 256> t{};
  for (int u = 0; u < 256; ++u) {
    if (kind == Normalization::kSlowRescaleThenNormalize) {
      float x = static_cast<float>(static_cast<double>(u) * (1.0 / 255.0));
      t[u] = (x - 0.5f) / 0.5f;
    } else {
      t[u] = (static_cast<float>(u) - 127.5f) / 127.5f;
    }
  }
  return t;
}

PixelValues Patchify(std::span<const RgbImage* const> frames, Normalization kind, ThreadPool* pool) {
  CHECK(!frames.empty());
  const int32_t h = frames[0]->height, w = frames[0]->width;
  CHECK(h % (kPatchSize * kMergeSize) == 0 && w % (kPatchSize * kMergeSize) == 0);
  for (const RgbImage* f : frames) CHECK(f->height == h && f->width == w);
  // Pad to a multiple of the temporal patch by repeating the last frame.
  std::vector<const RgbImage*> padded(frames.begin(), frames.end());
  while (padded.size() % kTemporalPatch != 0) padded.push_back(padded.back());

  PixelValues pv;
  const int32_t gt = static_cast<int32_t>(padded.size()) / kTemporalPatch;
  const int32_t gh = h / kPatchSize, gw = w / kPatchSize;
  pv.grid_thw = {gt, gh, gw};
  pv.data = AlignedBuffer(static_cast<size_t>(pv.num_patches()) * kPatchDim * sizeof(float));
  AdviseHugePages(pv.data.data(), pv.data.size());
  const std::array<float, 256> lut = NormalizationTable(kind);
  float* out = pv.data.as<float>();
  const int32_t bh = gh / kMergeSize, bw = gw / kMergeSize;

  // One task per (t_group, block_row): writes 2 * gw contiguous output rows.
  auto task = [&](int64_t tb) {
    const int32_t tg = static_cast<int32_t>(tb / bh), br = static_cast<int32_t>(tb % bh);
    float* dst_row = out + (static_cast<size_t>(tb) * bw * 4) * kPatchDim;
    for (int32_t bc = 0; bc < bw; ++bc) {
      for (int32_t dy = 0; dy < kMergeSize; ++dy) {
        for (int32_t dx = 0; dx < kMergeSize; ++dx, dst_row += kPatchDim) {
          const int32_t ph = br * kMergeSize + dy, pw = bc * kMergeSize + dx;
          for (int32_t f = 0; f < kTemporalPatch; ++f) {
            const RgbImage& img = *padded[static_cast<size_t>(tg) * kTemporalPatch + f];
            for (int32_t py = 0; py < kPatchSize; ++py) {
              const uint8_t* src = img.row(ph * kPatchSize + py) + static_cast<size_t>(pw) * kPatchSize * 3;
              float* d0 = dst_row + f * 256 + py * kPatchSize;
              float* d1 = d0 + 512;
              float* d2 = d0 + 1024;
              for (int32_t px = 0; px < kPatchSize; ++px) {
                d0[px] = lut[src[px * 3 + 0]];
                d1[px] = lut[src[px * 3 + 1]];
                d2[px] = lut[src[px * 3 + 2]];
              }
            }
          }
        }
      }
    }
  };
  const int64_t tasks = int64_t{gt} * bh;
  if (pool != nullptr) {
    pool->ParallelFor(tasks, [&](int64_t t, int) { task(t); });
  } else {
    for (int64_t t = 0; t < tasks; ++t) task(t);
  }
  return pv;
}

}  // namespace ocular::media
