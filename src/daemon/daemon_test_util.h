// Helpers for tests of a Daemon running in-process on real threads.
//
// HistoryWaiter waits for a condition without sleeping: the predicate is
// re-checked whenever the daemon appends a History event (every status
// change, reconcile step, recovery step and command records one), and at
// the latest every `recheck` for state that changes without an event (the
// ready flag, a receiver on another thread).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "history/history.h"

namespace lifeline {

class HistoryWaiter {
 public:
  // Registers a listener on `history` (it stays registered; it keeps its
  // own state alive and only counts and notifies).
  explicit HistoryWaiter(History& history);
  HistoryWaiter() : state_(std::make_shared<State>()) {}
  void Listen(History& history);
  // Wakes waiters (e.g. from a test receiver's thread).
  void Notify();

  // True once pred() holds; false if `limit` passes first. pred may call
  // Daemon::RunOnLoop (it runs without the waiter's lock).
  template <class Pred>
  bool WaitFor(Pred pred, Duration limit = std::chrono::seconds(20),
               Duration recheck = std::chrono::milliseconds(250)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        seen = state_->events;
      }
      if (pred()) return true;
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      auto until = std::min(deadline, now + recheck);
      std::unique_lock<std::mutex> lock(state_->mu);
      state_->cv.wait_until(lock, until,
                            [&] { return state_->events != seen; });
    }
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t events = 0;  // guarded by mu
  };
  std::shared_ptr<State> state_;
};

}  // namespace lifeline
