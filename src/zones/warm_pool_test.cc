// Warm pools: standbys per zone, used first by replacements, refilled.
#include <gtest/gtest.h>

#include <algorithm>

#include "zones/zone_fleet_test_util.h"
#include "zones/zone_scenarios.h"

namespace lifeline {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class WarmPoolTest : public ZoneFleetTest {
 protected:
  static GroupSpec Pooled(bool stopped) {
    GroupSpec g = Web(6);
    g.warm_pool.min_size = 1;
    g.warm_pool.stopped = stopped;
    g.ladder.instance = {LadderRung{RecoveryAction::kReplace}};
    return g;
  }
  int Standby(const std::string& zone) const {
    auto counts = controller_->ZoneCountsOf("web");
    auto it = counts.find(zone);
    return it == counts.end() ? 0 : it->second.standby;
  }
};

TEST_F(WarmPoolTest, KeepsStoppedStandbysPerZoneOutsideTheCapacity) {
  Boot(Pooled(/*stopped=*/true));
  Run(minutes(2));
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) {
    EXPECT_EQ(Standby(z), 1) << z;
    EXPECT_EQ(Active(z), 2) << z;
    EXPECT_EQ(provider_.Count(z, Lifecycle::kStopped), 1u) << z;
  }
  // Stopped on purpose: not unhealthy, nothing repairs them.
  Run(minutes(10));
  EXPECT_TRUE(Events("instance.unhealthy").empty());
  EXPECT_TRUE(controller_->workflows().empty());
  EXPECT_EQ(provider_.instances_created(), 9u);
}

TEST_F(WarmPoolTest, MaxPreparedCapsThePool) {
  GroupSpec g = Pooled(true);
  g.warm_pool.min_size = 2;
  g.warm_pool.max_prepared = 4;
  Boot(g);
  Run(minutes(2));
  EXPECT_EQ(Standby("sim-1a") + Standby("sim-1b") + Standby("sim-1c"), 4);
}

TEST_F(WarmPoolTest, ReplacementStartsTheZonesStandbyAndThePoolRefills) {
  Boot(Pooled(/*stopped=*/true));
  Run(minutes(2));
  std::string victim = ActiveIn("sim-1b")[0];
  uint64_t created = provider_.instances_created();
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(3));
  auto used = Events("warm_pool.used");
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].zone, "sim-1b");
  std::string standby = used[0].instance;
  const InstanceRecord* rec = controller_->instance(standby);
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->role, InstanceRole::kActive);
  EXPECT_EQ(provider_.GroundTruth(standby)->lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(controller_->instance(victim), nullptr);
  EXPECT_GE(provider_.counters(SimOp::kStart).succeeded, 1u);
  // The replacement came from the pool; the only new instance refills it.
  EXPECT_EQ(provider_.instances_created(), created + 1);
  EXPECT_EQ(Standby("sim-1b"), 1);
  EXPECT_EQ(Active("sim-1b"), 2);
}

TEST_F(WarmPoolTest, StandbysAreRememberedAcrossARestart) {
  Boot(Pooled(/*stopped=*/true));
  Run(minutes(2));
  // Lifeline restarts: a new controller adopts the same instances.
  reporter_.reset();
  shifts_.reset();
  heartbeats_.reset();
  controller_ = std::make_unique<Controller>(loop_, provider_, history_,
                                             config_, &journal_);
  heartbeats_ = std::make_unique<SimHeartbeats>(loop_, provider_, *controller_);
  ASSERT_TRUE(controller_->ApplyGroup(Pooled(true)).ok());
  controller_->Start();
  Run(minutes(3));
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) {
    EXPECT_EQ(Standby(z), 1) << z;
    EXPECT_EQ(Active(z), 2) << z;
  }
  EXPECT_EQ(provider_.instances_created(), 9u);
}

TEST_F(WarmPoolTest, NoStandbyIsPreparedInAShiftedZone) {
  GroupSpec g = Pooled(true);
  Boot(g);
  Run(minutes(2));
  ZonalShiftRequest r;
  r.group = "web";
  r.away_from = "sim-1a";
  ASSERT_TRUE(shifts_->Start(r).ok());
  std::string victim = ActiveIn("sim-1a")[0];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(3));
  // The replacement used another zone's standby, not sim-1a's.
  auto used = Events("warm_pool.used");
  ASSERT_EQ(used.size(), 1u);
  EXPECT_NE(used[0].zone, "sim-1a");
  EXPECT_EQ(Standby("sim-1a"), 1);
}

// Medians of five replacements each: one sample is one draw of the
// simulated cloud's boot and API latencies, and any change in how many calls
// the controller makes reorders those draws.
Duration MedianReplacement(ReplacementLatencyOptions o) {
  o.samples = 5;
  auto r = MeasureReplacementLatencies(o, 1);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || r->empty()) return Duration::max();
  std::vector<Duration> v = *r;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(WarmPoolLatency, ReplacementFromARunningPoolIsFasterThanACold) {
  ReplacementLatencyOptions cold;
  ReplacementLatencyOptions warm = cold;
  warm.warm_pool.min_size = 1;
  warm.warm_pool.stopped = false;
  ReplacementLatencyOptions stopped = cold;
  stopped.warm_pool.min_size = 1;
  stopped.warm_pool.stopped = true;
  const Duration c = MedianReplacement(cold);
  const Duration w = MedianReplacement(warm);
  const Duration s = MedianReplacement(stopped);
  EXPECT_LT(w * 10, c) << FormatDuration(w) << " vs " << FormatDuration(c);
  EXPECT_GT(c, seconds(15));  // launch + boot
  // A stopped standby still boots, but skips the launch.
  EXPECT_LT(s, c + seconds(5))
      << FormatDuration(s) << " vs " << FormatDuration(c);
}

}  // namespace
}  // namespace lifeline
