// Run: one simulation of a Scenario — the simulated world, Lifeline, and
// the invariant checks (runner.h lists them). Internal to lifeline-sim:
// RunScenario is the interface. The world and the faults are in runner.cc,
// the checks in run_checks.cc.
//
// Thread-safety: none; everything runs on the simulation's one thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "core/sim_loop.h"
#include "sim/invariants.h"
#include "sim/recording_provider.h"
#include "sim/runner.h"
#include "testing/sim_heartbeats.h"
#include "zones/sim_load_reporter.h"

namespace lifeline {

class Run {
 public:
  Run(const Scenario& sc, uint64_t seed, const RunOptions& opt);
  SimReport Go();

 private:
  static SimConfig MakeSimConfig(const Scenario& sc);

  // runner.cc: the world, its faults, Lifeline's lives.
  void StartLifeline();
  void CrashLifeline();
  void ArmStallWatch();
  std::vector<std::string> LiveIds();
  std::string RandomLive();
  void ScheduleFaults();
  void TraceFault(const char* what, const FaultSpec& f);
  void Apply(const FaultSpec& f, size_t index);
  void End(const FaultSpec& f, size_t index);

  // run_checks.cc: the invariants.
  bool Wants(const char* inv) const;
  void Violate(const std::string& inv, const std::string& detail);
  // Reports the violation of `inv` about `key` (a workflow, an instance)
  // the first time only.
  void ViolateOnce(const std::string& key, const std::string& inv,
                   const std::string& detail);
  void OnHistory(const HistoryEvent& e);
  void OnDestructive(const DestructiveCall& c);
  void OnLaunch(const LaunchRequest& r);
  void PlanCapacityChecks();
  void CheckStep();
  void CheckReplacements();
  void CheckWorkflows();
  void CheckCapacity(const std::vector<size_t>& faults);
  void CheckRestart(const std::set<std::string>& approved_before);
  void CheckEnd();
  WorkflowLedger::Identity IdentityOf(const Workflow& wf) const;

  const Scenario& sc_;
  uint64_t seed_;
  RunOptions opt_;
  SimClock clock_;
  SimLoop loop_;
  Rng rng_;
  SimProvider provider_;
  RecordingProvider recording_;
  MemoryHistory history_{200000};
  MemoryJournal journal_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<SimHeartbeats> heartbeats_;
  // Agents' load reports, when a fault changes them (a gray failure).
  std::unique_ptr<SimLoadReporter> load_reports_;
  bool wants_load_reports_ = false;
  // The scenario's groups: the policy the invariants hold Lifeline to.
  std::map<std::string, GroupSpec> groups_;
  std::map<size_t, std::vector<std::string>> falsely_failing_;  // by fault
  std::map<std::string, int> false_reports_;  // faults covering an instance
  std::map<std::string, int> failed_zones_;   // zone -> faults failing it
  std::map<std::string, int> short_zones_;    // zone -> shortages
  MonoTime start_{};
  MonoTime stall_settle_until_{};
  int observer_faults_ = 0;
  bool frozen_ = false;
  uint64_t destructive_ = 0;

  // Invariant state.
  BudgetLedger budgets_;                                  // I1
  WorkflowLedger workflows_;                              // I3, I6
  std::map<Duration, std::vector<size_t>> capacity_due_;  // I4: faults
  std::set<std::string> scaled_in_working_;               // I3: instances
  std::set<std::string> reported_;  // violations reported once
  SimReport report_;
};

}  // namespace lifeline
