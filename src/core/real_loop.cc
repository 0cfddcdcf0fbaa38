#include "core/real_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace lifeline {

namespace {
Status ErrnoStatus(const char* what) {
  return Internal(std::string("event loop: ") + what + ": " +
                  std::strerror(errno));
}
}  // namespace

RealLoop::RealLoop(const Clock& clock) : clock_(clock) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0 || wake_fd_ < 0) {
    init_status_ = ErrnoStatus("create epoll/timerfd/eventfd");
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = timer_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

RealLoop::~RealLoop() {
  for (int fd : {epoll_fd_, timer_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void RealLoop::Post(Task fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;  // EAGAIN means the counter is already non-zero: loop will wake.
}

void RealLoop::Stop() {
  stop_.store(true);
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;
}

EventLoop::TimerId RealLoop::RunAt(MonoTime when, Task fn) {
  TimerId id = timers_.Add(when, std::move(fn));
  ArmTimerFd();
  return id;
}

bool RealLoop::Cancel(TimerId id) { return timers_.Cancel(id); }

Status RealLoop::WatchFd(int fd, uint32_t events,
                         std::function<void(uint32_t)> cb) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  int op = fd_callbacks_.count(fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd_, op, fd, &ev) != 0) {
    return ErrnoStatus("epoll_ctl(watch fd)");
  }
  fd_callbacks_[fd] = std::move(cb);
  return Status::Ok();
}

void RealLoop::UnwatchFd(int fd) {
  if (fd_callbacks_.erase(fd)) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void RealLoop::ArmTimerFd() {
  itimerspec spec{};
  if (auto next = timers_.NextDeadline()) {
    // timerfd uses CLOCK_MONOTONIC; our Clock may be a different epoch, so
    // arm relative to now.
    Duration delay = *next - clock_.Now();
    if (delay < Duration(1000)) delay = Duration(1000);  // 0 would disarm
    spec.it_value.tv_sec = delay.count() / 1000000000;
    spec.it_value.tv_nsec = delay.count() % 1000000000;
  }
  timerfd_settime(timer_fd_, 0, &spec, nullptr);
}

void RealLoop::RunPostedTasks() {
  std::deque<Task> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void RealLoop::RunDueTimers() {
  MonoTime now = clock_.Now();
  // Bound the batch so posted work is not starved by a timer storm.
  for (int i = 0; i < 4096; ++i) {
    auto fn = timers_.PopDue(now);
    if (!fn) break;
    (*fn)();
  }
}

void RealLoop::Run() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  MonoTime last_turn = clock_.Now();
  while (!stop_.load()) {
    ArmTimerFd();
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, -1);
    MonoTime now = clock_.Now();
    if (now - last_turn > longest_turn_) longest_turn_ = now - last_turn;
    last_turn = now;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v;
        ssize_t r = read(wake_fd_, &v, sizeof v);
        (void)r;
      } else if (fd == timer_fd_) {
        uint64_t v;
        ssize_t r = read(timer_fd_, &v, sizeof v);
        (void)r;
      } else {
        auto it = fd_callbacks_.find(fd);
        if (it != fd_callbacks_.end()) {
          auto cb = it->second;  // the callback may unwatch itself
          cb(events[i].events);
        }
      }
    }
    RunPostedTasks();
    RunDueTimers();
  }
  RunPostedTasks();
}

}  // namespace lifeline
