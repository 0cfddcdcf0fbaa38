// Scenario: a whole-fleet simulation described in YAML — the fleet, the
// policies, a timeline of faults, and the invariants to check.
//
//   name: single-az-outage
//   seed: 1
//   duration: 2h
//   zones: [sim-1a, sim-1b, sim-1c]
//   hosts_per_zone: 16
//   groups:
//     - name: web
//       desired: 30
//       check_application: true
//       safety: {dry_run: false, require_agreement: true}
//   faults:
//     - {at: 10m, kind: fail_zone, zone: sim-1a, duration: 30m}
//   invariants: [I1, I2, I3, I4, I5, I6]
//   expect: {capacity_restored_within: 30m, max_destructive_actions: 0}
//
// ParseScenario names file, line and column of every error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/group_spec.h"
#include "safety/governor.h"

namespace lifeline {

enum class FaultKind {
  kFailHost,             // `count` random hosts (or the host of `instance`)
  kFailZone,             // every host of `zone`
  kCrash,                // `count` random instances crash
  kHang,                 // `count` random applications hang
  kTerminateBehindBack,  // `count` random instances terminated by someone else
  kCapacityShortage,     // launches into `zone` fail
  kDegradeZone,          // gray failure of `zone`
  kApiThrottle,          // `rate` of API calls throttled
  kApiOutage,            // every API call fails
  kPartition,            // heartbeats from `zone` ("" = all) stop reaching us
  kMassFalseFailure,     // `fraction` of agents report "failing" (2007)
  kStall,                // Lifeline's own loop stops for `duration`
  kCrashLifeline,        // Lifeline dies and restarts from its journal
  kFreeze,               // operator freezes the fleet for `duration`
};
std::string_view ToString(FaultKind k);
bool ParseFaultKind(std::string_view s, FaultKind* out);
// Faults on the observer's side: the instances are fine, Lifeline's view
// of them is not. Invariant I2 applies while one is active.
bool IsObserverFault(FaultKind k);

struct FaultSpec {
  Duration at{};
  FaultKind kind = FaultKind::kCrash;
  std::string zone;
  int count = 1;
  double fraction = 1.0;
  double rate = 0.5;
  // How long the fault lasts (zero: until the end / instantaneous).
  Duration duration{};
};

struct Scenario {
  std::string name;
  uint64_t seed = 1;
  Duration duration = std::chrono::hours(1);
  std::vector<std::string> zones = {"sim-1a", "sim-1b", "sim-1c"};
  int hosts_per_zone = 16;
  int zone_capacity = 0;  // 0 = unlimited
  std::vector<GroupSpec> groups;
  SafetyConfig safety;
  std::vector<FaultSpec> faults;
  std::vector<std::string> invariants = {"I1", "I2", "I3", "I4", "I5", "I6"};
  // I4: after each fault ends, capacity is back within this bound.
  Duration capacity_restored_within = std::chrono::minutes(30);
  // The run fails (as "expect") if Lifeline makes more destructive calls.
  std::optional<uint64_t> max_destructive_actions;
};

Result<Scenario> ParseScenario(const std::string& yaml_text,
                               const std::string& file_name);
Result<Scenario> LoadScenario(const std::string& path);

}  // namespace lifeline
