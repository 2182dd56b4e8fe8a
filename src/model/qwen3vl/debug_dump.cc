#include "model/qwen3vl/debug_dump.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <system_error>
#include <vector>

#include "model/qwen3vl/kv_storage.h"
#include "model/qwen3vl/sequence.h"

namespace ocular::qwen3vl {
namespace {

namespace fs = std::filesystem;

// Collects files and their manifest entries.
class DumpWriter {
 public:
  explicit DumpWriter(fs::path dir) : dir_(std::move(dir)) {}

  template <typename T>
  Status Write(const std::string& name, const T* data, size_t count, std::vector<int64_t> shape,
               const char* dtype, const char* what) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
    out.close();
    if (!out) return InvalidArgument("cannot write the dump file " + name);
    manifest_.push_back({{"file", name}, {"dtype", dtype}, {"shape", shape}, {"what", what}});
    return OkStatus();
  }
  Status WriteF32(const std::string& name, const std::vector<float>& v, std::vector<int64_t> shape,
                  const char* what) {
    return Write(name, v.data(), v.size(), std::move(shape), "float32", what);
  }
  Status Finish() {
    std::ofstream out(dir_ / "dump.json");
    out << nlohmann::json{{"files", manifest_}}.dump(1) << "\n";
    out.close();
    return out ? OkStatus() : InvalidArgument("cannot write the dump manifest");
  }

 private:
  fs::path dir_;
  nlohmann::json manifest_ = nlohmann::json::array();
};

}  // namespace

Status WriteDebugDump(Qwen3VLModel& model, std::span<const int32_t> ids,
                      std::span<const int64_t> positions, std::span<const DumpMediaItem> media,
                      const fs::path& dir) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return InvalidArgument("empty prompt");
  if (static_cast<int64_t>(positions.size()) != 3 * n) return InvalidArgument("positions must be [3][L]");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument("cannot create the dump folder " + dir.string());
  const ModelConfig& config = model.config();
  const int64_t hidden = config.text.hidden_size;
  DumpWriter w(dir);
  RETURN_IF_ERROR(w.Write("input_ids.i32", ids.data(), ids.size(), {n}, "int32", "prompt token ids"));
  std::vector<int32_t> pos32(positions.begin(), positions.end());  // [3][L]
  RETURN_IF_ERROR(w.Write("positions.i32", pos32.data(), pos32.size(), {3, n}, "int32",
                          "M-RoPE positions, rows t, h, w"));

  // Vision: one encode per item, so every stage is per item.
  std::vector<VisionOutput> outputs;
  for (size_t k = 0; k < media.size(); ++k) {
    if (!model.has_vision()) return InvalidArgument("the model has no vision tower");
    const DumpMediaItem& m = media[k];
    const int64_t patches = m.grid_thw[0] * m.grid_thw[1] * m.grid_thw[2];
    const std::string p = "media" + std::to_string(k) + ".";
    const int64_t dim = config.vision.in_channels * config.vision.temporal_patch_size * config.vision.patch_size *
                        config.vision.patch_size;
    RETURN_IF_ERROR(w.Write(p + "pixel_values.f32", m.pixel_values, static_cast<size_t>(patches * dim),
                            {patches, dim}, "float32", "preprocessed pixels, HF patch order"));
    const VisionInput in{m.pixel_values, m.grid_thw[0], m.grid_thw[1], m.grid_thw[2]};
    VisionDump vd;
    ASSIGN_OR_RETURN(std::vector<VisionOutput> enc, model.vision().Encode(std::span<const VisionInput>(&in, 1), &vd));
    const int64_t d = config.vision.hidden_size;
    RETURN_IF_ERROR(w.WriteF32(p + "vision.inp_pos_emb.f32", vd.patch_embed, {patches, d},
                               "patch embedding + position embedding (merge-window order)"));
    for (size_t b = 0; b < vd.block_out.size(); ++b) {
      RETURN_IF_ERROR(w.WriteF32(p + "vision.layer_out-" + std::to_string(b) + ".f32", vd.block_out[b],
                                 {patches, d}, "vision block output"));
    }
    const VisionOutput& v = enc[0];
    const int64_t out_h = config.vision.out_hidden_size;
    RETURN_IF_ERROR(w.WriteF32(p + "main.f32", v.main, {v.num_tokens, out_h}, "merger output"));
    for (size_t j = 0; j < v.deepstack.size(); ++j) {
      RETURN_IF_ERROR(w.WriteF32(p + "deepstack" + std::to_string(j) + ".f32", v.deepstack[j],
                                 {v.num_tokens, out_h}, "DeepStack feature"));
    }
    outputs.push_back(std::move(enc[0]));
  }

  // Text: the whole prompt in one forward pass, with per-layer states.
  ASSIGN_OR_RETURN(std::vector<EmbeddingSplice> splices, BuildSplices(config, ids, outputs));
  constexpr int kBlock = 16;
  KvStorage kv(config.text.num_layers, (n + kBlock - 1) / kBlock + 1, kBlock,
               static_cast<int>(config.text.num_kv_heads), static_cast<int>(config.text.head_dim), DType::kF32);
  std::vector<int32_t> table(static_cast<size_t>(kv.num_blocks()));
  std::iota(table.begin(), table.end(), 0);
  std::vector<int64_t> slots(static_cast<size_t>(n));
  std::iota(slots.begin(), slots.end(), 0);
  const int64_t q_start = 0, last_row = n - 1;
  const int32_t q_count = static_cast<int32_t>(n), kv_len = static_cast<int32_t>(n);
  const int32_t* table_ptr = table.data();
  DecoderBatch b;
  b.num_tokens = n;
  b.token_ids = ids.data();
  b.pos_t = positions.data();
  b.pos_h = positions.data() + n;
  b.pos_w = positions.data() + 2 * n;
  b.kv_slots = slots.data();
  b.num_seqs = 1;
  b.q_starts = &q_start;
  b.q_counts = &q_count;
  b.kv_lens = &kv_len;
  b.block_tables = &table_ptr;
  b.splices = splices;
  b.logit_rows = std::span<const int64_t>(&last_row, 1);
  std::vector<float> logits(static_cast<size_t>(model.text().vocab_size()));  // [vocab]
  DecoderDump dd;
  RETURN_IF_ERROR(model.text().Forward(b, kv.views(), logits.data(), &dd));
  for (size_t l = 0; l < dd.layer_out.size(); ++l) {
    RETURN_IF_ERROR(w.WriteF32("text.l_out-" + std::to_string(l) + ".f32", dd.layer_out[l], {n, hidden},
                               "hidden states after text layer (DeepStack added for the first layers)"));
  }
  RETURN_IF_ERROR(w.WriteF32("logits_last.f32", logits, {static_cast<int64_t>(logits.size())},
                             "logits of the last prompt position"));
  return w.Finish();
}

}  // namespace ocular::qwen3vl
