#include "core/real_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace lifeline {
namespace {

TEST(RealLoop, PostFromAnotherThreadWakesTheLoop) {
  RealClock clock;
  RealLoop loop(clock);
  ASSERT_TRUE(loop.init_status().ok());
  std::atomic<int> value{0};
  std::thread poster([&] {
    loop.Post([&] {
      value = 42;
      loop.Stop();
    });
  });
  loop.Run();  // returns only once the posted task stopped it
  poster.join();
  EXPECT_EQ(value.load(), 42);
}

TEST(RealLoop, TimersFireInOrderAndCancelWorks) {
  RealClock clock;
  RealLoop loop(clock);
  std::vector<int> order;
  loop.RunAfter(std::chrono::milliseconds(2), [&] { order.push_back(2); });
  loop.RunAfter(std::chrono::milliseconds(1), [&] { order.push_back(1); });
  auto cancelled =
      loop.RunAfter(std::chrono::milliseconds(1), [&] { order.push_back(99); });
  loop.Cancel(cancelled);
  loop.RunAfter(std::chrono::milliseconds(3), [&] { loop.Stop(); });
  loop.Run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(RealLoop, WatchedFdCallsBack) {
  RealClock clock;
  RealLoop loop(clock);
  int fd = eventfd(0, EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  uint64_t got = 0;
  ASSERT_TRUE(loop.WatchFd(fd, 0x001 /*EPOLLIN*/, [&](uint32_t) {
                    ssize_t r = read(fd, &got, sizeof got);
                    (void)r;
                    loop.UnwatchFd(fd);
                    loop.Stop();
                  }).ok());
  uint64_t five = 5;
  ASSERT_EQ(write(fd, &five, sizeof five), 8);
  loop.Run();
  close(fd);
  EXPECT_EQ(got, 5u);
}

}  // namespace
}  // namespace lifeline
