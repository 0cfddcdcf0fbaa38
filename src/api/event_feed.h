// EventFeed: the newest History events, kept for server-sent-event streams
// (and anything else that follows the history from another thread).
//
// A History listener (on the controller's loop thread) calls Publish();
// stream handler threads call WaitAfter() and block until an event newer
// than the one they have, a timeout, or Close(). The feed keeps the newest
// `capacity` events; a reader that fell further behind is told so (gap) and
// catches up from the History itself.
//
// Thread-safety: all methods are thread-safe. Publish never blocks on a
// reader.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "history/history.h"

namespace lifeline {

class EventFeed {
 public:
  // `base_seq`: the newest seq the history held when the feed subscribed;
  // events up to it are not in the feed.
  EventFeed(size_t capacity, uint64_t base_seq);

  void Publish(const HistoryEvent& e);
  // Wakes every waiter; later waits return at once with closed set.
  void Close();

  struct Batch {
    std::vector<HistoryEvent> events;  // seq > after, oldest first
    bool gap = false;  // events after `after` are no longer in the feed
    bool closed = false;
  };
  // Up to `max` events with seq > after; waits up to `timeout` for one.
  Batch WaitAfter(uint64_t after, Duration timeout, size_t max);

  // The newest seq published (or base_seq).
  uint64_t latest() const;
  // Events with seq <= floor() are not (or no longer) in the feed.
  uint64_t floor() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<HistoryEvent> events_;  // guarded by mu_
  uint64_t floor_;                   // guarded by mu_
  uint64_t latest_;                  // guarded by mu_
  bool closed_ = false;              // guarded by mu_
};

}  // namespace lifeline
