#include "heartbeat/timing_wheel.h"

namespace lifeline::heartbeat {

TimingWheel::TimingWheel(Duration tick, size_t slots, MonoTime origin)
    : tick_(tick.count() > 0 ? tick : Duration(1)), origin_(origin) {
  size_t n = 1;
  while (n < slots) n *= 2;
  mask_ = static_cast<uint32_t>(n - 1);
  slots_.resize(n);
}

void TimingWheel::Resize(size_t n) {
  if (n > state_.size()) state_.resize(n);
}

size_t TimingWheel::MemoryBytes() const {
  size_t n = slots_.capacity() * sizeof(std::vector<Armed>) +
             state_.capacity() * sizeof(State) +
             running_.capacity() * sizeof(Armed);
  for (const auto& s : slots_) n += s.capacity() * sizeof(Armed);
  return n;
}

uint32_t TimingWheel::TickOf(MonoTime t) const {
  if (t <= origin_) return 0;
  int64_t ticks = ((t - origin_) + tick_ - Duration(1)) / tick_;
  return static_cast<uint32_t>(ticks) & 0x7fffffffu;
}

void TimingWheel::Schedule(uint32_t index, MonoTime when) {
  uint32_t tick = TickOf(when);
  if (!Before(current_, tick)) tick = (current_ + 1) & 0x7fffffffu;
  State& s = state_[index];
  if (s.tick_set && s.tick == tick) return;  // already armed there
  if (!s.tick_set) ++scheduled_;
  s.tick = tick;
  s.tick_set = 1;
  ++s.gen;  // any pair left in another slot is now stale
  slots_[tick & mask_].push_back(Armed{index, s.gen});
}

void TimingWheel::Cancel(uint32_t index) {
  if (index >= state_.size()) return;
  State& s = state_[index];
  if (!s.tick_set) return;
  s.tick_set = 0;
  ++s.gen;
  --scheduled_;
}

}  // namespace lifeline::heartbeat
