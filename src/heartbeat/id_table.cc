#include "heartbeat/id_table.h"

#include <cstring>
#include <functional>

namespace lifeline::heartbeat {

namespace {
uint32_t WordsFor(size_t len) { return static_cast<uint32_t>((len + 7) / 8); }
}  // namespace

IdTable::IdTable() { Grow(16); }

uint64_t IdTable::Hash(std::string_view id) {
  return std::hash<std::string_view>{}(id);
}

std::string_view IdTable::IdOf(uint32_t index) const {
  return std::string_view(reinterpret_cast<const char*>(&arena_[refs_[index]]),
                          lens_[index]);
}

bool IdTable::SlotMatches(uint64_t slot, uint64_t h,
                          std::string_view id) const {
  if (!TagMatches(slot, h)) return false;
  uint32_t index = static_cast<uint32_t>(slot) - 1;
  return lens_[index] == id.size() &&
         std::memcmp(&arena_[refs_[index]], id.data(), id.size()) == 0;
}

uint32_t IdTable::Find(std::string_view id, uint64_t h) const {
  for (size_t s = h & mask_;; s = (s + 1) & mask_) {
    uint64_t v = slots_[s];
    if (v == 0) return kNone;
    if (SlotMatches(v, h, id)) return static_cast<uint32_t>(v) - 1;
  }
}

uint32_t IdTable::Probe(uint64_t h) const {
  for (size_t s = h & mask_;; s = (s + 1) & mask_) {
    uint64_t v = slots_[s];
    if (v == 0) return kNone;
    if (TagMatches(v, h)) return static_cast<uint32_t>(v) - 1;
  }
}

void IdTable::Grow(size_t new_capacity) {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(new_capacity, 0);
  mask_ = new_capacity - 1;
  for (uint64_t v : old) {
    if (v == 0) continue;
    size_t s = Hash(IdOf(static_cast<uint32_t>(v) - 1)) & mask_;
    while (slots_[s] != 0) s = (s + 1) & mask_;
    slots_[s] = v;
  }
}

void IdTable::Reserve(size_t n) {
  size_t cap = slots_.size();
  while (cap < n * 10 / 7 + 1) cap *= 2;
  if (cap != slots_.size()) Grow(cap);
  refs_.reserve(n);
  lens_.reserve(n);
  arena_.reserve(n * 2);
}

uint32_t IdTable::AllocIndex() {
  if (!free_indices_.empty()) {
    uint32_t i = free_indices_.back();
    free_indices_.pop_back();
    return i;
  }
  refs_.push_back(0);
  lens_.push_back(0);
  return static_cast<uint32_t>(lens_.size() - 1);
}

uint32_t IdTable::AllocWords(uint32_t words) {
  auto& list = free_words_[words];
  if (!list.empty()) {
    uint32_t at = list.back();
    list.pop_back();
    return at;
  }
  uint32_t at = static_cast<uint32_t>(arena_.size());
  arena_.resize(arena_.size() + words, 0);
  return at;
}

std::pair<uint32_t, bool> IdTable::Insert(std::string_view id) {
  uint64_t h = Hash(id);
  uint32_t found = Find(id, h);
  if (found != kNone) return {found, false};
  if ((size_ + 1) * 10 > slots_.size() * 7) Grow(slots_.size() * 2);
  uint32_t index = AllocIndex();
  uint32_t words = WordsFor(id.size());
  uint32_t at = AllocWords(words);
  std::memset(&arena_[at], 0, words * 8);
  std::memcpy(&arena_[at], id.data(), id.size());
  refs_[index] = at;
  lens_[index] = static_cast<uint8_t>(id.size());
  size_t s = h & mask_;
  while (slots_[s] != 0) s = (s + 1) & mask_;
  slots_[s] = SlotOf(index, h);
  ++size_;
  return {index, true};
}

bool IdTable::Erase(std::string_view id) {
  uint64_t h = Hash(id);
  size_t s = h & mask_;
  for (;; s = (s + 1) & mask_) {
    if (slots_[s] == 0) return false;
    if (SlotMatches(slots_[s], h, id)) break;
  }
  uint32_t index = static_cast<uint32_t>(slots_[s]) - 1;
  // Backward-shift deletion: pull later members of the probe run into the
  // hole when their home slot allows it.
  size_t hole = s;
  for (size_t j = (hole + 1) & mask_; slots_[j] != 0; j = (j + 1) & mask_) {
    size_t home = Hash(IdOf(static_cast<uint32_t>(slots_[j]) - 1)) & mask_;
    bool movable =
        hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = 0;
  free_words_[WordsFor(lens_[index])].push_back(refs_[index]);
  lens_[index] = 0;
  free_indices_.push_back(index);
  --size_;
  return true;
}

size_t IdTable::MemoryBytes() const {
  size_t n = slots_.capacity() * 8 + arena_.capacity() * 8 +
             refs_.capacity() * 4 + lens_.capacity() +
             free_indices_.capacity() * 4;
  for (const auto& l : free_words_) n += l.capacity() * 4;
  return n;
}

}  // namespace lifeline::heartbeat
