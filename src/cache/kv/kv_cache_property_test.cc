// Property tests: random schedules of submit / admit / step (chunked prefill and decode) /
// cancel / finish / preempt-and-resubmit, driven the way the scheduler drives the manager.
//
// Besides the manager's own audit (CheckInvariants) after every operation, the test keeps an
// independent model:
//  - refcounts: every block's refcount equals the number of live block tables holding it;
//    free + used = total; no request holds blocks once it has ended;
//  - contents: a simulated KV store records, for every block the "runner" fills, which
//    prefix (salt, tokens, media) it was computed for. A cache hit must hand out blocks whose
//    recorded content is exactly the new request's prefix, and the runner never writes into
//    a block someone else also holds;
//  - refusals: AllocateSlots may only say "not enough" when the blocks needed exceed the
//    free ones.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cache/kv/kv_cache_manager.h"

namespace ocular::kv {
namespace {

constexpr int32_t kPlaceholder = 9999;

struct SimRequest {
  RequestId id = 0;
  std::vector<int32_t> tokens;  // prompt, then generated tokens
  std::vector<MediaSpanRef> media;
  std::string salt;
  size_t max_total_tokens = 0;
  bool running = false;  // holds blocks in the manager
  int64_t computed = 0;
  uint64_t admit_order = 0;

  PrefixKeyInput Input() const { return {tokens, media, salt}; }
};

// What block `index` of `r` holds once computed: everything its K/V depends on.
std::string ContentOf(const SimRequest& r, int64_t index, int32_t block_size) {
  const int64_t end = (index + 1) * block_size;
  std::string s = "salt=" + r.salt + ";tokens=";
  for (int64_t i = 0; i < end; ++i) s += std::to_string(r.tokens[i]) + ",";
  s += ";media=";
  for (const MediaSpanRef& m : r.media) {
    if (m.token_offset >= end) continue;
    s += std::to_string(m.token_offset) + "+" + std::to_string(m.num_tokens) + ":" +
         ToHex(m.media_id) + ",";
  }
  return s;
}

class Simulation {
 public:
  Simulation(int32_t num_blocks, int32_t block_size, bool prefix_caching)
      : block_size_(block_size),
        num_blocks_(num_blocks),
        kv_(KvCacheConfig{num_blocks, block_size, prefix_caching, /*seed=*/7}),
        content_(static_cast<size_t>(num_blocks)) {
    const std::string a = "image-a", b = "image-b";
    media_ids_[0] = Sha256::Hash(a.data(), a.size());
    media_ids_[1] = Sha256::Hash(b.data(), b.size());
  }

  void Apply(int kind, int a, int b) {
    switch (kind) {
      case 0:
        Submit(a, b);
        break;
      case 1:
        Admit(a, b);
        break;
      case 2:
      case 3:
        Step(a, b);
        break;  // the common operation
      case 4:
        Cancel(a);
        break;
      case 5:
        Preempt(a);
        break;
      default:
        Finish(a);
        break;
    }
    Audit();
  }

  KvCacheStats stats() const { return kv_.Stats(); }

  // How often the interesting paths ran (a test of the generator).
  struct Coverage {
    int64_t refused_admissions = 0;
    int64_t preemptions_for_space = 0;
    int64_t evictions = 0;  // cached blocks lost to fresh allocations
  };
  const Coverage& coverage() const { return coverage_; }

  void EndAll() {
    for (SimRequest& r : requests_) RC_ASSERT(kv_.Free(r.id) == r.running);
    requests_.clear();
    Audit();
    const KvCacheStats s = kv_.Stats();
    RC_ASSERT(s.num_free_blocks == num_blocks_);
    RC_ASSERT(s.num_used_blocks == 0);
    RC_ASSERT(s.num_requests == 0);
  }

 private:
  // Half the submissions derive from an earlier prompt: an exact repeat (hits), the same
  // tokens with a different image, with an extra placeholder-valued text token before the
  // first image, with that image moved one token earlier over it (same tokens as the
  // previous variant, only the span offset differs), or with the other salt.
  void Submit(int a, int b) {
    const int variant = b % 12;
    SimRequest r;
    if (variant < 6 || history_.empty()) {
      r = FreshPrompt(a, b);
      history_.push_back(r);
    } else {
      // One of the last few prompts, so variants of one prompt meet while it is cached.
      const size_t recent = std::min<size_t>(history_.size(), 3);
      r = history_[history_.size() - 1 - static_cast<size_t>(a) % recent];
      if (variant == 7 && !r.media.empty()) {
        r.media[0].media_id = r.media[0].media_id == media_ids_[0] ? media_ids_[1] : media_ids_[0];
      } else if ((variant == 8 || variant == 9) && !r.media.empty() &&
                 r.media[0].token_offset > 0) {
        r.tokens[static_cast<size_t>(r.media[0].token_offset - 1)] = kPlaceholder;
        if (variant == 9) --r.media[0].token_offset;
      } else if (variant == 10) {
        r.salt = r.salt == "tenant-a" ? "tenant-b" : "tenant-a";  // same length
      }
    }
    r.id = next_id_++;
    RC_ASSERT(ValidatePrefixKeyInput(r.Input()).ok());
    requests_.push_back(std::move(r));
  }

  SimRequest FreshPrompt(int a, int b) const {
    SimRequest r;
    const size_t len = 1 + static_cast<size_t>(a % 24);
    // Text may contain the placeholder id itself (a hostile prompt), so a span's position
    // is not implied by the tokens.
    constexpr int32_t kAlphabet[3] = {0, 1, kPlaceholder};
    // Shared templates up to a random split, then a small alphabet: plenty of common
    // prefixes, and divergence at every block position.
    const int tmpl = (b / 12) % 3;
    const size_t split = static_cast<size_t>((a / 24) % 25);
    for (size_t i = 0; i < len; ++i) {
      r.tokens.push_back(i < split ? 1000 * tmpl + static_cast<int32_t>(i)
                                   : kAlphabet[(static_cast<size_t>(a + b) + i) % 3]);
    }
    // Up to two images, possibly starting mid-block and possibly back to back, so that
    // only the media pairs (not the placeholder tokens) tell some prompts apart.
    int64_t offset = (b / 36) % static_cast<int64_t>(len);
    for (int k = 0; k < (b / 5) % 3 && offset < static_cast<int64_t>(len); ++k) {
      const int64_t n =
          std::min<int64_t>(1 + (b / (7 + k)) % 6, static_cast<int64_t>(len) - offset);
      for (int64_t i = offset; i < offset + n; ++i) r.tokens[i] = kPlaceholder;
      r.media.push_back(MediaSpanRef{offset, n, media_ids_[(b / (11 + k)) % 2]});
      offset += n;
    }
    constexpr const char* kSalts[4] = {"", "", "tenant-a", "tenant-b"};
    r.salt = kSalts[(b / 13) % 4];
    r.max_total_tokens = len + static_cast<size_t>((b / 17) % 6);
    return r;
  }

  std::vector<size_t> Indices(bool running) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < requests_.size(); ++i) {
      if (requests_[i].running == running) out.push_back(i);
    }
    return out;
  }

  // The runner computes tokens [r.computed, r.computed + n): it may only write blocks that
  // no other request holds, and records what full blocks now contain.
  void Forward(SimRequest& r, int64_t n) {
    const auto table = kv_.BlockTable(r.id);
    const int64_t begin = r.computed;
    const int64_t end = r.computed + n;
    for (int64_t blk = begin / block_size_; blk * block_size_ < end; ++blk) {
      const BlockId id = table[static_cast<size_t>(blk)];
      RC_ASSERT(kv_.pool().RefCount(id) == 1);  // never write shared K/V
      if ((blk + 1) * block_size_ <= end) {
        content_[static_cast<size_t>(id)] = ContentOf(r, blk, block_size_);
      } else {
        content_[static_cast<size_t>(id)] = "partial";
      }
    }
    r.computed = end;
    kv_.CacheFullBlocks(r.id, r.Input(), r.computed);
    RC_ASSERT(kv_.NumComputedTokens(r.id) == r.computed);
  }

  void Admit(int a, int b) {
    const std::vector<size_t> waiting = Indices(false);
    if (waiting.empty()) return;
    SimRequest& r = requests_[waiting[static_cast<size_t>(a) % waiting.size()]];
    const CachedPrefix prefix = kv_.FindCachedPrefix(r.Input());
    RC_ASSERT(prefix.num_tokens < static_cast<int64_t>(r.tokens.size()));
    const int64_t remaining = static_cast<int64_t>(r.tokens.size()) - prefix.num_tokens;
    const int64_t chunk = 1 + b % remaining;

    int64_t revived = 0;
    for (BlockId id : prefix.blocks) revived += kv_.pool().RefCount(id) == 0 ? 1 : 0;
    const int64_t needed = kv_.NumBlocksFor(prefix.num_tokens + chunk) -
                           static_cast<int64_t>(prefix.blocks.size()) + revived;
    const KvCacheStats before = kv_.Stats();
    if (!kv_.AllocateSlots(r.id, chunk, &prefix)) {
      ++coverage_.refused_admissions;
      RC_ASSERT(needed > before.num_free_blocks);
      RC_ASSERT(!kv_.HasRequest(r.id));
      RC_ASSERT(kv_.Stats().num_free_blocks == before.num_free_blocks);
      RC_ASSERT(kv_.Stats().num_cached_blocks == before.num_cached_blocks);
      return;
    }
    RC_ASSERT(needed <= before.num_free_blocks);
    CountEvictions(before);
    r.running = true;
    r.admit_order = next_admit_++;
    r.computed = prefix.num_tokens;
    const auto table = kv_.BlockTable(r.id);
    for (size_t i = 0; i < prefix.blocks.size(); ++i) {
      RC_ASSERT(table[i] == prefix.blocks[i]);
      // A hit must hold exactly this request's prefix.
      RC_ASSERT(content_[static_cast<size_t>(table[i])] ==
                ContentOf(r, static_cast<int64_t>(i), block_size_));
    }
    Forward(r, chunk);
  }

  void Step(int a, int b) {
    const std::vector<size_t> running = Indices(true);
    if (running.empty()) return;
    const size_t index = running[static_cast<size_t>(a) % running.size()];
    SimRequest& r = requests_[index];
    const int64_t pending = static_cast<int64_t>(r.tokens.size()) - r.computed;
    if (pending == 0) {  // everything computed: sample a token, or finish
      if (r.tokens.size() >= r.max_total_tokens) {
        RC_ASSERT(kv_.Free(r.id));
        requests_.erase(requests_.begin() + static_cast<std::ptrdiff_t>(index));
        return;
      }
      r.tokens.push_back(b % 3);
      return;
    }
    const int64_t chunk = 1 + b % pending;
    const int64_t needed =
        kv_.NumBlocksFor(r.computed + chunk) - static_cast<int64_t>(kv_.BlockTable(r.id).size());
    const KvCacheStats before = kv_.Stats();
    const int32_t free_before = before.num_free_blocks;
    if (!kv_.AllocateSlots(r.id, chunk)) {
      RC_ASSERT(needed > free_before);
      RC_ASSERT(kv_.Stats().num_free_blocks == free_before);
      ++coverage_.preemptions_for_space;
      // Out of blocks: preempt the newest running request (possibly this one).
      size_t newest = index;
      for (size_t i : running) {
        if (requests_[i].admit_order > requests_[newest].admit_order) newest = i;
      }
      PreemptAt(newest);
      return;
    }
    RC_ASSERT(needed <= free_before);
    CountEvictions(before);
    Forward(r, chunk);
  }

  // Allocation never registers keys, so any drop in cached blocks is an eviction.
  void CountEvictions(const KvCacheStats& before) {
    coverage_.evictions += before.num_cached_blocks - kv_.Stats().num_cached_blocks;
  }

  void PreemptAt(size_t index) {
    SimRequest& r = requests_[index];
    RC_ASSERT(kv_.Free(r.id));
    r.running = false;
    r.computed = 0;
  }

  void Cancel(int a) {
    if (requests_.empty()) return;
    const size_t index = static_cast<size_t>(a) % requests_.size();
    RC_ASSERT(kv_.Free(requests_[index].id) == requests_[index].running);
    RC_ASSERT(!kv_.Free(requests_[index].id));  // idempotent
    requests_.erase(requests_.begin() + static_cast<std::ptrdiff_t>(index));
  }

  void Preempt(int a) {
    const std::vector<size_t> running = Indices(true);
    if (running.empty()) return;
    PreemptAt(running[static_cast<size_t>(a) % running.size()]);
  }

  void Finish(int a) {  // stop condition hit early (stop token, max tokens)
    const std::vector<size_t> running = Indices(true);
    if (running.empty()) return;
    const size_t index = running[static_cast<size_t>(a) % running.size()];
    RC_ASSERT(kv_.Free(requests_[index].id));
    requests_.erase(requests_.begin() + static_cast<std::ptrdiff_t>(index));
  }

  void Audit() {
    kv_.CheckInvariants();
    std::vector<int32_t> refs(static_cast<size_t>(num_blocks_), 0);
    int32_t num_distinct = 0;
    for (const SimRequest& r : requests_) {
      RC_ASSERT(kv_.HasRequest(r.id) == r.running);
      if (!r.running) continue;
      const auto table = kv_.BlockTable(r.id);
      RC_ASSERT(static_cast<int64_t>(table.size()) >= kv_.NumBlocksFor(r.computed));
      for (BlockId id : table) {
        RC_ASSERT(id >= 0 && id < num_blocks_);
        if (refs[static_cast<size_t>(id)]++ == 0) ++num_distinct;
      }
    }
    for (BlockId id = 0; id < num_blocks_; ++id) {
      RC_ASSERT(kv_.pool().RefCount(id) == refs[static_cast<size_t>(id)]);
    }
    const KvCacheStats s = kv_.Stats();
    RC_ASSERT(s.num_used_blocks == num_distinct);
    RC_ASSERT(s.num_used_blocks + s.num_free_blocks == s.num_blocks);
  }

  int32_t block_size_;
  int32_t num_blocks_;
  KvCacheManager kv_;
  std::vector<std::string> content_;  // simulated K/V store: block id -> what it holds
  std::vector<SimRequest> requests_;
  std::vector<SimRequest> history_;  // every fresh prompt submitted so far
  Sha256Digest media_ids_[2];
  Coverage coverage_;
  RequestId next_id_ = 1;
  uint64_t next_admit_ = 0;
};

using Op = std::tuple<int, int, int>;

void RunSchedule(bool prefix_caching) {
  const int32_t num_blocks = *rc::gen::inRange(1, 25);
  const int32_t block_size = *rc::gen::inRange(1, 5);
  const int num_ops = *rc::gen::inRange(0, 1000);
  const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(
      static_cast<size_t>(num_ops),
      rc::gen::tuple(rc::gen::inRange(0, 7), rc::gen::inRange(0, 1 << 16),
                     rc::gen::inRange(0, 1 << 16)));
  Simulation sim(num_blocks, block_size, prefix_caching);
  for (const auto& [kind, a, b] : ops) sim.Apply(kind, a, b);
  sim.EndAll();
}

RC_GTEST_PROP(KvCachePropertyTest, RandomSchedulesWithPrefixCaching, ()) { RunSchedule(true); }

RC_GTEST_PROP(KvCachePropertyTest, RandomSchedulesWithoutPrefixCaching, ()) { RunSchedule(false); }

// A small pool under many requests sharing a few templates: the schedules above must
// really exercise cache hits, refusals, preemption and eviction (a test of the generator,
// so the properties above are not vacuous).
TEST(KvCachePropertyTest, SchedulesProduceCacheHits) {
  int64_t total_hit_tokens = 0;
  Simulation::Coverage total;
  const bool ok = rc::check("schedules produce hits", [&] {
    Simulation sim(12, 2, true);
    for (int i = 0; i < 400; ++i) {
      const int kind = *rc::gen::inRange(0, 7);
      sim.Apply(kind, *rc::gen::inRange(0, 1 << 16), *rc::gen::inRange(0, 1 << 16));
    }
    total_hit_tokens += sim.stats().prefix_hit_tokens;
    total.refused_admissions += sim.coverage().refused_admissions;
    total.preemptions_for_space += sim.coverage().preemptions_for_space;
    total.evictions += sim.coverage().evictions;
    sim.EndAll();
  });
  EXPECT_TRUE(ok);
  EXPECT_GT(total_hit_tokens, 0);
  EXPECT_GT(total.refused_admissions, 0);
  EXPECT_GT(total.preemptions_for_space, 0);
  EXPECT_GT(total.evictions, 0);
  std::cout << "hit tokens " << total_hit_tokens << ", refused admissions "
            << total.refused_admissions << ", preemptions for space " << total.preemptions_for_space
            << ", evictions " << total.evictions << "\n";
}

}  // namespace
}  // namespace ocular::kv
