#include "agent/probe.h"

#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace lifeline::agent {

using heartbeat::AppStatus;

AppStatus StatusOfExitCode(int code) {
  if (code == 0) return AppStatus::kOk;
  if (code == 1) return AppStatus::kDegraded;
  return AppStatus::kFailing;
}

AppStatus StatusOfHttpCode(int code) {
  if (code >= 200 && code < 300) return AppStatus::kOk;
  if (code == 429 || code == 503) return AppStatus::kDegraded;
  return AppStatus::kFailing;
}

std::string SubstituteId(const std::string& text, const std::string& id) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 4, "{id}") == 0) {
      out += id;
      i += 4;
    } else {
      out += text[i++];
    }
  }
  return out;
}

HealthProber::HealthProber(EventLoop& loop, ProbeConfig config,
                           std::vector<std::string> ids, Callback on_result)
    : loop_(loop),
      config_(std::move(config)),
      ids_(std::move(ids)),
      on_result_(std::move(on_result)),
      children_(ids_.size()),
      http_busy_(ids_.size(), false) {}

HealthProber::~HealthProber() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (http_thread_.joinable()) http_thread_.join();
  for (Child& c : children_) {
    if (c.pid > 0) {
      kill(c.pid, SIGKILL);
      waitpid(c.pid, nullptr, 0);
    }
    if (c.pidfd >= 0) {
      loop_.UnwatchFd(c.pidfd);
      close(c.pidfd);
    }
  }
}

Status HealthProber::Start() {
  if (!config_.http_url.empty()) {
    const std::string& u = config_.http_url;
    if (u.rfind("http://", 0) != 0) {
      return InvalidArgument("agent: --http-probe " + u +
                             ": only http:// URLs are supported");
    }
    size_t slash = u.find('/', 7);
    http_base_ = slash == std::string::npos ? u : u.substr(0, slash);
    http_path_ = slash == std::string::npos ? "/" : u.substr(slash);
    http_thread_ = std::thread([this] { HttpWorker(); });
  }
  if (config_.command.empty() && config_.http_url.empty()) return Status::Ok();
  round_ = [this] {
    Round();
    loop_.RunAfter(config_.interval, round_);
  };
  loop_.Post(round_);
  return Status::Ok();
}

void HealthProber::Round() {
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (!config_.command.empty()) {
      if (children_[i].pid < 0) SpawnCommand(i);  // else: still running
    } else if (!http_busy_[i]) {
      http_busy_[i] = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        http_queue_.push_back(i);
      }
      cv_.notify_one();
    }
  }
}

void HealthProber::SpawnCommand(size_t i) {
  std::string cmd = SubstituteId(config_.command, ids_[i]);
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  // The agent blocks SIGINT/SIGTERM for its signalfd; the command (and
  // whatever it starts) must not inherit that, or SIGTERM could not stop it.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr,
                       const_cast<char* const*>(argv), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    on_result_(i, AppStatus::kFailing,
               "health command: spawn: " + std::string(std::strerror(rc)));
    return;
  }
  // glibc 2.36's <sys/pidfd.h> lacks extern "C"; use the system call.
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  Child& c = children_[i];
  c.pid = pid;
  c.pidfd = fd;
  if (fd < 0 ||
      !loop_.WatchFd(fd, EPOLLIN, [this, i](uint32_t) { Reap(i, false); })
           .ok()) {
    // Without a pidfd, wait for it when the timeout fires.
    c.timeout = loop_.RunAfter(config_.timeout, [this, i] { Reap(i, true); });
    return;
  }
  c.timeout = loop_.RunAfter(config_.timeout, [this, i] { Reap(i, true); });
}

void HealthProber::Reap(size_t i, bool timed_out) {
  Child& c = children_[i];
  if (c.pid < 0) return;
  int status = 0;
  pid_t r = waitpid(c.pid, &status, timed_out ? WNOHANG : 0);
  bool exited = r == c.pid;
  if (!exited) {  // still running at the timeout
    kill(c.pid, SIGKILL);
    waitpid(c.pid, &status, 0);
  }
  if (!timed_out) loop_.Cancel(c.timeout);
  if (c.pidfd >= 0) {
    loop_.UnwatchFd(c.pidfd);
    close(c.pidfd);
  }
  c = Child{};
  if (!exited) {
    on_result_(
        i, AppStatus::kFailing,
        "health command timed out after " + FormatDuration(config_.timeout));
  } else if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    on_result_(i, StatusOfExitCode(code),
               "health command exited " + std::to_string(code));
  } else {
    on_result_(i, AppStatus::kFailing, "health command killed by a signal");
  }
}

void HealthProber::HttpWorker() {
  for (;;) {
    size_t i;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !http_queue_.empty(); });
      if (stop_) return;
      i = http_queue_.front();
      http_queue_.pop_front();
    }
    httplib::Client client(SubstituteId(http_base_, ids_[i]));
    auto secs =
        std::chrono::duration_cast<std::chrono::microseconds>(config_.timeout);
    time_t sec = static_cast<time_t>(secs.count() / 1000000);
    time_t usec = static_cast<time_t>(secs.count() % 1000000);
    client.set_connection_timeout(sec, usec);
    client.set_read_timeout(sec, usec);
    auto res = client.Get(SubstituteId(http_path_, ids_[i]));
    int code = res ? res->status : 0;
    std::string why = res ? "http probe: status " + std::to_string(code)
                          : "http probe: " + httplib::to_string(res.error());
    loop_.Post([this, i, code, why] {
      http_busy_[i] = false;
      on_result_(i, StatusOfHttpCode(code), why);
    });
  }
}

}  // namespace lifeline::agent
