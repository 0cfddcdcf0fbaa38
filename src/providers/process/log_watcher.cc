#include "providers/process/log_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lifeline::process {

LogWatcher::LogWatcher() { fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

LogWatcher::~LogWatcher() {
  if (fd_ >= 0) close(fd_);
}

bool LogWatcher::TryWatch(const std::string& path) {
  if (fd_ < 0) return false;
  int wd = inotify_add_watch(fd_, path.c_str(), IN_MODIFY | IN_DELETE_SELF);
  if (wd < 0) return false;
  // Two paths of one inode share a watch descriptor; the last one added is
  // reported for it (log files are never hard-linked to each other).
  path_by_wd_[wd] = path;
  wd_by_path_[path] = wd;
  return true;
}

void LogWatcher::DropWatch(int wd) {
  auto it = path_by_wd_.find(wd);
  if (it == path_by_wd_.end()) return;
  auto p = wd_by_path_.find(it->second);
  if (p != wd_by_path_.end() && p->second == wd) p->second = -1;
  path_by_wd_.erase(it);
}

void LogWatcher::Add(const std::string& path) {
  auto it = wd_by_path_.find(path);
  if (it == wd_by_path_.end() || it->second < 0) {
    wd_by_path_[path] = -1;
    TryWatch(path);
  }
  changed_.insert(path);
}

void LogWatcher::Remove(const std::string& path) {
  auto it = wd_by_path_.find(path);
  if (it == wd_by_path_.end()) return;
  if (it->second >= 0) {
    int wd = it->second;
    path_by_wd_.erase(wd);
    inotify_rm_watch(fd_, wd);
  }
  wd_by_path_.erase(it);
  changed_.erase(path);
}

void LogWatcher::Drain() {
  if (fd_ < 0) return;
  alignas(inotify_event) char buf[8192];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        // Events were lost: look at everything once.
        for (const auto& [path, wd] : wd_by_path_) changed_.insert(path);
        continue;
      }
      auto it = path_by_wd_.find(ev->wd);
      if (it == path_by_wd_.end()) continue;  // removed meanwhile
      changed_.insert(it->second);
      // The file is gone (or its filesystem): the kernel dropped the watch,
      // so the path is looked at, and re-watched, at every check.
      if (ev->mask & IN_IGNORED) DropWatch(ev->wd);
    }
  }
}

std::vector<std::string> LogWatcher::TakeChanged() {
  Drain();
  for (const auto& [path, wd] : wd_by_path_) {
    if (wd >= 0) continue;
    changed_.insert(path);
    TryWatch(path);
  }
  std::vector<std::string> out(changed_.begin(), changed_.end());
  changed_.clear();
  return out;
}

}  // namespace lifeline::process
