#include "model/tokenizer/bpe.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace ocular::tokenizer {

MergeTable::MergeTable(size_t expected_entries) {
  size_t capacity = 16;
  while (capacity < expected_entries * 2) capacity *= 2;
  slots_.assign(capacity, Entry{kEmpty, 0, 0});
}

void MergeTable::Grow() {
  std::vector<Entry> old = std::move(slots_);
  slots_.assign(old.size() * 2, Entry{kEmpty, 0, 0});
  const size_t mask = slots_.size() - 1;
  for (const Entry& e : old) {
    if (e.key == kEmpty) continue;
    size_t i = Hash(e.key) & mask;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

bool MergeTable::Insert(int32_t left, int32_t right, int32_t rank, int32_t merged_id) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const uint64_t key = Key(left, right);
  const size_t mask = slots_.size() - 1;
  size_t i = Hash(key) & mask;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) return false;
    i = (i + 1) & mask;
  }
  slots_[i] = Entry{key, rank, merged_id};
  ++size_;
  return true;
}

const MergeTable::Entry* MergeTable::Find(int32_t left, int32_t right) const {
  const uint64_t key = Key(left, right);
  const size_t mask = slots_.size() - 1;
  size_t i = Hash(key) & mask;
  while (true) {
    const Entry& e = slots_[i];
    if (e.key == key) return &e;
    if (e.key == kEmpty) return nullptr;
    i = (i + 1) & mask;
  }
}

BpeModel::BpeModel(std::array<int32_t, 256> byte_ids, MergeTable merges)
    : byte_ids_(byte_ids), merges_(std::move(merges)) {}

namespace {

struct Symbol {
  int32_t id;
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
  bool live;
};

// A candidate merge of symbols[left] and its right neighbour, valid while both still hold
// the ids recorded here.
struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t merged_id;
};

// std::push_heap builds a max-heap; "greater" puts the lowest rank, then leftmost, on top.
bool After(const Candidate& a, const Candidate& b) {
  if (a.rank != b.rank) return a.rank > b.rank;
  return a.left > b.left;
}

}  // namespace

void BpeModel::EncodeWord(std::string_view word, std::vector<int32_t>* out) const {
  const size_t n = word.size();
  if (n == 0) return;
  if (n == 1) {
    out->push_back(byte_ids_[static_cast<uint8_t>(word[0])]);
    return;
  }
  std::vector<Symbol> symbols(n);
  for (size_t i = 0; i < n; ++i) {
    symbols[i] = Symbol{byte_ids_[static_cast<uint8_t>(word[i])], static_cast<int32_t>(i) - 1,
                        i + 1 < n ? static_cast<int32_t>(i + 1) : -1, true};
  }
  std::vector<Candidate> heap;
  heap.reserve(n);
  auto push_pair = [&](int32_t left) {
    const int32_t right = symbols[left].next;
    if (right < 0) return;
    const MergeTable::Entry* e = merges_.Find(symbols[left].id, symbols[right].id);
    if (e == nullptr) return;
    heap.push_back(Candidate{e->rank, left, right, symbols[left].id, symbols[right].id, e->merged_id});
    std::push_heap(heap.begin(), heap.end(), After);
  };
  for (size_t i = 0; i + 1 < n; ++i) push_pair(static_cast<int32_t>(i));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), After);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& l = symbols[c.left];
    if (!l.live || l.next != c.right || l.id != c.left_id) continue;  // stale
    Symbol& r = symbols[c.right];
    if (!r.live || r.id != c.right_id) continue;
    // Merge r into l.
    l.id = c.merged_id;
    l.next = r.next;
    r.live = false;
    if (r.next >= 0) symbols[r.next].prev = c.left;
    if (l.prev >= 0) push_pair(l.prev);
    push_pair(c.left);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out->push_back(symbols[i].id);
}

}  // namespace ocular::tokenizer
