#include "heartbeat/timing_wheel.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

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

TEST(TimingWheel, RearmingBackAndForthFiresOnceAtTheLastDeadline) {
  // Every re-arm leaves a stale pair behind in the old slot; none of them
  // may fire, also when the entry comes back to a slot it left.
  MonoTime t0{};
  TimingWheel w(milliseconds(1), 8, t0);
  w.Resize(2);
  w.Schedule(0, t0 + milliseconds(3));
  w.Schedule(0, t0 + milliseconds(6));
  w.Schedule(0, t0 + milliseconds(3));
  w.Schedule(0, t0 + milliseconds(11));  // slot 3 again, next revolution
  w.Schedule(1, t0 + milliseconds(2));
  w.Cancel(1);
  w.Schedule(1, t0 + milliseconds(2));
  EXPECT_EQ(w.scheduled_count(), 2u);
  std::vector<std::pair<uint32_t, int>> fired;
  int rearms = 0;
  for (int ms = 0; ms <= 40; ++ms) {
    w.Advance(t0 + milliseconds(ms), [&](uint32_t i) {
      fired.emplace_back(i, ms);
      // Index 1 re-arms itself one revolution later, twice.
      if (i == 1 && rearms++ < 2) w.Schedule(1, t0 + milliseconds(ms + 8));
    });
  }
  std::vector<std::pair<uint32_t, int>> want = {{1, 2}, {1, 10}, {0, 11},
                                                {1, 18}};
  EXPECT_EQ(fired, want);
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
