#include "controller/op_queue.h"

namespace lifeline {

void OpQueue::Submit(std::string what, Duration timeout, Start start,
                     Finish done) {
  Op op{std::move(what), timeout, std::move(start), std::move(done)};
  if (in_flight_ < max_in_flight_) {
    Launch(std::move(op));
  } else {
    queue_.push_back(std::move(op));
  }
}

void OpQueue::Launch(Op op) {
  ++in_flight_;
  ++started_;
  // Shared between the completion and the timeout; whichever comes first
  // wins, the other finds `finished` set.
  struct Pending {
    bool finished = false;
    EventLoop::TimerId timer = EventLoop::kNoTimer;
    Finish done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(op.done);
  std::weak_ptr<bool> alive = alive_;
  auto finish = [this, pending, alive](Status s) {
    if (!alive.lock() || pending->finished) return;
    pending->finished = true;
    if (pending->timer != EventLoop::kNoTimer) loop_.Cancel(pending->timer);
    --in_flight_;
    Finish done = std::move(pending->done);
    done(std::move(s));
    Pump();
  };
  std::string what = op.what;
  pending->timer = loop_.RunAfter(op.timeout, [this, pending, finish, what,
                                                 alive] {
    if (!alive.lock()) return;
    pending->timer = EventLoop::kNoTimer;
    if (pending->finished) return;
    ++timeouts_;
    finish(DeadlineExceeded(what + ": no answer from the provider in time"));
  });
  op.start(finish);
}

void OpQueue::Pump() {
  while (in_flight_ < max_in_flight_ && !queue_.empty()) {
    Op op = std::move(queue_.front());
    queue_.pop_front();
    Launch(std::move(op));
  }
}

}  // namespace lifeline
