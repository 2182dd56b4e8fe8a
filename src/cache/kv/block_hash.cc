#include "cache/kv/block_hash.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/check.h"

namespace ocular::kv {
namespace {

// Domain separation: a block key can never equal a digest computed for another purpose
// (media ids, feature-cache keys), and a future change of encoding bumps the version.
constexpr std::string_view kDomainTag = "ocular.kv.block.v1";
constexpr uint8_t kRootMarker = 0;
constexpr uint8_t kChildMarker = 1;

// Fills a buffer sized up front (one allocation per key, no reallocation).
class ByteWriter {
 public:
  explicit ByteWriter(size_t size) : buf_(size) {}
  void Bytes(const void* data, size_t size) {
    CHECK_LE(size, buf_.size() - pos_);
    if (size) std::memcpy(buf_.data() + pos_, data, size);
    pos_ += size;
  }
  void U8(uint8_t v) { Bytes(&v, 1); }
  void U32(uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    Bytes(b, 4);
  }
  void U64(uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    Bytes(b, 8);
  }
  Sha256Digest Digest() const {
    CHECK_EQ(pos_, buf_.size());
    return Sha256::Hash(buf_.data(), buf_.size());
  }

 private:
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
};

bool SpansValid(const PrefixKeyInput& input) {
  const int64_t num_tokens = static_cast<int64_t>(input.tokens.size());
  int64_t prev_end = 0;
  for (const MediaSpanRef& span : input.media) {
    if (span.num_tokens <= 0 || span.token_offset < prev_end) return false;
    if (span.token_offset > num_tokens - span.num_tokens) return false;  // no overflow
    prev_end = span.token_offset + span.num_tokens;
  }
  return true;
}

}  // namespace

Status ValidatePrefixKeyInput(const PrefixKeyInput& input) {
  if (!SpansValid(input)) {
    return InvalidArgument(
        "media placeholder spans must be non-empty, sorted, non-overlapping and inside the "
        "prompt");
  }
  return OkStatus();
}

BlockHash HashBlock(const BlockHash* parent, const PrefixKeyInput& input, int64_t block_index,
                    int32_t block_size) {
  CHECK_GT(block_size, 0);
  CHECK_GE(block_index, 0);
  CHECK_EQ(parent == nullptr, block_index == 0) << "only block 0 has no parent";
  const int64_t begin = block_index * block_size;
  const int64_t end = begin + block_size;
  CHECK_LE(end, static_cast<int64_t>(input.tokens.size())) << "only full blocks have keys";
  DCHECK(SpansValid(input));

  // Spans are sorted and disjoint, so their ends are sorted too: the first span that ends
  // after `begin` is found by binary search, and the overlapping ones follow it.
  const auto first = std::partition_point(
      input.media.begin(), input.media.end(),
      [begin](const MediaSpanRef& s) { return s.token_offset + s.num_tokens <= begin; });
  auto last = first;
  while (last != input.media.end() && last->token_offset < end) ++last;
  const size_t num_spans = static_cast<size_t>(last - first);

  // Canonical encoding: every field fixed-width little-endian or length-prefixed.
  const size_t size = kDomainTag.size() + 1 + (parent != nullptr ? 32 : 0) + 8 +
                      4 * static_cast<size_t>(block_size) + 8 + num_spans * (32 + 8 + 8) +
                      (parent == nullptr ? 8 + input.cache_salt.size() : 0);
  ByteWriter w(size);
  w.Bytes(kDomainTag.data(), kDomainTag.size());
  if (parent == nullptr) {
    w.U8(kRootMarker);
  } else {
    w.U8(kChildMarker);
    w.Bytes(parent->bytes.data(), parent->bytes.size());
  }
  w.U64(static_cast<uint64_t>(block_size));
  for (int64_t i = begin; i < end; ++i) w.U32(static_cast<uint32_t>(input.tokens[i]));
  w.U64(num_spans);
  for (auto it = first; it != last; ++it) {
    w.Bytes(it->media_id.data(), it->media_id.size());
    w.U64(static_cast<uint64_t>(it->num_tokens));
    // Negative when the span starts inside this block; two's complement keeps it distinct.
    w.U64(static_cast<uint64_t>(begin - it->token_offset));
  }
  // The salt enters the root block only: every later key chains through it.
  if (parent == nullptr) {
    w.U64(input.cache_salt.size());
    w.Bytes(input.cache_salt.data(), input.cache_salt.size());
  }
  return BlockHash{w.Digest()};
}

std::vector<BlockHash> HashBlocks(const PrefixKeyInput& input, int64_t num_blocks,
                                  int32_t block_size) {
  CHECK_GE(num_blocks, 0);
  std::vector<BlockHash> hashes;
  hashes.reserve(static_cast<size_t>(num_blocks));
  for (int64_t i = 0; i < num_blocks; ++i) {
    hashes.push_back(HashBlock(i == 0 ? nullptr : &hashes.back(), input, i, block_size));
  }
  return hashes;
}

}  // namespace ocular::kv
