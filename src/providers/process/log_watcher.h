// LogWatcher: which instance log files may have grown since the last look,
// so that the periodic rotation check stats only those instead of every
// log of every instance.
//
// One inotify descriptor with an IN_MODIFY watch per file, drained without
// blocking at each TakeChanged(): a file nobody wrote to costs nothing, and
// the kernel folds repeated writes into one queued event. A file that
// cannot be watched (no inotify, the watch limit reached, the file not
// created yet, or its watch dropped because it was deleted) is reported at
// every TakeChanged() and its watch retried, which is the old behaviour
// for that file; after an event queue overflow every file is reported once.
//
// Not thread-safe: the provider uses it from its loop thread only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace lifeline::process {

class LogWatcher {
 public:
  LogWatcher();
  ~LogWatcher();
  LogWatcher(const LogWatcher&) = delete;
  LogWatcher& operator=(const LogWatcher&) = delete;

  // Starts watching `path` (again); it is reported by the next
  // TakeChanged() whether or not it was written to. Idempotent.
  void Add(const std::string& path);
  void Remove(const std::string& path);

  // The watched paths written to since the last call, plus every path
  // without a working watch. Sorted, each once.
  std::vector<std::string> TakeChanged();

  // False when inotify is unavailable: every path is reported every time.
  bool watching() const { return fd_ >= 0; }
  size_t size() const { return wd_by_path_.size(); }

 private:
  void Drain();
  bool TryWatch(const std::string& path);  // true if a watch is now in place
  void DropWatch(int wd);

  int fd_ = -1;
  std::map<std::string, int> wd_by_path_;  // -1: no working watch
  std::unordered_map<int, std::string> path_by_wd_;
  std::set<std::string> changed_;
};

}  // namespace lifeline::process
