#include "cache/features/feature_codec.h"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <vector>

#include "base/checked_math.h"

namespace ocular::features {
namespace {

static_assert(std::endian::native == std::endian::little, "the codec writes host order");

constexpr char kMagic[4] = {'O', 'C', 'F', 'E'};
constexpr uint32_t kMaxArrays = 64;
constexpr size_t kFixedHeader = 4 + 4 + 5 * 8 + 4 + 4;

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

// A bounds-checked reader over the value.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool Read(T* v) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool ReadFloats(float* dst, uint64_t count_bytes) {
    if (bytes_.size() - pos_ < count_bytes) return false;
    if (count_bytes > 0) std::memcpy(dst, bytes_.data() + pos_, count_bytes);
    pos_ += count_bytes;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string EncodeFeatureEntry(const FeatureEntry& entry) {
  std::vector<const FeatureArray*> arrays = {&entry.embeddings};
  for (const FeatureArray& level : entry.deepstack) arrays.push_back(&level);
  std::string out;
  size_t payload = 0;
  for (const FeatureArray* a : arrays) payload += a->byte_size();
  out.reserve(kFixedHeader + 16 * arrays.size() + payload + 8);
  out.append(kMagic, 4);
  Put<uint32_t>(&out, kFeatureCodecVersion);
  for (int64_t v : {entry.grid.t, entry.grid.h, entry.grid.w, entry.num_tokens, entry.encode_ns}) {
    Put<int64_t>(&out, v);
  }
  Put<uint32_t>(&out, static_cast<uint32_t>(arrays.size()));
  Put<uint32_t>(&out, 0);
  for (const FeatureArray* a : arrays) {
    Put<int64_t>(&out, a->rows);
    Put<int64_t>(&out, a->cols);
  }
  for (const FeatureArray* a : arrays) {
    out.append(static_cast<const char*>(a->data.data()), a->byte_size());
  }
  Put<uint64_t>(&out, XXH3_64bits(out.data(), out.size()));
  return out;
}

Result<std::shared_ptr<const FeatureEntry>> DecodeFeatureEntry(std::string_view bytes) {
  const Status corrupt = DataLoss("shared feature cache value is corrupt");
  if (bytes.size() < kFixedHeader + 8) return corrupt;
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) return corrupt;
  const size_t body = bytes.size() - 8;
  uint64_t checksum;
  std::memcpy(&checksum, bytes.data() + body, 8);
  if (XXH3_64bits(bytes.data(), body) != checksum) return corrupt;

  Reader r(bytes.substr(0, body));
  char magic[4];
  uint32_t version = 0, num_arrays = 0, pad = 0;
  if (!r.Read(&magic) || !r.Read(&version)) return corrupt;
  if (version != kFeatureCodecVersion) {
    return Unimplemented("shared feature cache value has another format version");
  }
  auto entry = std::make_shared<FeatureEntry>();
  if (!r.Read(&entry->grid.t) || !r.Read(&entry->grid.h) || !r.Read(&entry->grid.w) ||
      !r.Read(&entry->num_tokens) || !r.Read(&entry->encode_ns) || !r.Read(&num_arrays) ||
      !r.Read(&pad)) {
    return corrupt;
  }
  if (num_arrays == 0 || num_arrays > kMaxArrays || pad != 0) return corrupt;
  std::vector<std::pair<int64_t, int64_t>> shapes(num_arrays);
  uint64_t total = 0;
  for (auto& [rows, cols] : shapes) {
    if (!r.Read(&rows) || !r.Read(&cols) || rows < 0 || cols < 0) return corrupt;
    uint64_t bytes_of_array = 0;
    if (!CheckedProduct({static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), sizeof(float)},
                        &bytes_of_array) ||
        !CheckedAdd(total, bytes_of_array, &total)) {
      return corrupt;
    }
  }
  if (total != body - r.pos()) return corrupt;  // sizes must account for every byte
  for (uint32_t i = 0; i < num_arrays; ++i) {
    FeatureArray a = FeatureArray::Zeros(shapes[i].first, shapes[i].second);
    if (!r.ReadFloats(a.floats(), a.byte_size())) return corrupt;
    if (i == 0) {
      entry->embeddings = std::move(a);
    } else {
      entry->deepstack.push_back(std::move(a));
    }
  }
  return std::shared_ptr<const FeatureEntry>(std::move(entry));
}

}  // namespace ocular::features
