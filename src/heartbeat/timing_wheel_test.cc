#include "heartbeat/timing_wheel.h"

#include <gtest/gtest.h>

#include <map>

#include "core/rng.h"

namespace lifeline::heartbeat {
namespace {

using std::chrono::milliseconds;

TEST(TimingWheel, FiresEachDeadlineOnceAtItsTickAcrossRevolutions) {
  MonoTime t0{};
  TimingWheel w(milliseconds(1), 64, t0);
  w.Resize(1000);
  Rng rng(3);
  std::map<uint32_t, MonoTime> due;
  for (uint32_t i = 0; i < 1000; ++i) {
    MonoTime when =
        t0 + milliseconds(rng.UniformInt(1, 500));  // ~8 revolutions
    w.Schedule(i, when);
    due[i] = when;
  }
  std::map<uint32_t, MonoTime> fired;
  for (MonoTime now = t0; now <= t0 + milliseconds(600);
       now += milliseconds(1)) {
    w.Advance(now, [&](uint32_t i) {
      EXPECT_FALSE(fired.count(i));
      fired[i] = now;
    });
  }
  ASSERT_EQ(fired.size(), due.size());
  for (const auto& [i, when] : due) EXPECT_EQ(fired[i], when) << i;
  EXPECT_EQ(w.scheduled_count(), 0u);
}

TEST(TimingWheel, RescheduleAndCancelMoveOrRemoveTheDeadline) {
  MonoTime t0{};
  TimingWheel w(milliseconds(1), 16, t0);
  w.Resize(3);
  w.Schedule(0, t0 + milliseconds(5));
  w.Schedule(1, t0 + milliseconds(5));
  w.Schedule(2, t0 + milliseconds(5));
  w.Schedule(0, t0 + milliseconds(40));
  w.Cancel(1);
  std::vector<std::pair<uint32_t, int64_t>> fired;
  auto run_to = [&](int ms) {
    w.Advance(t0 + milliseconds(ms), [&](uint32_t i) {
      fired.push_back({i, ms});
    });
  };
  for (int ms = 1; ms <= 50; ++ms) run_to(ms);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], (std::pair<uint32_t, int64_t>{2, 5}));
  EXPECT_EQ(fired[1], (std::pair<uint32_t, int64_t>{0, 40}));
}

TEST(TimingWheel, ALongJumpFiresEverythingDueAndKeepsTheRest) {
  MonoTime t0{};
  TimingWheel w(milliseconds(1), 16, t0);
  w.Resize(2);
  w.Schedule(0, t0 + milliseconds(30));
  w.Schedule(1, t0 + milliseconds(5000));
  std::vector<uint32_t> fired;
  w.Advance(t0 + milliseconds(1000), [&](uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired, std::vector<uint32_t>{0});
  EXPECT_TRUE(w.scheduled(1));
  w.Advance(t0 + milliseconds(5000), [&](uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired, (std::vector<uint32_t>{0, 1}));
}

}  // namespace
}  // namespace lifeline::heartbeat
