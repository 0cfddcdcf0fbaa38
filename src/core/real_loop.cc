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
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(fn));
  }
  // A non-empty queue already has a wake-up on its way (or the loop is
  // running tasks and will look again before it sleeps).
  if (!was_empty) return;
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
  // Run() computes the wait from the earliest timer before every sleep, so
  // arming here (on the loop thread, or before Run) needs no system call.
  return timers_.Add(when, std::move(fn));
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

namespace {
// A delay as a timespec, at least 1 us (a zero timerfd value disarms it;
// for epoll_pwait2 it would only mean "poll").
timespec ToTimespec(Duration delay) {
  if (delay < Duration(1000)) delay = Duration(1000);
  timespec ts{};
  ts.tv_sec = delay.count() / 1000000000;
  ts.tv_nsec = delay.count() % 1000000000;
  return ts;
}
}  // namespace

void RealLoop::ArmTimerFd(std::optional<MonoTime> next) {
  if (next == armed_) return;
  itimerspec spec{};
  // timerfd uses CLOCK_MONOTONIC; our Clock may be a different epoch, so
  // arm relative to now.
  if (next) spec.it_value = ToTimespec(*next - clock_.Now());
  timerfd_settime(timer_fd_, 0, &spec, nullptr);
  armed_ = next;
}

int RealLoop::Wait(epoll_event* events, int max_events) {
  std::optional<MonoTime> next = timers_.NextDeadline();
  if (!use_timer_fd_) {
    timespec timeout{};
    timespec* wait = nullptr;  // no timer: sleep until an fd is ready
    if (next) {
      Duration delay = *next - clock_.Now();
      if (delay > Duration::zero()) timeout = ToTimespec(delay);
      wait = &timeout;  // {0, 0} when due: poll and return at once
    }
    int n = epoll_pwait2(epoll_fd_, events, max_events, wait, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    use_timer_fd_ = true;  // kernel < 5.11: fall back for good
  }
  ArmTimerFd(next);
  return epoll_wait(epoll_fd_, events, max_events, -1);
}

void RealLoop::RunPostedTasks() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (posted_.empty()) return;
    running_.swap(posted_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
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
    int n = Wait(events, kMaxEvents);
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
        armed_.reset();  // expired: the next Wait() arms it again
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
