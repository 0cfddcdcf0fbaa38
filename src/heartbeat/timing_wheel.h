// TimingWheel: a hashed timing wheel of deadlines for densely indexed
// entries (Varghese & Lauck, scheme 6).
//
// Each entry has at most one deadline. Entries sit in doubly linked lists
// (32-bit links, 12 bytes per entry) in slot (tick mod slots); a deadline
// further away than one revolution stays in its slot and is skipped until
// its tick comes. Schedule and Cancel are O(1); Advance visits every slot
// between the last processed tick and now once.
//
// Ticks are 32-bit and compared with wrap-around arithmetic, so deadlines
// must lie less than 2^31 ticks (24 days at 1 ms) ahead.
//
// Thread-safety: none; one owner.
#pragma once

#include <cstdint>
#include <vector>

#include "core/clock.h"

namespace lifeline::heartbeat {

class TimingWheel {
 public:
  static constexpr uint32_t kNil = 0xffffffffu;

  // slots is rounded up to a power of two.
  TimingWheel(Duration tick, size_t slots, MonoTime origin);

  // Makes indices [0, n) usable.
  void Resize(size_t n);
  size_t MemoryBytes() const;

  // (Re)arms index to fire at the first tick at or after `when`. A time in
  // the past fires at the next Advance.
  void Schedule(uint32_t index, MonoTime when);
  void Cancel(uint32_t index);
  bool scheduled(uint32_t index) const { return links_[index].tick_set; }
  void Prefetch(uint32_t index) const { __builtin_prefetch(&links_[index]); }
  // The time the index is armed for (a tick boundary). Only if scheduled.
  MonoTime when(uint32_t index) const { return TimeOfTick(links_[index].tick); }

  // Calls fn(index) for every entry whose tick is <= now's tick, in tick
  // order (when less than a revolution passed). The entry is unscheduled
  // before fn runs; fn may Schedule or Cancel that index, and no other.
  template <typename Fn>
  void Advance(MonoTime now, Fn&& fn);

  MonoTime processed_until() const { return TimeOfTick(processed_); }
  size_t scheduled_count() const { return scheduled_; }

 private:
  struct Link {
    uint32_t next = kNil;
    uint32_t prev = kNil;
    uint32_t tick : 31 = 0;
    uint32_t tick_set : 1 = 0;
  };
  uint32_t TickOf(MonoTime t) const;  // rounded up
  MonoTime TimeOfTick(uint32_t tick) const {
    return origin_ + tick_ * static_cast<int64_t>(tick);
  }
  static bool Before(uint32_t a, uint32_t b) {  // a < b, 31-bit wrap-aware
    return ((a - b) & 0x40000000u) != 0;
  }
  void Link_(uint32_t index, uint32_t tick);
  void Unlink(uint32_t index);
  template <typename Fn>
  void RunSlot(uint32_t slot, uint32_t now_tick, Fn& fn);

  Duration tick_;
  MonoTime origin_;
  uint32_t mask_;
  uint32_t processed_ = 0;  // every tick <= this has run
  uint32_t current_ = 0;    // the tick being run (== processed_ when idle)
  size_t scheduled_ = 0;
  std::vector<uint32_t> heads_;
  std::vector<Link> links_;
};

template <typename Fn>
void TimingWheel::RunSlot(uint32_t slot, uint32_t now_tick, Fn& fn) {
  uint32_t i = heads_[slot];
  heads_[slot] = kNil;
  // Detach the whole list first: fn may re-arm entries into this slot.
  while (i != kNil) {
    uint32_t next = links_[i].next;
    uint32_t tick = links_[i].tick;
    if (Before(now_tick, tick)) {  // a later revolution: put it back
      links_[i].prev = kNil;
      links_[i].next = heads_[slot];
      if (heads_[slot] != kNil) links_[heads_[slot]].prev = i;
      heads_[slot] = i;
    } else {
      links_[i].next = links_[i].prev = kNil;
      links_[i].tick_set = 0;
      --scheduled_;
      fn(i);
    }
    i = next;
  }
}

template <typename Fn>
void TimingWheel::Advance(MonoTime now, Fn&& fn) {
  if (now < origin_) return;
  uint32_t now_tick =
      static_cast<uint32_t>((now - origin_) / tick_) & 0x7fffffffu;
  if (!Before(processed_, now_tick)) return;
  uint32_t span = (now_tick - processed_) & 0x7fffffffu;
  uint32_t slots = mask_ + 1;
  if (span >= slots) {
    // More than a revolution passed: every slot once, everything due fires.
    current_ = now_tick;
    for (uint32_t k = 1; k <= slots; ++k) {
      RunSlot((processed_ + k) & mask_, now_tick, fn);
    }
  } else {
    for (uint32_t k = 1; k <= span; ++k) {
      uint32_t t = (processed_ + k) & 0x7fffffffu;
      current_ = t;
      RunSlot(t & mask_, t, fn);
    }
  }
  processed_ = current_ = now_tick;
}

}  // namespace lifeline::heartbeat
