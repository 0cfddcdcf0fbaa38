#include "heartbeat/timing_wheel.h"

namespace lifeline::heartbeat {

TimingWheel::TimingWheel(Duration tick, size_t slots, MonoTime origin)
    : tick_(tick.count() > 0 ? tick : Duration(1)), origin_(origin) {
  size_t n = 1;
  while (n < slots) n *= 2;
  mask_ = static_cast<uint32_t>(n - 1);
  heads_.assign(n, kNil);
}

void TimingWheel::Resize(size_t n) {
  if (n > links_.size()) links_.resize(n);
}

size_t TimingWheel::MemoryBytes() const {
  return heads_.capacity() * sizeof(uint32_t) +
         links_.capacity() * sizeof(Link);
}

uint32_t TimingWheel::TickOf(MonoTime t) const {
  if (t <= origin_) return 0;
  int64_t ticks = ((t - origin_) + tick_ - Duration(1)) / tick_;
  return static_cast<uint32_t>(ticks) & 0x7fffffffu;
}

void TimingWheel::Link_(uint32_t index, uint32_t tick) {
  Link& l = links_[index];
  uint32_t slot = tick & mask_;
  l.tick = tick;
  l.tick_set = 1;
  l.prev = kNil;
  l.next = heads_[slot];
  if (l.next != kNil) links_[l.next].prev = index;
  heads_[slot] = index;
  ++scheduled_;
}

void TimingWheel::Unlink(uint32_t index) {
  Link& l = links_[index];
  if (!l.tick_set) return;
  if (l.prev != kNil) {
    links_[l.prev].next = l.next;
  } else {
    heads_[l.tick & mask_] = l.next;
  }
  if (l.next != kNil) links_[l.next].prev = l.prev;
  l.next = l.prev = kNil;
  l.tick_set = 0;
  --scheduled_;
}

void TimingWheel::Schedule(uint32_t index, MonoTime when) {
  uint32_t tick = TickOf(when);
  if (!Before(current_, tick)) tick = (current_ + 1) & 0x7fffffffu;
  Unlink(index);
  Link_(index, tick);
}

void TimingWheel::Cancel(uint32_t index) {
  if (index < links_.size()) Unlink(index);
}

}  // namespace lifeline::heartbeat
