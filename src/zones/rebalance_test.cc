// Rebalancing after a zonal shift ends: gradual, launch before terminate,
// a bounded share per step, never below the per-zone healthy minimum.
#include <gtest/gtest.h>

#include "zones/zone_fleet_test_util.h"

namespace lifeline {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class RebalanceTest : public ZoneFleetTest {
 protected:
  // 12 instances 4/4/4; a shift away from sim-1a during which two of its
  // instances fail and are replaced into the other zones: 2/5/5. (Two of
  // four, not more: a zone mostly failing at once is a panic the safety
  // governor refuses to act on.)
  void Unbalance(GroupSpec g) {
    g.impaired_zone_behavior = ImpairedZoneBehavior::kReplaceUnhealthy;
    g.ladder.instance = {LadderRung{RecoveryAction::kReplace}};
    Boot(g);
    Run(minutes(2));
    ZonalShiftRequest r;
    r.group = "web";
    r.away_from = "sim-1a";
    r.expires_in = hours(3);
    auto s = shifts_->Start(r);
    ASSERT_TRUE(s.ok());
    shift_ = s->id;
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(provider_.CrashInstance(ActiveIn("sim-1a")[i]).ok());
    }
    Run(minutes(10));
    ASSERT_EQ(Active("sim-1a"), 2);
    ASSERT_EQ(Active("sim-1b"), 5);
    ASSERT_EQ(Active("sim-1c"), 5);
  }

  // Active instances that are running and heard from.
  int Serving(const std::string& zone) const {
    int n = 0;
    for (const auto* r : controller_->GroupInstances("web")) {
      if (r->role == InstanceRole::kActive && r->info.zone == zone &&
          r->info.lifecycle == Lifecycle::kRunning &&
          r->app == AppHealth::kOk && !r->verdict.unhealthy) {
        ++n;
      }
    }
    return n;
  }

  std::string shift_;
};

TEST_F(RebalanceTest, AfterCancelMovesGraduallyLaunchBeforeTerminate) {
  GroupSpec g = Web(12);
  g.rebalance_step_ratio = 0.1;  // one instance per step
  g.min_healthy_per_zone = 4;
  Unbalance(g);
  ASSERT_TRUE(shifts_->Cancel(shift_, "api").ok());
  int max_launches_in_flight = 0;
  for (int t = 0; t < 600; ++t) {
    Run(seconds(1));
    int serving = Serving("sim-1a") + Serving("sim-1b") + Serving("sim-1c");
    ASSERT_GE(serving, 12) << "at " << t << "s";
    ASSERT_GE(Serving("sim-1b"), 4);
    ASSERT_GE(Serving("sim-1c"), 4);
    int launching = 0;
    for (const auto& [z, c] : controller_->ZoneCountsOf("web")) {
      launching += c.launching;
    }
    max_launches_in_flight = std::max(max_launches_in_flight, launching);
  }
  EXPECT_EQ(Active("sim-1a"), 4);
  EXPECT_EQ(Active("sim-1b"), 4);
  EXPECT_EQ(Active("sim-1c"), 4);
  EXPECT_EQ(max_launches_in_flight, 1);
  EXPECT_EQ(Events("rebalance.step").size(), 2u);
  EXPECT_EQ(Events("rebalance.retire").size(), 2u);
  for (const auto& e : Events("rebalance.step")) {
    for (const auto& [k, v] : e.evidence) {
      if (k == "moves") {
        EXPECT_EQ(v.find(','), std::string::npos) << v;
      }
    }
  }
  EXPECT_TRUE(controller_->workflows().empty());
}

TEST_F(RebalanceTest, LargerStepsMoveSeveralAtOnce) {
  GroupSpec g = Web(12);
  g.rebalance_step_ratio = 0.2;  // two per step
  g.min_healthy_per_zone = 1;
  Unbalance(g);
  ASSERT_TRUE(shifts_->Cancel(shift_, "api").ok());
  Run(minutes(5));
  EXPECT_EQ(Active("sim-1a"), 4);
  EXPECT_EQ(Active("sim-1b"), 4);
  EXPECT_EQ(Active("sim-1c"), 4);
  ASSERT_EQ(Events("rebalance.step").size(), 1u);
}

TEST_F(RebalanceTest, NeverTakesAZoneBelowItsHealthyMinimum) {
  GroupSpec g = Web(12);
  g.min_healthy_per_zone = 5;
  Unbalance(g);
  ASSERT_TRUE(shifts_->Cancel(shift_, "api").ok());
  Run(minutes(10));
  // Neither full zone may give an instance without going below 5.
  EXPECT_EQ(Active("sim-1a"), 2);
  EXPECT_EQ(Active("sim-1b"), 5);
  EXPECT_EQ(Active("sim-1c"), 5);
  EXPECT_TRUE(Events("rebalance.step").empty());
  EXPECT_TRUE(Events("rebalance.retire").empty());
}

TEST_F(RebalanceTest, NothingMovesWhileTheShiftIsActive) {
  GroupSpec g = Web(12);
  Unbalance(g);
  Run(minutes(30));
  EXPECT_EQ(Active("sim-1a"), 2);
  EXPECT_TRUE(Events("rebalance.step").empty());
}

TEST_F(RebalanceTest, ARebalanceLaunchOutOfCapacityWaitsAndRetries) {
  GroupSpec g = Web(12);
  Unbalance(g);
  ASSERT_TRUE(provider_.SetCapacityShortage("sim-1a", true).ok());
  ASSERT_TRUE(shifts_->Cancel(shift_, "api").ok());
  Run(minutes(3));
  EXPECT_FALSE(Events("rebalance.blocked").empty());
  EXPECT_EQ(Active("sim-1b") + Active("sim-1c"), 10);  // no churn elsewhere
  ASSERT_TRUE(provider_.SetCapacityShortage("sim-1a", false).ok());
  Run(minutes(10));
  EXPECT_EQ(Active("sim-1a"), 4);
  EXPECT_EQ(Active("sim-1b"), 4);
  EXPECT_EQ(Active("sim-1c"), 4);
}

}  // namespace
}  // namespace lifeline
