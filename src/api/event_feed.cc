#include "api/event_feed.h"

#include <algorithm>

namespace lifeline {

EventFeed::EventFeed(size_t capacity, uint64_t base_seq)
    : capacity_(capacity == 0 ? 1 : capacity),
      floor_(base_seq),
      latest_(base_seq) {}

void EventFeed::Publish(const HistoryEvent& e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (e.seq <= latest_) return;
    events_.push_back(e);
    latest_ = e.seq;
    while (events_.size() > capacity_) {
      floor_ = events_.front().seq;
      events_.pop_front();
    }
  }
  cv_.notify_all();
}

void EventFeed::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

EventFeed::Batch EventFeed::WaitAfter(uint64_t after, Duration timeout,
                                      size_t max) {
  Batch b;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || latest_ > after; });
  b.closed = closed_;
  if (after < floor_) {
    b.gap = true;
    return b;
  }
  auto it = std::upper_bound(
      events_.begin(), events_.end(), after,
      [](uint64_t seq, const HistoryEvent& e) { return seq < e.seq; });
  for (; it != events_.end() && b.events.size() < max; ++it) {
    b.events.push_back(*it);
  }
  return b;
}

uint64_t EventFeed::latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

uint64_t EventFeed::floor() const {
  std::lock_guard<std::mutex> lock(mu_);
  return floor_;
}

}  // namespace lifeline
