// RealLoop: the daemon's EventLoop on epoll, with one eventfd to wake the
// loop when another thread posts. The loop sleeps in epoll_pwait2 until the
// earliest timer (nanosecond timeout, no timer syscalls per turn); on kernels
// without epoll_pwait2 (< 5.11) it arms one timerfd for the earliest timer.
// A turn with nothing posted and no timer re-armed costs one system call.
//
// Thread-safety: Post() and Stop() are safe from any thread; the rest must
// be called on the thread that runs Run() (or before Run() starts).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace lifeline {

class RealLoop final : public EventLoop {
 public:
  explicit RealLoop(const Clock& clock);
  ~RealLoop() override;
  RealLoop(const RealLoop&) = delete;
  RealLoop& operator=(const RealLoop&) = delete;

  // OK unless the kernel refused an epoll/timerfd/eventfd.
  const Status& init_status() const { return init_status_; }

  const Clock& clock() const override { return clock_; }
  void Post(Task fn) override;
  TimerId RunAt(MonoTime when, Task fn) override;
  bool Cancel(TimerId id) override;
  Status WatchFd(int fd, uint32_t events,
                 std::function<void(uint32_t)> cb) override;
  void UnwatchFd(int fd) override;

  // Runs until Stop(). Returns at once if Stop() was already called.
  void Run();
  void Stop();

  // The longest gap seen between two turns of the loop (self-stall
  // awareness reads this).
  Duration longest_turn() const { return longest_turn_; }

 private:
  // Waits for fd events until the earliest timer is due; returns the
  // number of events or -1 (errno set).
  int Wait(epoll_event* events, int max_events);
  void ArmTimerFd(std::optional<MonoTime> next);
  void RunPostedTasks();
  void RunDueTimers();

  const Clock& clock_;
  Status init_status_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int wake_fd_ = -1;
  // epoll_pwait2 is missing (ENOSYS): timers go through timer_fd_.
  bool use_timer_fd_ = false;
  // The deadline timer_fd_ is armed for (timerfd mode only), so that a turn
  // whose earliest timer did not change makes no timerfd_settime call.
  std::optional<MonoTime> armed_;
  std::atomic<bool> stop_{false};

  std::mutex mu_;
  std::vector<Task> posted_;  // guarded by mu_
  // Loop thread only: the batch being run, swapped with posted_ so that
  // both keep their capacity and a steady turn allocates nothing.
  std::vector<Task> running_;

  TimerQueue timers_;
  std::unordered_map<int, std::function<void(uint32_t)>> fd_callbacks_;
  Duration longest_turn_{0};
};

}  // namespace lifeline
