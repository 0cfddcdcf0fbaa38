// RealLoop: the daemon's EventLoop on epoll, with one timerfd for the
// earliest timer and one eventfd to wake the loop when another thread posts.
//
// Thread-safety: Post() and Stop() are safe from any thread; the rest must
// be called on the thread that runs Run() (or before Run() starts).
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_map>

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
  void ArmTimerFd();
  void RunPostedTasks();
  void RunDueTimers();

  const Clock& clock_;
  Status init_status_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};

  std::mutex mu_;
  std::deque<Task> posted_;  // guarded by mu_

  TimerQueue timers_;
  std::unordered_map<int, std::function<void(uint32_t)>> fd_callbacks_;
  Duration longest_turn_{0};
};

}  // namespace lifeline
