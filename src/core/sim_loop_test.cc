#include "core/sim_loop.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lifeline {
namespace {

TEST(SimLoop, RunsTimersInDeadlineThenArmingOrder) {
  SimClock clock;
  SimLoop loop(clock);
  std::vector<std::string> order;
  MonoTime t0 = loop.Now();
  loop.RunAfter(std::chrono::seconds(2), [&] { order.push_back("b"); });
  loop.RunAfter(std::chrono::seconds(1), [&] { order.push_back("a"); });
  loop.RunAfter(std::chrono::seconds(2), [&] { order.push_back("c"); });
  loop.RunFor(std::chrono::seconds(5));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(loop.Now() - t0, std::chrono::seconds(5));
}

TEST(SimLoop, TimeJumpsToEachTimer) {
  SimClock clock;
  SimLoop loop(clock);
  MonoTime t0 = loop.Now();
  Duration seen{};
  loop.RunAfter(std::chrono::milliseconds(300), [&] { seen = loop.Now() - t0; });
  loop.RunUntilIdle();
  EXPECT_EQ(seen, std::chrono::milliseconds(300));
}

TEST(SimLoop, CancelledTimerDoesNotRun) {
  SimClock clock;
  SimLoop loop(clock);
  bool ran = false;
  auto id = loop.RunAfter(std::chrono::seconds(1), [&] { ran = true; });
  EXPECT_TRUE(loop.Cancel(id));
  EXPECT_FALSE(loop.Cancel(id));
  loop.RunFor(std::chrono::seconds(2));
  EXPECT_FALSE(ran);
}

TEST(SimLoop, TimersArmedByTimersRunInTheSameWindow) {
  SimClock clock;
  SimLoop loop(clock);
  int count = 0;
  std::function<void()> tick = [&] {
    if (++count < 10) loop.RunAfter(std::chrono::milliseconds(100), tick);
  };
  loop.RunAfter(std::chrono::milliseconds(100), tick);
  loop.RunFor(std::chrono::milliseconds(550));
  EXPECT_EQ(count, 5);
  loop.RunFor(std::chrono::seconds(10));
  EXPECT_EQ(count, 10);
}

TEST(SimLoop, PostedTasksRunBeforeLaterTimers) {
  SimClock clock;
  SimLoop loop(clock);
  std::vector<int> order;
  loop.RunAfter(std::chrono::milliseconds(1), [&] { order.push_back(2); });
  loop.Post([&] { order.push_back(1); });
  loop.RunFor(std::chrono::milliseconds(5));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(SimLoop, RefusesFileDescriptors) {
  SimClock clock;
  SimLoop loop(clock);
  Status s = loop.WatchFd(0, 1, [](uint32_t) {});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lifeline
