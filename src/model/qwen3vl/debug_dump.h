// Debug dumps of a prompt's intermediate states in the golden formats (issue 12 item 6), so a
// mismatch against a reference is located at its stage. Everything is raw little-endian, no
// header, row-major; `dump.json` in the same folder lists every file with its shape:
//
//   input_ids.i32                         [L] int32 prompt ids
//   positions.i32                         [3][L] int32 M-RoPE positions (rows t, h, w)
//   media<k>.pixel_values.f32             [N][1536] preprocessed pixels (HF patch order)
//   media<k>.vision.inp_pos_emb.f32       [N][D] patch embedding + position embedding
//   media<k>.vision.layer_out-<b>.f32     [N][D] after vision block b (merge-window order)
//   media<k>.main.f32                     [N/4][H] merger output (pad embeddings)
//   media<k>.deepstack<j>.f32             [N/4][H] DeepStack feature j
//   text.l_out-<l>.f32                    [L][H] hidden states after text layer l (all rows;
//                                         after the DeepStack addition = llama.cpp's
//                                         `deepstack_out-<l>` for the first layers)
//   logits_last.f32                       [vocab] logits of the last prompt position
//
// Names follow golden/forward (input_ids, positions, media*, logits_last) and the llama.cpp
// capture names (inp_pos_emb, layer_out-N, l_out-N). The pass is a separate, one-sequence
// recompute with the model's own kernels (same numerics as serving at the same precision).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>

#include "base/status.h"
#include "model/qwen3vl/model.h"

namespace ocular::qwen3vl {

struct DumpMediaItem {
  const float* pixel_values = nullptr;  // [t*h*w][1536] f32
  std::array<int64_t, 3> grid_thw{};    // in patches
};

// ids [L] and positions [3][L] (rows t, h, w); media in prompt order. Creates `dir`.
// Errors: InvalidArgument (unwritable folder, inconsistent prompt/media), model errors.
Status WriteDebugDump(Qwen3VLModel& model, std::span<const int32_t> ids,
                      std::span<const int64_t> positions, std::span<const DumpMediaItem> media,
                      const std::filesystem::path& dir);

}  // namespace ocular::qwen3vl
