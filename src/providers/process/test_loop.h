// LoopThread: test support for code that needs a RealLoop (real processes,
// pidfds). The loop runs on its own thread for the whole test; the test
// thread hands work to it and waits for results or conditions, each wait
// bounded by a deadline. Nothing here sleeps: waits are futures, and
// conditions are re-checked by loop timers.
//
// Thread-safety: RunOnLoop/Call/WaitUntil are called from the test thread;
// the functions they take run on the loop thread.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>

#include "core/clock.h"
#include "core/real_loop.h"
#include "core/status.h"

namespace lifeline::process {

class LoopThread {
 public:
  LoopThread() : loop_(clock_) {
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~LoopThread() {
    loop_.Stop();
    thread_.join();
  }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  RealLoop& loop() { return loop_; }
  const Clock& clock() const { return clock_; }

  // Runs fn on the loop thread and returns its result. A loop that does not
  // answer within a minute is wedged; the test binary aborts rather than
  // leave fn's references dangling.
  template <typename F>
  auto RunOnLoop(F fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::packaged_task<R()> task(std::move(fn));
    auto result = task.get_future();
    loop_.Post([&task] { task(); });
    if (result.wait_for(std::chrono::minutes(1)) != std::future_status::ready) {
      ADD_FAILURE() << "event loop did not run a task within a minute";
      std::abort();
    }
    return result.get();
  }

  // Calls start(done) on the loop thread, where start begins an
  // asynchronous operation that completes through done(V); returns V, or
  // DeadlineExceeded if done was not called within `timeout`.
  template <typename V>
  V Call(std::function<void(std::function<void(V)>)> start,
         Duration timeout = std::chrono::seconds(30)) {
    auto promise = std::make_shared<std::promise<V>>();
    auto result = promise->get_future();
    loop_.Post([start, promise] {
      start([promise](V v) { promise->set_value(std::move(v)); });
    });
    if (result.wait_for(timeout) != std::future_status::ready) {
      return V(DeadlineExceeded("test: operation did not complete"));
    }
    return result.get();
  }

  // Evaluates pred on the loop thread, now and every few milliseconds,
  // until it holds (true) or `timeout` passes (false). pred runs on the
  // loop, so it must not itself wait for the loop (RunOnLoop, Call).
  bool WaitUntil(std::function<bool()> pred,
                 Duration timeout = std::chrono::seconds(10)) {
    struct State {
      std::promise<void> done;
      std::atomic<bool> cancelled{false};
      std::function<bool()> pred;
      std::function<void()> check;
    };
    auto state = std::make_shared<State>();
    state->pred = std::move(pred);
    std::weak_ptr<State> weak = state;
    state->check = [this, weak] {
      auto s = weak.lock();
      if (!s || s->cancelled) return;
      if (s->pred()) {
        s->cancelled = true;
        s->done.set_value();
        return;
      }
      loop_.RunAfter(std::chrono::milliseconds(5), s->check);
    };
    auto done = state->done.get_future();
    loop_.Post(state->check);
    bool ok = done.wait_for(timeout) == std::future_status::ready;
    state->cancelled = true;
    RunOnLoop([] { return 0; });  // no check is running past this point
    return ok;
  }

 private:
  RealClock clock_;
  RealLoop loop_;
  std::thread thread_;
};

}  // namespace lifeline::process
