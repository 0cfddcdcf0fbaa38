#include "sim/invariants.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(BudgetLedger, AllowsTheBurstAndThenTheRefillExactly) {
  BudgetLedger b;
  MonoTime t0{};
  // Burst 3, 60/min: three at once, then one per second.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(b.Approve("group web", t0, 3, 60));
  for (int i = 1; i <= 100; ++i) {
    EXPECT_FALSE(b.Approve("group web", t0 + seconds(i), 3, 60)) << i;
  }
}

TEST(BudgetLedger, RefusesOneMoreThanTheBucketHolds) {
  BudgetLedger b;
  MonoTime t0{};
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(b.Approve("group web", t0, 3, 60));
  EXPECT_FALSE(b.Approve("group web", t0 + seconds(1), 3, 60));
  // A second token one second later is half a second early.
  auto v = b.Approve("group web", t0 + milliseconds(1500), 3, 60);
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("group web budget exceeded: 5"), std::string::npos) << *v;
}

TEST(BudgetLedger, ScopesAreSeparate) {
  BudgetLedger b;
  MonoTime t0{};
  EXPECT_FALSE(b.Approve("zone a", t0, 1, 1));
  EXPECT_FALSE(b.Approve("zone b", t0, 1, 1));
  EXPECT_TRUE(b.Approve("zone a", t0 + seconds(30), 1, 1));
}

TEST(BudgetLedger, ABurstAfterARestartFitsWhenTheGraceCoversIt) {
  // Burst 10 at 60/min, then a restart with a fresh, full bucket: nothing is
  // approved for the 30 s cold-start grace, which refills 30 tokens.
  BudgetLedger b;
  MonoTime t0{};
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(b.Approve("g", t0, 10, 60));
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(b.Approve("g", t0 + seconds(30), 10, 60));
  }
}

Scenario WithFaults(std::vector<FaultSpec> faults) {
  Scenario sc;
  sc.duration = minutes(90);
  sc.capacity_restored_within = minutes(30);
  sc.faults = std::move(faults);
  return sc;
}

FaultSpec Fault(FaultKind kind, Duration at, Duration duration = {}) {
  FaultSpec f;
  f.kind = kind;
  f.at = at;
  f.duration = duration;
  return f;
}

TEST(CapacityDeadlines, EachFaultEndPlusTheBound) {
  auto d = CapacityDeadlines(WithFaults({
      Fault(FaultKind::kCrash, minutes(5), minutes(8)),  // instantaneous
      Fault(FaultKind::kFailZone, minutes(40), minutes(10)),
  }));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].at, minutes(35));
  EXPECT_FALSE(d[0].left_to);
  EXPECT_FALSE(d[0].past_end);
  EXPECT_EQ(d[1].at, minutes(80));
  EXPECT_FALSE(d[1].left_to);
}

TEST(CapacityDeadlines, ADeadlineInsideAnotherFaultsAllowanceIsLeftToIt) {
  auto d = CapacityDeadlines(WithFaults({
      Fault(FaultKind::kCrash, minutes(5)),
      Fault(FaultKind::kPartition, minutes(20), minutes(10)),
      Fault(FaultKind::kApiOutage, minutes(70), minutes(10)),
  }));
  ASSERT_EQ(d.size(), 3u);
  ASSERT_TRUE(d[0].left_to);  // 35m falls in the partition's [20m, 60m)
  EXPECT_EQ(*d[0].left_to, 1u);
  EXPECT_FALSE(d[1].left_to);  // 60m: the outage starts later
  EXPECT_TRUE(d[2].past_end);  // 110m
}

TEST(CapacityDeadlines, AZonesCapacityShortageExcusesNothing) {
  auto d = CapacityDeadlines(WithFaults({
      Fault(FaultKind::kCapacityShortage, minutes(5), minutes(50)),
      Fault(FaultKind::kTerminateBehindBack, minutes(10)),
  }));
  EXPECT_EQ(d[0].at, minutes(85));
  EXPECT_FALSE(d[0].past_end);
  EXPECT_EQ(d[1].at, minutes(40));
  EXPECT_FALSE(d[1].left_to);
}

TEST(CapacityDeadlines, AFaultWithoutEndIsNeverDue) {
  auto d =
      CapacityDeadlines(WithFaults({Fault(FaultKind::kFreeze, minutes(5))}));
  EXPECT_TRUE(d[0].past_end);
}

TEST(WorkflowLedger, CatchesIdsAndTokensUsedTwice) {
  WorkflowLedger l;
  WorkflowLedger::Identity a{"recovery", "web", "sim-000001"};
  WorkflowLedger::Identity b{"recovery", "web", "sim-000002"};
  EXPECT_FALSE(l.Seen("wf-000001", a));
  EXPECT_FALSE(l.Launch("wf-000001-0", "wf-000001", a));
  EXPECT_FALSE(l.Launch("wf-000001-0", "wf-000001", a));  // a retry
  EXPECT_EQ(l.SubjectOfToken("wf-000001-0"), "sim-000001");
  EXPECT_TRUE(l.Seen("wf-000001", b));
  EXPECT_FALSE(l.Finished("wf-000001"));
  EXPECT_TRUE(l.Finished("wf-000001"));
  EXPECT_TRUE(l.Seen("wf-000001", a));
  EXPECT_TRUE(l.Launch("wf-000001-0", "wf-000001", a));
}

TEST(WorkflowLedger, CapacityLaunchesReplaceNoInstance) {
  WorkflowLedger l;
  EXPECT_FALSE(l.Launch("wf-000003-0", "wf-000003", {"launch", "web", ""}));
  EXPECT_EQ(l.SubjectOfToken("wf-000003-0"), "");
  EXPECT_EQ(WorkflowOfToken("wf-000003-12"), "wf-000003");
}

}  // namespace
}  // namespace lifeline
