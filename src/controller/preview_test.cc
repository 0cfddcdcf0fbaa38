// Controller::Preview: what Lifeline would do now and why, read-only.
#include "controller/fleet_fixture.h"

namespace lifeline {
namespace {

const PlannedAction* Find(const std::vector<PlannedAction>& plan,
                          const std::string& instance) {
  for (const auto& p : plan) {
    if (p.instance == instance) return &p;
  }
  return nullptr;
}

TEST_F(FleetTest, PreviewOfAQuietFleetIsEmpty) {
  Boot(Web(6));
  Run(minutes(3));
  EXPECT_TRUE(controller_->Preview().empty());
}

TEST_F(FleetTest, PreviewNamesTheFreezeThatHoldsARecovery) {
  Boot(Web(6));
  Run(minutes(3));
  ASSERT_TRUE(controller_->SetFleetFrozen(true, "maintenance", "test").ok());
  const std::string victim = ActiveIds()[2];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(1));

  const size_t events_before = history_.Query({}).size();
  const uint64_t decisions_before = controller_->stats().decisions;
  std::vector<PlannedAction> plan = controller_->Preview();
  const PlannedAction* p = Find(plan, victim);
  ASSERT_NE(p, nullptr) << "the crashed instance is not in the preview";
  EXPECT_EQ(p->group, "web");
  EXPECT_EQ(p->action, "reboot");
  EXPECT_EQ(p->verdict, "defer");
  EXPECT_EQ(p->rule, "freeze");
  EXPECT_EQ(plan.size(), 1u);
  // A preview records nothing and decides nothing.
  EXPECT_EQ(history_.Query({}).size(), events_before);
  EXPECT_EQ(controller_->stats().decisions, decisions_before);
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);

  // Once the freeze is off the preview's "reboot" is what happens.
  ASSERT_TRUE(controller_->SetFleetFrozen(false, "done", "test").ok());
  Run(minutes(3));
  EXPECT_EQ(provider_.counters(SimOp::kReboot).succeeded, 1u);
  EXPECT_TRUE(controller_->Preview().empty());
}

}  // namespace
}  // namespace lifeline
