// EventLoop: the seam for every timer and every posted task.
//
// One thread runs a loop; it owns whatever state its tasks touch. Other
// threads hand work to it with Post(). Two implementations:
//   - RealLoop (real_loop.h): epoll + timerfd + eventfd, used by the daemon;
//   - SimLoop (sim_loop.h): single-threaded, simulated time, used by tests
//     and the simulator.
//
// Thread-safety: Post() is safe from any thread. Everything else must be
// called on the loop's own thread (or before it starts running).
#pragma once

#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline {

class EventLoop {
 public:
  using Task = std::function<void()>;
  using TimerId = uint64_t;
  static constexpr TimerId kNoTimer = 0;

  virtual ~EventLoop() = default;

  virtual const Clock& clock() const = 0;
  MonoTime Now() const { return clock().Now(); }

  // Runs fn on the loop thread, after tasks already queued. Thread-safe.
  virtual void Post(Task fn) = 0;

  // Runs fn at (or as soon as possible after) `when`. Timers due at the same
  // time run in the order they were armed.
  virtual TimerId RunAt(MonoTime when, Task fn) = 0;
  TimerId RunAfter(Duration delay, Task fn) {
    return RunAt(Now() + delay, std::move(fn));
  }
  // Returns false if the timer already ran or was cancelled.
  virtual bool Cancel(TimerId id) = 0;

  // Watches a file descriptor (EPOLLIN etc.); cb gets the ready events.
  // SimLoop returns FailedPrecondition: simulated components have no fds.
  virtual Status WatchFd(int fd, uint32_t events,
                         std::function<void(uint32_t)> cb) = 0;
  virtual void UnwatchFd(int fd) = 0;
};

}  // namespace lifeline
