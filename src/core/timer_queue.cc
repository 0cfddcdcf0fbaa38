#include "core/timer_queue.h"

namespace lifeline {

EventLoop::TimerId TimerQueue::Add(MonoTime when, EventLoop::Task fn) {
  EventLoop::TimerId id = next_id_++;
  heap_.push(Entry{when, id});
  tasks_.emplace(id, std::move(fn));
  return id;
}

bool TimerQueue::Cancel(EventLoop::TimerId id) {
  return tasks_.erase(id) > 0;
}

void TimerQueue::DropCancelled() {
  while (!heap_.empty() && !tasks_.count(heap_.top().id)) heap_.pop();
}

std::optional<MonoTime> TimerQueue::NextDeadline() {
  DropCancelled();
  if (heap_.empty()) return std::nullopt;
  return heap_.top().when;
}

std::optional<EventLoop::Task> TimerQueue::PopDue(MonoTime now) {
  DropCancelled();
  if (heap_.empty() || heap_.top().when > now) return std::nullopt;
  auto it = tasks_.find(heap_.top().id);
  heap_.pop();
  EventLoop::Task fn = std::move(it->second);
  tasks_.erase(it);
  return fn;
}

}  // namespace lifeline
