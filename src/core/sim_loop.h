// SimLoop: an EventLoop in simulated time, for tests and the simulator.
//
// Nothing runs until the owner drives it with RunFor / RunUntil /
// RunUntilIdle; time jumps straight to the next timer, so an hour of
// simulated fleet life takes as long as the work inside it.
//
// Thread-safety: single-threaded, including Post(). (Tests that involve real
// threads use RealLoop.)
#pragma once

#include <cstdint>
#include <deque>

#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace lifeline {

class SimLoop final : public EventLoop {
 public:
  explicit SimLoop(SimClock& clock) : clock_(clock) {}

  const Clock& clock() const override { return clock_; }
  SimClock& sim_clock() { return clock_; }

  void Post(Task fn) override { posted_.push_back(std::move(fn)); }
  TimerId RunAt(MonoTime when, Task fn) override {
    return timers_.Add(when, std::move(fn));
  }
  bool Cancel(TimerId id) override { return timers_.Cancel(id); }
  Status WatchFd(int, uint32_t, std::function<void(uint32_t)>) override {
    return FailedPrecondition("SimLoop: file descriptors are not simulated");
  }
  void UnwatchFd(int) override {}

  // Runs every task and timer due up to `deadline`, then sets the clock to
  // `deadline`. Returns the number of tasks run.
  uint64_t RunUntil(MonoTime deadline);
  uint64_t RunFor(Duration d) { return RunUntil(Now() + d); }
  // Runs until nothing is queued or `limit` of simulated time has passed.
  uint64_t RunUntilIdle(Duration limit = std::chrono::hours(24 * 365));
  // Runs posted tasks only, without advancing time.
  uint64_t RunPosted();

  size_t pending_timers() const { return timers_.size(); }
  uint64_t tasks_run() const { return tasks_run_; }

 private:
  SimClock& clock_;
  std::deque<Task> posted_;
  TimerQueue timers_;
  uint64_t tasks_run_ = 0;
};

}  // namespace lifeline
