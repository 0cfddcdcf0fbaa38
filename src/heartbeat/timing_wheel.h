// TimingWheel: a hashed timing wheel of deadlines for densely indexed
// entries (Varghese & Lauck, scheme 6).
//
// Each entry has at most one deadline. A slot (tick mod slots) is an array
// of (index, generation) pairs; re-arming appends to the new slot and bumps
// the entry's generation, so the old pair goes stale and is dropped when
// its slot is next visited (no unlinking, no pointer chasing). Visiting a
// slot walks a contiguous array and prefetches the entries' state a few
// pairs ahead, so the cache misses of millions of random entries overlap
// instead of forming a chain. A deadline further away than one revolution
// stays in its slot and is kept until its tick comes. Schedule and Cancel
// are O(1); Advance visits every slot between the last processed tick and
// now once.
//
// Ticks are 31-bit and compared with wrap-around arithmetic, so deadlines
// must lie less than 2^30 ticks (12 days at 1 ms) ahead.
//
// Thread-safety: none; one owner.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace lifeline::heartbeat {

class TimingWheel {
 public:
  // slots is rounded up to a power of two.
  TimingWheel(Duration tick, size_t slots, MonoTime origin);

  // Makes indices [0, n) usable.
  void Resize(size_t n);
  size_t MemoryBytes() const;

  // (Re)arms index to fire at the first tick at or after `when`. A time in
  // the past fires at the next Advance.
  void Schedule(uint32_t index, MonoTime when);
  void Cancel(uint32_t index);
  bool scheduled(uint32_t index) const { return state_[index].tick_set; }
  void Prefetch(uint32_t index) const { __builtin_prefetch(&state_[index]); }
  // The time the index is armed for (a tick boundary). Only if scheduled.
  MonoTime when(uint32_t index) const { return TimeOfTick(state_[index].tick); }

  // Calls fn(index) for every entry whose tick is <= now's tick, slot by
  // slot in tick order (when less than a revolution passed). The entry is
  // unscheduled before fn runs; fn may Schedule or Cancel that index, and
  // no other. prefetch(index) is called a few entries ahead of fn(index)
  // (and for some entries that turn out not to be due), so that fn's own
  // memory accesses can be overlapped too.
  template <typename Fn, typename Pre>
  void Advance(MonoTime now, Fn&& fn, Pre&& prefetch);
  template <typename Fn>
  void Advance(MonoTime now, Fn&& fn) {
    Advance(now, std::forward<Fn>(fn), [](uint32_t) {});
  }

  MonoTime processed_until() const { return TimeOfTick(processed_); }
  size_t scheduled_count() const { return scheduled_; }

 private:
  struct State {
    uint32_t tick : 31 = 0;
    uint32_t tick_set : 1 = 0;
    uint32_t gen = 0;  // bumped by every Schedule and Cancel
  };
  struct Armed {
    uint32_t index;
    uint32_t gen;  // stale unless equal to state_[index].gen
  };
  static constexpr size_t kLookahead = 8;

  uint32_t TickOf(MonoTime t) const;  // rounded up
  MonoTime TimeOfTick(uint32_t tick) const {
    return origin_ + tick_ * static_cast<int64_t>(tick);
  }
  static bool Before(uint32_t a, uint32_t b) {  // a < b, 31-bit wrap-aware
    return ((a - b) & 0x40000000u) != 0;
  }
  template <typename Fn, typename Pre>
  void RunSlot(uint32_t slot, uint32_t now_tick, Fn& fn, Pre& prefetch);

  Duration tick_;
  MonoTime origin_;
  uint32_t mask_;
  uint32_t processed_ = 0;  // every tick <= this has run
  uint32_t current_ = 0;    // the tick being run (== processed_ when idle)
  size_t scheduled_ = 0;
  std::vector<std::vector<Armed>> slots_;
  std::vector<State> state_;
  std::vector<Armed> running_;  // the slot being visited (capacity reused)
};

template <typename Fn, typename Pre>
void TimingWheel::RunSlot(uint32_t slot, uint32_t now_tick, Fn& fn,
                          Pre& prefetch) {
  // Detach the slot first: fn may re-arm entries into it.
  running_.swap(slots_[slot]);
  const size_t n = running_.size();
  for (size_t k = 0; k < std::min(n, kLookahead); ++k) {
    Prefetch(running_[k].index);
  }
  for (size_t k = 0; k < n; ++k) {
    if (k + kLookahead < n) {
      Prefetch(running_[k + kLookahead].index);
      prefetch(running_[k + kLookahead].index);
    }
    Armed a = running_[k];
    State& s = state_[a.index];
    if (!s.tick_set || s.gen != a.gen) continue;  // re-armed or cancelled
    if (Before(now_tick, s.tick)) {               // a later revolution
      slots_[slot].push_back(a);
      continue;
    }
    s.tick_set = 0;
    --scheduled_;
    fn(a.index);
  }
  running_.clear();
}

template <typename Fn, typename Pre>
void TimingWheel::Advance(MonoTime now, Fn&& fn, Pre&& prefetch) {
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
      RunSlot((processed_ + k) & mask_, now_tick, fn, prefetch);
    }
  } else {
    for (uint32_t k = 1; k <= span; ++k) {
      uint32_t t = (processed_ + k) & 0x7fffffffu;
      current_ = t;
      RunSlot(t & mask_, t, fn, prefetch);
    }
  }
  processed_ = current_ = now_tick;
}

}  // namespace lifeline::heartbeat
