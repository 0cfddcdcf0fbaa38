// SafetyGovernor: the one gate every destructive action (terminate, reboot,
// stop, recover, replace) passes through (DESIGN.md, "Do no harm").
//
// Rules, checked in this order; the first that refuses names itself:
//   freeze      fleet-wide or per-group freeze switch is on
//   cold_start  Lifeline started less than cold_start_grace ago, or has no
//               fresh evidence since it started
//   stall       Lifeline's own loop stalled recently; its evidence is stale
//   partition   every zone looks unhealthy at once: the observer is the
//               likely fault, nothing is destroyed anywhere
//   panic       too large a share of the fleet / a zone / the group looks
//               unhealthy at once (hysteresis: leaves below the exit ratio)
//   agreement   the failure rests on heartbeat silence alone, without a
//               second independent signal
//   in_recovery too many of the group already in recovery
//   budget      the fleet / zone / group token bucket is empty
//   dry_run     the group is in dry-run: allowed "on paper" only
//
// Thread-safety: none; owned by the controller's loop thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/group_spec.h"
#include "core/clock.h"
#include "safety/token_bucket.h"

namespace lifeline {

struct SafetyConfig {
  double fleet_actions_per_minute = 600;
  double fleet_burst = 100;
  double zone_actions_per_minute = 300;
  double zone_burst = 50;
  double fleet_panic_ratio = 0.5;
  double fleet_panic_exit_ratio = 0.3;
  double zone_panic_ratio = 0.55;
  double zone_panic_exit_ratio = 0.35;
  // Groups/zones smaller than this never enter panic by ratio (one instance
  // failing in a group of two is not a mass event).
  int panic_min_instances = 3;
  Duration cold_start_grace = std::chrono::seconds(30);
  // After a stall of the loop, destructive actions wait this much longer
  // than the stall itself lasted.
  Duration stall_margin = std::chrono::seconds(5);
  // A loop gap longer than this counts as a stall.
  Duration stall_threshold = std::chrono::seconds(1);
};

enum class SafetyVerdict { kAllow, kDefer, kDryRun };
std::string_view ToString(SafetyVerdict v);

struct SafetyRequest {
  RecoveryAction action = RecoveryAction::kReplace;  // or kReboot...
  bool is_terminate_only = false;  // scale-in / cleanup terminate
  // Start of an instance that is stopped (the reboot rung of a stopped
  // instance): it serves nothing and nothing is destroyed, so a mass stop
  // (a host reboot under the process provider) is not held by panic.
  bool starts_stopped = false;
  std::string group;
  std::string zone;
  std::string instance;
  FailureKind failure = FailureKind::kInstance;
  // Signals that agree the instance is failed (e.g. "system_check",
  // "instance_check", "heartbeat", "agent", "probe", "operator", "peers").
  std::vector<std::string> signals;
  int group_size = 0;
  int group_in_recovery = 0;  // excluding this request
};

struct SafetyDecision {
  SafetyVerdict verdict = SafetyVerdict::kAllow;
  std::string rule;    // empty when allowed
  std::string reason;  // one sentence with the numbers
  Duration retry_after = Duration::zero();
  bool allowed() const { return verdict == SafetyVerdict::kAllow; }
};

// An alert the governor raises or clears (panic entered/left, partition).
struct SafetyAlert {
  std::string type;   // "panic.entered", "panic.left", "partition.entered",...
  std::string scope;  // "fleet", "zone", "group"
  std::string name;   // zone or group name; empty for fleet
  std::string reason;
};

class SafetyGovernor {
 public:
  SafetyGovernor(const Clock& clock, SafetyConfig config);

  void SetConfig(const SafetyConfig& config);
  const SafetyConfig& config() const { return config_; }
  void SetGroupPolicy(const std::string& group, const GroupSafety& policy);
  void RemoveGroup(const std::string& group);

  // Freeze switches (persisted by the caller).
  void SetFleetFrozen(bool frozen) { fleet_frozen_ = frozen; }
  void SetGroupFrozen(const std::string& group, bool frozen);
  bool fleet_frozen() const { return fleet_frozen_; }
  bool group_frozen(const std::string& group) const;

  // Lifeline (re)started now: cold-start grace begins.
  void NoteStarted();
  // A complete, fresh view of the fleet has been gathered since start.
  void NoteFreshEvidence() { fresh_evidence_ = true; }
  // The loop did not run for `gap` (self-stall awareness).
  void NoteStall(Duration gap);

  // Health counts, refreshed by the controller. `unhealthy` counts
  // instances judged failed or suspected (including silent ones).
  void UpdateGroupHealth(const std::string& group, int total, int unhealthy);
  void UpdateZoneHealth(const std::string& zone, int total, int unhealthy);
  // Re-evaluates panic and partition states; returns alerts for changes.
  std::vector<SafetyAlert> Evaluate();

  bool InPanic(const std::string& group, const std::string& zone) const;
  // The zone is in panic but neither the fleet nor the group is, and the
  // observer is not partitioned, and so it has been for `for_at_least`
  // (since the last Evaluate): the rest of the group is trustworthy, so
  // capacity held in the zone may be surged elsewhere.
  bool OnlyZoneInPanic(const std::string& group, const std::string& zone,
                       Duration for_at_least) const;
  bool partitioned() const { return partitioned_; }
  // Within the stall rule's window after a stall of Lifeline's own loop.
  bool stalled() const { return clock_.Now() < stall_until_; }
  // Any panic anywhere (fleet, a zone, a group) or a partition.
  bool AnyPanic() const;

  // Decides, and on kAllow consumes the budgets unless `consume` is false
  // (the dry-run preview asks without spending).
  SafetyDecision Decide(const SafetyRequest& request, bool consume = true);

 private:
  struct GroupState {
    GroupSafety policy;
    TokenBucket bucket;
    bool frozen = false;
    int total = 0, unhealthy = 0;
    bool panic = false;
  };
  struct ZoneState {
    TokenBucket bucket;
    int total = 0, unhealthy = 0;
    bool panic = false;
    std::optional<MonoTime> alone_since;  // panic with the rest calm
  };
  ZoneState& Zone(const std::string& zone);
  GroupState& Group(const std::string& group);

  const Clock& clock_;
  SafetyConfig config_;
  TokenBucket fleet_bucket_;
  std::map<std::string, GroupState> groups_;
  std::map<std::string, ZoneState> zones_;
  bool fleet_frozen_ = false;
  bool fleet_panic_ = false;
  int fleet_total_ = 0, fleet_unhealthy_ = 0;
  bool partitioned_ = false;
  MonoTime started_{};
  bool fresh_evidence_ = false;
  MonoTime stall_until_{};
};

}  // namespace lifeline
