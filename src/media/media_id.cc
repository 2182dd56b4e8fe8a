#include "media/media_id.h"

namespace ocular::media {
namespace {

void Field(Sha256& h, std::string_view tag, std::string_view value) {
  h.UpdateU64(tag.size());
  h.Update(tag);
  h.UpdateU64(value.size());
  h.Update(value);
}

void Field(Sha256& h, std::string_view tag, int64_t value) {
  h.UpdateU64(tag.size());
  h.Update(tag);
  h.UpdateU64(8);
  h.UpdateU64(static_cast<uint64_t>(value));
}

}  // namespace

MediaId ComputeMediaId(const MediaIdInputs& in) {
  Sha256 h;
  Field(h, "version", "ocular.media_id.v1");
  Field(h, "kind", in.kind);
  Field(h, "pixel_format", "rgb8");
  Field(h, "source_height", in.source_height);
  Field(h, "source_width", in.source_width);
  Field(h, "min_pixels", in.min_pixels);
  Field(h, "max_pixels", in.max_pixels);
  Field(h, "resized_height", in.resized_height);
  Field(h, "resized_width", in.resized_width);
  Field(h, "patch_size", kPatchSize);
  Field(h, "merge_size", kMergeSize);
  Field(h, "temporal_patch_size", kTemporalPatch);
  // mean = std = 0.5 for every Qwen3-VL checkpoint; the normalisation kind fixes the f32 rounding.
  Field(h, "image_mean_std", "0.5,0.5,0.5/0.5,0.5,0.5");
  Field(h, "normalization", static_cast<int64_t>(in.normalization));
  Field(h, "resample", in.resample);
  Field(h, "num_frame_indices", static_cast<int64_t>(in.frame_indices.size()));
  for (int64_t idx : in.frame_indices) h.UpdateU64(static_cast<uint64_t>(idx));
  Field(h, "num_frames", static_cast<int64_t>(in.frames.size()));
  for (const RgbImage* f : in.frames) {
    h.UpdateU64(static_cast<uint64_t>(f->height));
    h.UpdateU64(static_cast<uint64_t>(f->width));
    h.UpdateU64(f->num_bytes());
    h.Update(f->data.data(), f->num_bytes());
  }
  return MediaId{h.Finish()};
}

}  // namespace ocular::media
