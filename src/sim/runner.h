// ScenarioRunner: runs a Scenario — the controller core, the sim provider
// and a simulated heartbeat network, all in simulated time — and checks the
// safety invariants after every simulated second:
//   I1 destructive actions never exceed any budget: the actions the governor
//      approves fit the group's, zone's and fleet's token buckets exactly
//      (BudgetLedger), and every destructive call belongs to an approved
//      action;
//   I2 no instance healthy in ground truth is terminated or rebooted while
//      the fault is on the observer's side (partition, stall, mass false
//      signal);
//   I3 at most one live replacement per failed instance (counted by the
//      instance it replaces, across restarts of Lifeline); no orphan (an
//      instance launched but unknown to Lifeline) once the run settles;
//   I4 after each fault, capacity is back to desired within the scenario's
//      bound when capacity exists (CapacityDeadlines: every deadline that
//      falls within the run is checked, and the report counts them);
//   I5 a frozen or dry-run group receives zero destructive actions, and a
//      restarted Lifeline finds the freeze in its journal;
//   I6 Lifeline crashing and restarting from its journal loses no approved
//      workflow and duplicates none: no workflow id used twice, no two
//      workflows acting on one instance, no launch token used by two
//      workflows.
// A scenario may also expect a number of destructive actions at most
// (violation "expect"). The same scenario and seed replay exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace lifeline {

class Controller;
class Journal;
class Provider;
struct ControllerConfig;

struct Violation {
  std::string invariant;
  std::string at;  // simulated time since start, "1h2m"
  std::string detail;
};

struct SimReport {
  std::string scenario;
  uint64_t seed = 0;
  std::vector<Violation> violations;
  uint64_t destructive_actions = 0;
  uint64_t launches = 0;
  uint64_t recoveries_succeeded = 0;
  uint64_t deferrals = 0;
  uint64_t history_events = 0;
  int final_active = 0;
  int final_desired = 0;
  double instance_hours = 0;
  int restarts = 0;  // simulated crashes of Lifeline
  // I4: capacity checks made (one per group per deadline), when, and the
  // fault deadlines not checked themselves: left to a later fault's
  // deadline, past the end of the run, or with no zone to launch into.
  int capacity_checks = 0;
  std::vector<std::string> capacity_checked_at;
  int deadlines_left_to_later = 0;
  int deadlines_past_end = 0;
  int deadlines_without_capacity = 0;
  bool ok() const { return violations.empty(); }
};

struct RunOptions {
  // Print every history event as it happens.
  std::ostream* trace = nullptr;

  // Test hooks, to show that each invariant can fail. Whatever they do, the
  // invariants keep checking the scenario's stated policy.
  // Changes what Lifeline is given (its config, the groups) at every start.
  std::function<void(ControllerConfig&, std::vector<GroupSpec>&)>
      configure_lifeline;
  // Changes the journal between a simulated crash and the restart.
  std::function<void(Journal&)> before_restart;
  // Runs after every simulated second with Lifeline and the provider it
  // uses (calls made through it are observed like Lifeline's own).
  std::function<void(Duration since_start, Controller&, Provider&)>
      every_second;
};

SimReport RunScenario(const Scenario& scenario, uint64_t seed,
                      const RunOptions& options = {});

// Swarm: the scenario's fleet and policies with a random fault schedule
// drawn from the seed (the scenario's own faults are replaced).
Scenario RandomizeFaults(const Scenario& base, uint64_t seed);

}  // namespace lifeline
