#include "sim/runner.h"

#include <gtest/gtest.h>

#include <iostream>

#include "controller/controller.h"

namespace lifeline {
namespace {

using std::chrono::minutes;

Scenario Parse(const std::string& yaml) {
  auto sc = ParseScenario(yaml, "unit.yaml");
  EXPECT_TRUE(sc.ok()) << sc.status().ToString();
  return *sc;
}

Scenario Fleet(std::string faults) {
  return Parse(R"(
name: unit
seed: 1
duration: 1h
groups:
  - name: web
    desired: 12
    check_application: true
faults:
)" + faults);
}

// Replacements only (no reboot first), so that a crash leaves a
// replacement in flight.
Scenario ReplacingFleet(std::string faults) {
  return Parse(R"(
name: unit
seed: 1
duration: 1h
groups:
  - name: web
    desired: 12
    ladder:
      instance:
        - {action: replace, max_attempts: 3, window: 1h, timeout: 10m}
faults:
)" + faults);
}

bool Has(const SimReport& r, const std::string& invariant) {
  for (const auto& v : r.violations) {
    if (v.invariant == invariant) return true;
  }
  return false;
}

bool Has(const SimReport& r, const std::string& invariant,
         const std::string& detail) {
  for (const auto& v : r.violations) {
    if (v.invariant == invariant &&
        v.detail.find(detail) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string Violations(const SimReport& r) {
  std::string s;
  for (const auto& v : r.violations) {
    s += v.invariant + " at " + v.at + ": " + v.detail + "\n";
  }
  return s;
}

// Every panic threshold and the agreement rule off: Lifeline acts on
// whatever it sees.
void SwitchSafetyOff(SafetyConfig& fleet, GroupSafety& group) {
  group.require_agreement = false;
  group.panic_ratio = group.panic_exit_ratio = 1.0;
  group.max_in_recovery_ratio = 1.0;
  group.max_in_recovery = 100;
  fleet.zone_panic_ratio = fleet.zone_panic_exit_ratio = 1.0;
  fleet.fleet_panic_ratio = fleet.fleet_panic_exit_ratio = 1.0;
}

// At `at`, the provider is asked to reboot the first instance of `group`
// behind the governor's back.
std::function<void(Duration, Controller&, Provider&)> RogueReboot(
    Duration at, std::string group) {
  return [at, group](Duration now, Controller& c, Provider& p) {
    if (now != at) return;
    auto members = c.GroupInstances(group);
    ASSERT_FALSE(members.empty());
    p.Reboot(members[0]->info.id, [](Status) {});
  };
}

TEST(Runner, CrashesAreRepairedWithinTheInvariants) {
  Scenario sc = Fleet("  - {at: 10m, kind: crash, count: 3}\n");
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok()) << Violations(r);
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

// ---- I1 ---------------------------------------------------------------------

// Lifeline is given a far larger budget than the scenario states: the
// crashed instances (five distinct ones with this seed) are rebooted at
// once, and I1 holds it to the stated burst 2 and 2/min.
TEST(Runner, InvariantI1CatchesAGovernorThatOverspends) {
  Scenario sc = Fleet("  - {at: 10m, kind: crash, count: 8}\n");
  sc.groups[0].safety.burst = 2;
  sc.groups[0].safety.actions_per_minute = 2;
  RunOptions opt;
  opt.configure_lifeline = [](ControllerConfig& c, std::vector<GroupSpec>& g) {
    SwitchSafetyOff(c.safety, g[0].safety);
    g[0].safety.burst = 100;
    g[0].safety.actions_per_minute = 600;
  };
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I1", "group web budget exceeded")) << Violations(r);
}

// The same crashes with the stated budget: the governor paces them, two at
// once and then one every 30 s, which is exactly what I1 allows.
TEST(Runner, TheStatedBudgetPacesTheSameCrashes) {
  Scenario sc = Fleet("  - {at: 10m, kind: crash, count: 8}\n");
  sc.groups[0].safety.burst = 2;
  sc.groups[0].safety.actions_per_minute = 2;
  RunOptions opt;
  opt.configure_lifeline = [](ControllerConfig& c, std::vector<GroupSpec>& g) {
    SwitchSafetyOff(c.safety, g[0].safety);
  };
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_FALSE(Has(r, "I1")) << Violations(r);
  EXPECT_EQ(r.destructive_actions, 5u);
}

TEST(Runner, InvariantI1CatchesADestructiveCallNoApprovalCovers) {
  Scenario sc = Fleet("");
  RunOptions opt;
  opt.every_second = RogueReboot(minutes(20), "web");
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I1", "no part of an action")) << Violations(r);
  EXPECT_EQ(r.destructive_actions, 1u);
}

// ---- I2 ---------------------------------------------------------------------

// With the safety rules switched off, a monitoring partition makes Lifeline
// reboot healthy instances, and I2 says so.
TEST(Runner, InvariantI2CatchesAnUnsafePolicy) {
  Scenario sc = Fleet("  - {at: 10m, kind: partition, duration: 10m}\n");
  SwitchSafetyOff(sc.safety, sc.groups[0].safety);
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(Has(r, "I2")) << Violations(r);
}

TEST(Runner, TheSamePartitionWithDefaultsDestroysNothing) {
  Scenario sc = Fleet("  - {at: 10m, kind: partition, duration: 10m}\n");
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok()) << Violations(r);
  EXPECT_EQ(r.destructive_actions, 0u);
}

// ---- I3 and I6 --------------------------------------------------------------

// A journal that loses its workflows in the crash: the restarted Lifeline
// neither resumes the replacement in flight nor knows it launched one, and
// replaces the same failed instance a second time.
void LoseEveryWorkflow(Journal& j) {
  auto loaded = j.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_FALSE(loaded->empty()) << "no workflow was in flight at the crash";
  for (const Workflow& w : *loaded) ASSERT_TRUE(j.Remove(w.id).ok());
}

TEST(Runner, InvariantI3CatchesASecondReplacementOfOneInstance) {
  Scenario sc = ReplacingFleet(
      "  - {at: 10m, kind: crash, count: 1}\n"
      "  - {at: 10m5s, kind: crash_lifeline}\n");
  sc.invariants = {"I3"};  // the lost workflow is I6's, shown below
  RunOptions opt;
  opt.before_restart = LoseEveryWorkflow;
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I3", "second replacement of")) << Violations(r);
}

// A second launch for a replacement in flight, as a workflow that lost
// track of its first launch would make: two live replacements of one
// failed instance.
TEST(Runner, InvariantI3CatchesTwoLiveReplacementsOfOneInstance) {
  Scenario sc = ReplacingFleet("  - {at: 10m, kind: crash, count: 1}\n");
  sc.invariants = {"I3"};
  bool launched = false;
  RunOptions opt;
  opt.every_second = [&launched](Duration, Controller& c, Provider& p) {
    for (const auto& [id, wf] : c.workflows()) {
      if (launched || wf.state != WorkflowState::kAwaitingReplacement) continue;
      LaunchRequest req;
      req.group = wf.group;
      req.zone = wf.replacement_zone;
      req.spec = c.group(wf.group)->launch;
      req.idempotency_token = wf.id + "-9";
      p.Launch(req, [](Result<InstanceInfo>) {});
      launched = true;
    }
  };
  SimReport r = RunScenario(sc, 1, opt);
  ASSERT_TRUE(launched);
  EXPECT_TRUE(Has(r, "I3", "lives and has not failed")) << Violations(r);
  EXPECT_TRUE(Has(r, "I3", "2 live replacements")) << Violations(r);
}

TEST(Runner, InvariantI6CatchesAWorkflowLostAcrossTheRestart) {
  Scenario sc = ReplacingFleet(
      "  - {at: 10m, kind: crash, count: 1}\n"
      "  - {at: 10m5s, kind: crash_lifeline}\n");
  sc.invariants = {"I6"};
  RunOptions opt;
  opt.before_restart = LoseEveryWorkflow;
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I6", "lost across the restart")) << Violations(r);
}

// A journal that forgets the reserved workflow ids: the restarted Lifeline
// numbers its workflows from 1 again, reusing ids (and launch tokens) of
// workflows that already finished.
TEST(Runner, InvariantI6CatchesAWorkflowIdUsedTwice) {
  Scenario sc = ReplacingFleet(
      "  - {at: 5m, kind: crash, count: 2}\n"
      "  - {at: 20m, kind: crash_lifeline}\n"
      "  - {at: 25m, kind: crash, count: 2}\n");
  sc.invariants = {"I6"};
  RunOptions opt;
  opt.before_restart = [](Journal& j) {
    ASSERT_TRUE(j.PutValue("workflow_id_floor", "1").ok());
  };
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I6", "in use again after it finished")) << Violations(r);
}

TEST(Runner, RestartsMidReplacementLoseAndDuplicateNothing) {
  Scenario sc = ReplacingFleet(
      "  - {at: 5m, kind: crash, count: 2}\n"
      "  - {at: 20m, kind: crash_lifeline}\n"
      "  - {at: 25m, kind: crash, count: 2}\n"
      "  - {at: 25m5s, kind: crash_lifeline}\n");
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok()) << Violations(r);
  EXPECT_EQ(r.restarts, 2);
}

// ---- I4 ---------------------------------------------------------------------

// Lifeline is given the group without its application checks: hung
// applications go unnoticed and the group stays short.
TEST(Runner, InvariantI4CatchesCapacityThatNeverComesBack) {
  Scenario sc = Fleet("  - {at: 10m, kind: hang, count: 2}\n");
  RunOptions opt;
  opt.configure_lifeline = [](ControllerConfig&, std::vector<GroupSpec>& g) {
    g[0].check_application = false;
  };
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I4")) << Violations(r);
  EXPECT_EQ(r.capacity_checks, 1);
}

TEST(Runner, InvariantI4IsCheckedAtEveryFaultsDeadline) {
  Scenario sc = Fleet(
      "  - {at: 5m, kind: crash, count: 2}\n"
      "  - {at: 20m, kind: terminate_behind_back, count: 2}\n"
      "  - {at: 40m, kind: api_outage, duration: 10m}\n");
  sc.capacity_restored_within = minutes(10);
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok()) << Violations(r);
  EXPECT_EQ(r.capacity_checks, 3);  // at 15m, 30m and 1h
  EXPECT_EQ(r.capacity_checked_at,
            (std::vector<std::string>{"15m", "30m", "1h"}));
}

// ---- I5 ---------------------------------------------------------------------

TEST(Runner, InvariantI5CatchesAnActionOnAFrozenFleet) {
  Scenario sc = Fleet("  - {at: 5m, kind: freeze, duration: 30m}\n");
  RunOptions opt;
  opt.every_second = RogueReboot(minutes(10), "web");
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I5")) << Violations(r);
}

TEST(Runner, InvariantI5CatchesAnActionOnADryRunGroup) {
  Scenario sc = Parse(R"(
name: unit
groups:
  - {name: web, desired: 6}
  - {name: canary, desired: 3, safety: {dry_run: true}}
)");
  RunOptions opt;
  opt.every_second = RogueReboot(minutes(10), "canary");
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I5")) << Violations(r);
}

TEST(Runner, AFreezeSurvivesARestartFromTheJournal) {
  Scenario sc = Fleet(
      "  - {at: 5m, kind: freeze, duration: 30m}\n"
      "  - {at: 10m, kind: crash_lifeline}\n"
      "  - {at: 12m, kind: crash, count: 3}\n");
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(r.ok()) << Violations(r);
  EXPECT_GE(r.destructive_actions, 3u);  // once the freeze is off
}

TEST(Runner, InvariantI5CatchesAFreezeTheJournalLost) {
  Scenario sc = Fleet(
      "  - {at: 5m, kind: freeze, duration: 30m}\n"
      "  - {at: 10m, kind: crash_lifeline}\n");
  RunOptions opt;
  opt.before_restart = [](Journal& j) {
    ASSERT_TRUE(j.PutValue("freeze/fleet", "off").ok());
  };
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(Has(r, "I5", "freeze was lost")) << Violations(r);
}

// ---- expectations -----------------------------------------------------------

TEST(Runner, GrayFailureReachesLifelineAndDestroysNothing) {
  Scenario sc = Fleet(
      "  - {at: 5m, kind: degrade_zone, zone: sim-1a, "
      "duration: 20m}\n");
  sc.max_destructive_actions = 0;
  double worst = 0;
  RunOptions opt;
  opt.every_second = [&worst](Duration, Controller& c, Provider&) {
    for (const auto& [id, rec] : c.instances()) {
      worst = std::max(worst, rec.error_ratio);
    }
  };
  SimReport r = RunScenario(sc, 1, opt);
  EXPECT_TRUE(r.ok()) << Violations(r);
  EXPECT_GT(worst, 0) << "the degraded zone's load reports never arrived";
}

TEST(Runner, AnExpectedLimitOfDestructiveActionsCanFail) {
  Scenario sc = Fleet("  - {at: 10m, kind: crash, count: 2}\n");
  sc.max_destructive_actions = 0;
  SimReport r = RunScenario(sc, 1);
  EXPECT_TRUE(Has(r, "expect")) << Violations(r);
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

TEST(Runner, RandomSchedulesLeaveRoomForEveryCapacityDeadline) {
  Scenario base = Fleet("");
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Scenario s = RandomizeFaults(base, seed);
    for (const FaultSpec& f : s.faults) {
      EXPECT_LE(f.at + f.duration + s.capacity_restored_within, s.duration)
          << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace lifeline
