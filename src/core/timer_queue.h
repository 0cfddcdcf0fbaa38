// TimerQueue: a min-heap of (deadline, arming order) with lazy cancellation.
// Shared by both loops. Not thread-safe: owned by one loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"

namespace lifeline {

class TimerQueue {
 public:
  EventLoop::TimerId Add(MonoTime when, EventLoop::Task fn);
  bool Cancel(EventLoop::TimerId id);

  // Deadline of the earliest live timer, if any.
  std::optional<MonoTime> NextDeadline();
  // Removes and returns the earliest live timer's task if it is due at or
  // before `now`.
  std::optional<EventLoop::Task> PopDue(MonoTime now);

  size_t size() const { return tasks_.size(); }
  bool empty() const { return tasks_.empty(); }

 private:
  struct Entry {
    MonoTime when;
    EventLoop::TimerId id;  // increasing: also the arming order
    bool operator>(const Entry& o) const {
      return when != o.when ? when > o.when : id > o.id;
    }
  };
  void DropCancelled();

  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::unordered_map<EventLoop::TimerId, EventLoop::Task> tasks_;
  EventLoop::TimerId next_id_ = 1;
};

}  // namespace lifeline
