#include "cache/kv/block_hash.h"

#include <algorithm>
#include <vector>

#include "base/check.h"

namespace ocular::kv {
namespace {

// Domain separation: a block key can never equal a digest computed for another purpose
// (media ids, feature-cache keys), and a future change of encoding bumps the version.
constexpr std::string_view kDomainTag = "ocular.kv.block.v1";
constexpr uint8_t kRootMarker = 0;
constexpr uint8_t kChildMarker = 1;

void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

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

  std::vector<uint8_t> buf;
  buf.reserve(kDomainTag.size() + 1 + 32 + 8 + 4 * static_cast<size_t>(block_size) + 8 +
              num_spans * 48 + 8 + input.cache_salt.size());
  buf.insert(buf.end(), kDomainTag.begin(), kDomainTag.end());
  if (parent == nullptr) {
    buf.push_back(kRootMarker);
  } else {
    buf.push_back(kChildMarker);
    buf.insert(buf.end(), parent->bytes.begin(), parent->bytes.end());
  }
  PutU64(buf, static_cast<uint64_t>(block_size));
  for (int64_t i = begin; i < end; ++i) PutU32(buf, static_cast<uint32_t>(input.tokens[i]));
  PutU64(buf, num_spans);
  for (auto it = first; it != last; ++it) {
    buf.insert(buf.end(), it->media_id.begin(), it->media_id.end());
    PutU64(buf, static_cast<uint64_t>(it->num_tokens));
    // Negative when the span starts inside this block; two's complement keeps it distinct.
    PutU64(buf, static_cast<uint64_t>(begin - it->token_offset));
  }
  // The salt enters the root block only: every later key chains through it.
  if (parent == nullptr) {
    PutU64(buf, input.cache_salt.size());
    buf.insert(buf.end(), input.cache_salt.begin(), input.cache_salt.end());
  }
  return BlockHash{Sha256::Hash(buf.data(), buf.size())};
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
