#include "safety/governor.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

class GovernorTest : public ::testing::Test {
 protected:
  GovernorTest() : gov_(clock_, Config()) {
    gov_.NoteStarted();
    clock_.Advance(std::chrono::seconds(31));
    gov_.NoteFreshEvidence();
    GroupSafety s;
    s.actions_per_minute = 6;
    s.burst = 2;
    s.max_in_recovery = 100;
    s.max_in_recovery_ratio = 1.0;
    gov_.SetGroupPolicy("web", s);
  }
  static SafetyConfig Config() {
    SafetyConfig c;
    c.cold_start_grace = std::chrono::seconds(30);
    return c;
  }
  SafetyRequest Req(std::string instance = "i-1", std::string zone = "a") {
    SafetyRequest r;
    r.action = RecoveryAction::kReplace;
    r.group = "web";
    r.zone = std::move(zone);
    r.instance = std::move(instance);
    r.failure = FailureKind::kInstance;
    r.signals = {"instance_check"};
    r.group_size = 10;
    return r;
  }
  SimClock clock_;
  SafetyGovernor gov_;
};

TEST_F(GovernorTest, AllowsWithinBudgetThenRefusesPastTheGroupBudget) {
  EXPECT_TRUE(gov_.Decide(Req("i-1")).allowed());
  EXPECT_TRUE(gov_.Decide(Req("i-2")).allowed());
  SafetyDecision d = gov_.Decide(Req("i-3"));
  EXPECT_EQ(d.verdict, SafetyVerdict::kDefer);
  EXPECT_EQ(d.rule, "budget");
  EXPECT_GT(d.retry_after, Duration::zero());
  clock_.Advance(std::chrono::seconds(10));  // 6/min refills one token
  EXPECT_TRUE(gov_.Decide(Req("i-3")).allowed());
}

TEST_F(GovernorTest, PreviewDoesNotSpendBudget) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(gov_.Decide(Req(), /*consume=*/false).allowed());
  }
  EXPECT_TRUE(gov_.Decide(Req()).allowed());
}

TEST_F(GovernorTest, FreezeRefusesEverythingUntilLifted) {
  gov_.SetFleetFrozen(true);
  EXPECT_EQ(gov_.Decide(Req()).rule, "freeze");
  gov_.SetFleetFrozen(false);
  gov_.SetGroupFrozen("web", true);
  EXPECT_EQ(gov_.Decide(Req()).rule, "freeze");
  gov_.SetGroupFrozen("web", false);
  EXPECT_TRUE(gov_.Decide(Req()).allowed());
}

TEST_F(GovernorTest, ColdStartNeedsGraceAndFreshEvidence) {
  gov_.NoteStarted();
  EXPECT_EQ(gov_.Decide(Req()).rule, "cold_start");
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(gov_.Decide(Req()).rule, "cold_start");  // no fresh view yet
  gov_.NoteFreshEvidence();
  EXPECT_TRUE(gov_.Decide(Req()).allowed());
}

TEST_F(GovernorTest, StallDefersForTheStallPlusMargin) {
  gov_.NoteStall(std::chrono::seconds(5));
  SafetyDecision d = gov_.Decide(Req());
  EXPECT_EQ(d.rule, "stall");
  clock_.Advance(std::chrono::seconds(9));
  EXPECT_EQ(gov_.Decide(Req()).rule, "stall");
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_TRUE(gov_.Decide(Req()).allowed());
}

TEST_F(GovernorTest, GroupPanicWithHysteresis) {
  gov_.UpdateGroupHealth("web", 10, 6);
  auto alerts = gov_.Evaluate();
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alerts[0].type, "panic.entered");
  EXPECT_EQ(gov_.Decide(Req()).rule, "panic");
  gov_.UpdateGroupHealth("web", 10, 4);  // below 50 % but above exit 30 %
  gov_.Evaluate();
  EXPECT_EQ(gov_.Decide(Req()).rule, "panic");
  gov_.UpdateGroupHealth("web", 10, 3);
  alerts = gov_.Evaluate();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, "panic.left");
  EXPECT_TRUE(gov_.Decide(Req()).allowed());
}

TEST_F(GovernorTest, EveryZoneUnhealthyMeansPartition) {
  gov_.UpdateZoneHealth("a", 10, 9);
  gov_.UpdateZoneHealth("b", 10, 10);
  auto alerts = gov_.Evaluate();
  bool partition = false;
  for (const auto& a : alerts) partition |= a.type == "partition.entered";
  EXPECT_TRUE(partition);
  EXPECT_TRUE(gov_.partitioned());
  EXPECT_EQ(gov_.Decide(Req()).rule, "partition");
  // Zone a healthy again (and larger, so the fleet as a whole leaves panic):
  // no longer a partition, but zone b stays in panic.
  gov_.UpdateZoneHealth("a", 30, 0);
  gov_.Evaluate();
  EXPECT_FALSE(gov_.partitioned());
  EXPECT_TRUE(gov_.Decide(Req("i-1", "a")).allowed());
  EXPECT_EQ(gov_.Decide(Req("i-2", "b")).rule, "panic");
}

TEST_F(GovernorTest, SmallGroupsDoNotPanicOnOneFailure) {
  gov_.UpdateGroupHealth("web", 2, 1);
  gov_.Evaluate();
  EXPECT_TRUE(gov_.Decide(Req()).allowed());
}

TEST_F(GovernorTest, HeartbeatSilenceAloneNeedsAgreement) {
  SafetyRequest r = Req();
  r.failure = FailureKind::kApplication;
  r.signals = {"heartbeat"};
  EXPECT_EQ(gov_.Decide(r).rule, "agreement");
  r.signals = {"heartbeat", "peers"};
  EXPECT_TRUE(gov_.Decide(r).allowed());
  r.signals = {"agent"};
  EXPECT_TRUE(gov_.Decide(r).allowed());
}

TEST_F(GovernorTest, LimitsTheShareInRecovery) {
  GroupSafety s;
  s.max_in_recovery = 10;
  s.max_in_recovery_ratio = 0.2;
  s.burst = 100;
  gov_.SetGroupPolicy("web", s);
  SafetyRequest r = Req();
  r.group_size = 10;
  r.group_in_recovery = 1;
  EXPECT_TRUE(gov_.Decide(r).allowed());
  r.group_in_recovery = 2;
  EXPECT_EQ(gov_.Decide(r).rule, "in_recovery");
}

TEST_F(GovernorTest, DryRunAllowsOnPaperOnly) {
  GroupSafety s;
  s.dry_run = true;
  gov_.SetGroupPolicy("web", s);
  SafetyDecision d = gov_.Decide(Req());
  EXPECT_EQ(d.verdict, SafetyVerdict::kDryRun);
  EXPECT_FALSE(d.allowed());
}

TEST_F(GovernorTest, ScaleInTerminatesSkipPanicButNotFreeze) {
  gov_.UpdateGroupHealth("web", 10, 8);
  gov_.Evaluate();
  SafetyRequest r = Req();
  r.is_terminate_only = true;
  EXPECT_TRUE(gov_.Decide(r).allowed());
  gov_.SetFleetFrozen(true);
  EXPECT_EQ(gov_.Decide(r).rule, "freeze");
}

// A host reboot stops every local process at once: starting them again
// destroys nothing, so panic does not hold it; freeze and budgets still do.
TEST_F(GovernorTest, StartingStoppedInstancesSkipsPanicButNotFreezeOrBudget) {
  gov_.UpdateGroupHealth("web", 10, 10);
  gov_.Evaluate();
  SafetyRequest r = Req();
  r.action = RecoveryAction::kReboot;
  EXPECT_EQ(gov_.Decide(r).rule, "panic");
  r.starts_stopped = true;
  EXPECT_TRUE(gov_.Decide(r).allowed());
  EXPECT_TRUE(gov_.Decide(r).allowed());
  EXPECT_EQ(gov_.Decide(r).rule, "budget");  // burst 2
  gov_.SetFleetFrozen(true);
  EXPECT_EQ(gov_.Decide(r).rule, "freeze");
}

}  // namespace
}  // namespace lifeline
