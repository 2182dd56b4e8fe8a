// Byte format of a FeatureEntry for the shared (Redis) tier. Values come back from another
// process over the network, so decoding treats them as untrusted: every size is checked and a
// checksum covers the whole value.
//
// Layout (little-endian):
//   "OCFE" | u32 version (=1) | i64 t, h, w, num_tokens, encode_ns | u32 num_arrays | u32 0 |
//   num_arrays x (i64 rows, i64 cols) | all arrays' f32 data in order (embeddings, then each
//   DeepStack level) | u64 XXH3-64 of every preceding byte.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cache/features/feature_entry.h"

namespace ocular::features {

constexpr uint32_t kFeatureCodecVersion = 1;

std::string EncodeFeatureEntry(const FeatureEntry& entry);

// DataLoss for a truncated, oversized or corrupted value (bad magic, sizes or checksum);
// Unimplemented for another format version.
Result<std::shared_ptr<const FeatureEntry>> DecodeFeatureEntry(std::string_view bytes);

}  // namespace ocular::features
