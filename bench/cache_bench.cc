// KV cache bookkeeping cost per scheduler step, against what the work is bounded by:
//  - prefix keys: 16-token blocks hashed per second, and the SHA-256 input rate they reach
//    against a raw SHA-256 over one large buffer on this machine (the limit);
//  - FindCachedPrefix on a fully cached 4,096-token prompt (256 keys + lookups);
//  - block pool: Allocate + Free of one block, and of a 256-block table;
//  - a whole request: admit with a 75 % cached prefix, prefill the rest, 64 decode steps,
//    free.
// Each figure is the median of 15 runs; a checksum of the results is printed so that runs
// can be compared.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/sha256.h"
#include "cache/kv/block_hash.h"
#include "cache/kv/kv_cache_manager.h"

namespace {

using ocular::kv::BlockHash;
using ocular::kv::BlockPool;
using ocular::kv::CachedPrefix;
using ocular::kv::KvCacheConfig;
using ocular::kv::KvCacheManager;
using ocular::kv::MediaSpanRef;
using ocular::kv::PrefixKeyInput;

constexpr int kRuns = 15;
constexpr int32_t kBlockSize = 16;

// Median nanoseconds per item of `fn`, which performs `items` items per call.
double MedianNsPerItem(int64_t items, const std::function<void()>& fn) {
  std::vector<double> runs;
  for (int r = 0; r < kRuns; ++r) {
    ocular::Stopwatch watch;
    fn();
    runs.push_back(static_cast<double>(watch.ElapsedNs()) / static_cast<double>(items));
  }
  std::sort(runs.begin(), runs.end());
  return runs[kRuns / 2];
}

std::vector<int32_t> Prompt(int n, int32_t seed) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = (seed * 7919 + i * 104729) % 151643;
  return t;
}

}  // namespace

int main() {
  uint64_t checksum = 0;
  auto mix = [&checksum](uint64_t v) { checksum = checksum * 1000003u + v; };

  // Limit: raw SHA-256 rate over a 4 MiB buffer.
  std::vector<uint8_t> big(4 << 20, 0x5a);
  const double sha_ns_per_byte = MedianNsPerItem(static_cast<int64_t>(big.size()), [&] {
    mix(ocular::Sha256::Hash(big.data(), big.size())[0]);
  });
  std::printf("raw SHA-256: %.0f MB/s\n", 1e3 / sha_ns_per_byte);

  // Prefix keys: a 4,096-token prompt with one image over tokens [512, 1536).
  const std::vector<int32_t> tokens = Prompt(4096, 1);
  const std::string id_text = "image";
  const MediaSpanRef image{512, 1024, ocular::Sha256::Hash(id_text.data(), id_text.size())};
  const PrefixKeyInput input{tokens, {&image, 1}, ""};
  const int64_t num_blocks = 4096 / kBlockSize;
  const double hash_ns = MedianNsPerItem(num_blocks, [&] {
    const std::vector<BlockHash> keys = ocular::kv::HashBlocks(input, num_blocks, kBlockSize);
    mix(keys.back().bytes[0]);
  });
  // Bytes hashed per block: tag, marker, parent, block size, tokens, span count (+ one span).
  const double bytes_per_block = 18 + 1 + 32 + 8 + 4.0 * kBlockSize + 8 + 48 * 0.25;
  std::printf(
      "block keys (%d tokens): %.0f ns/block, %.1f M blocks/s, ~%.0f MB/s of SHA input "
      "(%.0f %% of raw SHA-256; short messages pay per-call setup)\n",
      kBlockSize, hash_ns, 1e3 / hash_ns, bytes_per_block * 1e3 / hash_ns,
      100.0 * bytes_per_block / hash_ns * sha_ns_per_byte);

  // FindCachedPrefix over a fully cached prompt.
  {
    KvCacheManager kv(KvCacheConfig{1024, kBlockSize, true, 1});
    const CachedPrefix none = kv.FindCachedPrefix(input);
    if (!kv.AllocateSlots(1, 4096, &none)) return 1;
    kv.CacheFullBlocks(1, input, 4096);
    const double find_ns = MedianNsPerItem(1, [&] {
      const CachedPrefix p = kv.FindCachedPrefix(input);
      mix(static_cast<uint64_t>(p.num_tokens));
    });
    std::printf("FindCachedPrefix, 4096 cached tokens: %.1f us\n", find_ns * 1e-3);
  }

  // Block pool.
  {
    BlockPool pool(65536, kBlockSize, 1);
    constexpr int kOps = 100000;
    const double one_ns = MedianNsPerItem(kOps, [&] {
      for (int i = 0; i < kOps; ++i) {
        const std::vector<ocular::kv::BlockId> b = *pool.Allocate(1);
        pool.Free(b);
        mix(static_cast<uint64_t>(b[0]));
      }
    });
    constexpr int kTables = 1000;
    const double table_ns = MedianNsPerItem(kTables * 256, [&] {
      for (int i = 0; i < kTables; ++i) {
        const std::vector<ocular::kv::BlockId> b = *pool.Allocate(256);
        pool.Free(b);
        mix(static_cast<uint64_t>(b[0]));
      }
    });
    std::printf("BlockPool Allocate+Free: 1 block %.0f ns, 256-block table %.1f ns/block\n", one_ns,
                table_ns);
  }

  // A whole request life, 1,024-token prompt of which 768 are cached, 64 decode steps.
  {
    KvCacheManager kv(KvCacheConfig{4096, kBlockSize, true, 1});
    std::vector<int32_t> base = Prompt(1024, 2);
    const PrefixKeyInput warm{base, {}, ""};
    const CachedPrefix none = kv.FindCachedPrefix(warm);
    if (!kv.AllocateSlots(1, 1024, &none)) return 1;
    kv.CacheFullBlocks(1, warm, 1024);
    kv.Free(1);
    ocular::kv::RequestId next = 2;
    constexpr int kRequests = 200;
    const double req_ns = MedianNsPerItem(kRequests, [&] {
      for (int r = 0; r < kRequests; ++r) {
        std::vector<int32_t> t = base;
        for (size_t i = 768; i < t.size(); ++i) t[i] = static_cast<int32_t>(next + i);
        const ocular::kv::RequestId id = next++;
        const CachedPrefix p = kv.FindCachedPrefix({t, {}, ""});
        if (!kv.AllocateSlots(id, 1024 - p.num_tokens, &p)) std::abort();
        kv.CacheFullBlocks(id, {t, {}, ""}, 1024);
        for (int step = 0; step < 64; ++step) {
          t.push_back(step);
          if (!kv.AllocateSlots(id, 1)) std::abort();
          kv.CacheFullBlocks(id, {t, {}, ""}, static_cast<int64_t>(t.size()));
        }
        mix(static_cast<uint64_t>(kv.Stats().prefix_hit_tokens));
        kv.Free(id);
      }
    });
    std::printf("request (1024-token prompt, 768 cached, 64 decode steps): %.1f us\n",
                req_ns * 1e-3);
  }
  std::printf("checksum %016" PRIx64 "\n", checksum);
  return 0;
}
