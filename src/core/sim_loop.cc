#include "core/sim_loop.h"

namespace lifeline {

uint64_t SimLoop::RunPosted() {
  uint64_t n = 0;
  while (!posted_.empty()) {
    Task fn = std::move(posted_.front());
    posted_.pop_front();
    fn();
    ++n;
  }
  tasks_run_ += n;
  return n;
}

uint64_t SimLoop::RunUntil(MonoTime deadline) {
  uint64_t n = RunPosted();
  for (;;) {
    auto next = timers_.NextDeadline();
    if (!next || *next > deadline) break;
    clock_.AdvanceTo(*next);
    while (auto fn = timers_.PopDue(clock_.Now())) {
      (*fn)();
      ++n;
      ++tasks_run_;
      n += RunPosted();
    }
  }
  clock_.AdvanceTo(deadline);
  return n;
}

uint64_t SimLoop::RunUntilIdle(Duration limit) {
  MonoTime stop = Now() + limit;
  uint64_t n = RunPosted();
  for (;;) {
    auto next = timers_.NextDeadline();
    if (!next || *next > stop) break;
    n += RunUntil(*next);
  }
  return n;
}

}  // namespace lifeline
