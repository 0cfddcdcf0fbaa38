// IdTable: maps instance id strings (1..64 bytes) to dense indices and back,
// compactly enough for ten million instances.
//
// Ids live in one arena of 8-byte words (freed runs are reused by size);
// lookup is an open-addressing table with linear probing and backward-shift
// deletion (no tombstones). A slot holds the index and 32 bits of the id's
// hash, so a probe past another id costs no look at that id's bytes.
// Freed indices are reused, so index-addressed arrays stay dense.
//
// Batch lookups can hide memory latency by splitting a lookup in stages
// over many ids: PrefetchSlot(h) for all, then Probe(h) (and prefetching
// what the candidate index addresses), then PrefetchId(candidate), then
// Find(id, h), which then finds everything in cache.
//
// Thread-safety: none; one owner (a detector shard).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace lifeline::heartbeat {

class IdTable {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;

  IdTable();

  // Index of id, or kNone.
  uint32_t Find(std::string_view id) const { return Find(id, Hash(id)); }
  // Same, with h = Hash(id).
  uint32_t Find(std::string_view id, uint64_t h) const;
  static uint64_t Hash(std::string_view id);

  // Batch lookup stages (hints only: they change nothing).
  void PrefetchSlot(uint64_t h) const {
    __builtin_prefetch(&slots_[h & mask_]);
  }
  // The first index on h's probe path whose stored hash bits match, or
  // kNone: almost always the answer, to be confirmed by Find.
  uint32_t Probe(uint64_t h) const;
  void PrefetchId(uint32_t index) const {
    __builtin_prefetch(&refs_[index]);
    __builtin_prefetch(&lens_[index]);
  }
  void PrefetchIdBytes(uint32_t index) const {
    __builtin_prefetch(&arena_[refs_[index]]);
  }
  // Index of id, inserting it if new; second is true if inserted.
  std::pair<uint32_t, bool> Insert(std::string_view id);
  // Removes id; its index may be handed out again. False if absent.
  bool Erase(std::string_view id);

  // The id at a live index.
  std::string_view IdOf(uint32_t index) const;
  bool live(uint32_t index) const {
    return index < lens_.size() && lens_[index] != 0;
  }

  size_t size() const { return size_; }
  // One past the largest index ever handed out.
  uint32_t index_limit() const { return static_cast<uint32_t>(lens_.size()); }
  // Bytes held by the table, the arena and the per-index arrays.
  size_t MemoryBytes() const;
  // Pre-sizes for n ids (avoids rehash and reallocation peaks).
  void Reserve(size_t n);

 private:
  static uint64_t SlotOf(uint32_t index, uint64_t h) {
    return (h & 0xffffffff00000000ull) | (uint64_t{index} + 1);
  }
  static bool TagMatches(uint64_t slot, uint64_t h) {
    return (slot >> 32) == (h >> 32);
  }
  uint32_t AllocIndex();
  uint32_t AllocWords(uint32_t words);
  void Grow(size_t new_capacity);
  bool SlotMatches(uint64_t slot, uint64_t h, std::string_view id) const;

  // Low 32 bits: index + 1 (0 = empty); high 32 bits: the id's hash's.
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::vector<uint64_t> arena_;
  std::array<std::vector<uint32_t>, 9> free_words_;  // by run length 1..8
  std::vector<uint32_t> refs_;  // arena word offset per index
  std::vector<uint8_t> lens_;   // id length per index, 0 = free index
  std::vector<uint32_t> free_indices_;
};

}  // namespace lifeline::heartbeat
