#include "daemon/daemon_test_util.h"

namespace lifeline {

HistoryWaiter::HistoryWaiter(History& history)
    : state_(std::make_shared<State>()) {
  Listen(history);
}

void HistoryWaiter::Listen(History& history) {
  std::shared_ptr<State> s = state_;
  history.AddListener([s](const HistoryEvent&) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      ++s->events;
    }
    s->cv.notify_all();
  });
}

void HistoryWaiter::Notify() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->events;
  }
  state_->cv.notify_all();
}

}  // namespace lifeline
