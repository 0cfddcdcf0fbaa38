#include "sim/runner.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

Scenario Fleet(std::string faults) {
  auto sc = ParseScenario(R"(
name: unit
seed: 1
duration: 1h
groups:
  - name: web
    desired: 12
    check_application: true
faults:
)" + faults, "unit.yaml");
  EXPECT_TRUE(sc.ok()) << sc.status().ToString();
  return *sc;
}

TEST(Runner, CrashesAreRepairedWithinTheInvariants) {
  Scenario sc = Fleet("  - {at: 10m, kind: crash, count: 3}\n");
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok()) << r.violations[0].invariant << " " << r.violations[0].detail;
  EXPECT_GE(r.destructive_actions, 3u);
  EXPECT_EQ(r.final_active, 12);
}

TEST(Runner, SameSeedSameOutcome) {
  Scenario sc = Fleet("  - {at: 10m, kind: fail_host, count: 2}\n");
  SimReport a = RunScenario(sc, 5), b = RunScenario(sc, 5);
  EXPECT_EQ(a.destructive_actions, b.destructive_actions);
  EXPECT_EQ(a.launches, b.launches);
  EXPECT_EQ(a.history_events, b.history_events);
}

// The invariants can fail: with the safety rules switched off, a monitoring
// partition makes Lifeline reboot healthy instances, and I2 says so.
TEST(Runner, InvariantI2CatchesAnUnsafePolicy) {
  Scenario sc = Fleet("  - {at: 10m, kind: partition, duration: 10m}\n");
  sc.groups[0].safety.require_agreement = false;
  sc.groups[0].safety.panic_ratio = 1.0;
  sc.groups[0].safety.panic_exit_ratio = 1.0;
  sc.groups[0].safety.max_in_recovery_ratio = 1.0;
  sc.groups[0].safety.max_in_recovery = 100;
  sc.safety.zone_panic_ratio = 1.0;
  sc.safety.zone_panic_exit_ratio = 1.0;
  sc.safety.fleet_panic_ratio = 1.0;
  sc.safety.fleet_panic_exit_ratio = 1.0;
  SimReport r = RunScenario(sc, 1);
  ASSERT_FALSE(r.ok());
  bool i2 = false;
  for (const auto& v : r.violations) i2 |= v.invariant == "I2";
  EXPECT_TRUE(i2);
}

TEST(Runner, TheSamePartitionWithDefaultsDestroysNothing) {
  Scenario sc = Fleet("  - {at: 10m, kind: partition, duration: 10m}\n");
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.destructive_actions, 0u);
}

TEST(Runner, RandomSchedulesAreDrawnFromTheSeed) {
  Scenario base = Fleet("");
  Scenario a = RandomizeFaults(base, 9), b = RandomizeFaults(base, 9);
  ASSERT_EQ(a.faults.size(), b.faults.size());
  ASSERT_FALSE(a.faults.empty());
  for (size_t i = 0; i < a.faults.size(); ++i) {
    EXPECT_EQ(a.faults[i].at, b.faults[i].at);
    EXPECT_EQ(a.faults[i].kind, b.faults[i].kind);
  }
}

}  // namespace
}  // namespace lifeline
