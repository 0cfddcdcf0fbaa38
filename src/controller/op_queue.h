// OpQueue: bounds the provider calls in flight across the whole fleet
// (recovery-storm control) and times out calls that never answer.
//
// A call is a function that starts a provider operation and is handed a
// `finish` callback to invoke with its Status. If `timeout` passes first,
// finish runs with kDeadlineExceeded and the late answer is dropped.
// Not thread-safe: the controller's loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/status.h"

namespace lifeline {

class OpQueue {
 public:
  using Finish = std::function<void(Status)>;
  using Start = std::function<void(Finish)>;

  OpQueue(EventLoop& loop, int max_in_flight)
      : loop_(loop), max_in_flight_(max_in_flight) {}
  // Answers arriving after destruction are dropped.
  ~OpQueue() { *alive_ = false; }
  OpQueue(const OpQueue&) = delete;
  OpQueue& operator=(const OpQueue&) = delete;

  // Runs `start` now if fewer than max_in_flight calls are out, else
  // queues it (FIFO). `done` is called exactly once.
  void Submit(std::string what, Duration timeout, Start start, Finish done);

  void set_max_in_flight(int n) { max_in_flight_ = n; }
  int in_flight() const { return in_flight_; }
  size_t queued() const { return queue_.size(); }
  uint64_t timeouts() const { return timeouts_; }
  uint64_t started() const { return started_; }

 private:
  struct Op {
    std::string what;
    Duration timeout;
    Start start;
    Finish done;
  };
  void Launch(Op op);
  void Pump();

  EventLoop& loop_;
  int max_in_flight_;
  int in_flight_ = 0;
  std::deque<Op> queue_;
  uint64_t timeouts_ = 0;
  uint64_t started_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lifeline
