// ScenarioRunner: runs a Scenario — the controller core, the sim provider
// and a simulated heartbeat network, all in simulated time — and checks the
// safety invariants after every simulated second:
//   I1 destructive actions never exceed any budget (group, zone, fleet);
//   I2 no instance healthy in ground truth is terminated or rebooted while
//      the fault is on the observer's side (partition, stall, mass false
//      signal);
//   I3 at most one live replacement per failed instance; no orphan (an
//      instance launched but unknown to Lifeline) once the run settles;
//   I4 after the last fault, capacity returns to desired within the bound
//      when capacity exists;
//   I5 a frozen or dry-run group receives zero destructive actions;
//   I6 Lifeline crashing and restarting from its journal loses no workflow.
// The same scenario and seed replay exactly.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace lifeline {

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
  bool ok() const { return violations.empty(); }
};

struct RunOptions {
  // Print every history event as it happens.
  std::ostream* trace = nullptr;
};

SimReport RunScenario(const Scenario& scenario, uint64_t seed,
                      const RunOptions& options = {});

// Swarm: the scenario's fleet and policies with a random fault schedule
// drawn from the seed (the scenario's own faults are replaced).
Scenario RandomizeFaults(const Scenario& base, uint64_t seed);

}  // namespace lifeline
