// GroupSpec: what an operator declares for a group of instances — capacity,
// zones, the launch spec, which health checks count, the recovery ladder and
// the safety policy. Validate() names every problem it finds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace lifeline {

// One rung of a recovery ladder.
enum class RecoveryAction { kReboot, kRecover, kReplace };
std::string_view ToString(RecoveryAction a);
bool ParseRecoveryAction(std::string_view s, RecoveryAction* out);

// The failure being repaired; each has its own ladder.
enum class FailureKind { kSystem, kInstance, kApplication, kLost };
std::string_view ToString(FailureKind k);

struct LadderRung {
  RecoveryAction action = RecoveryAction::kReplace;
  // At most max_attempts of this rung per instance within `window`; past
  // that the ladder climbs to the next rung.
  int max_attempts = 1;
  Duration window = std::chrono::hours(1);
  // How long to wait for the instance to be healthy again after the action.
  Duration timeout = std::chrono::minutes(5);
  bool operator==(const LadderRung&) const = default;
};

struct RecoveryLadder {
  std::vector<LadderRung> system;       // default: recover -> replace
  std::vector<LadderRung> instance;     // default: reboot -> replace
  std::vector<LadderRung> application;  // default: reboot -> replace
  static RecoveryLadder Defaults();
  const std::vector<LadderRung>& For(FailureKind k) const;
  bool operator==(const RecoveryLadder&) const = default;
};

struct BackoffPolicy {
  Duration initial = std::chrono::seconds(1);
  Duration max = std::chrono::minutes(5);
  double multiplier = 2.0;
  double jitter = 0.2;  // +/- fraction of the delay, drawn from the Rng
  bool operator==(const BackoffPolicy&) const = default;
};

// What happens to unhealthy instances in a zone the group is shifted away
// from (EC2 Auto Scaling's ImpairedZoneHealthCheckBehavior).
enum class ImpairedZoneBehavior { kReplaceUnhealthy, kIgnoreUnhealthy };
std::string_view ToString(ImpairedZoneBehavior b);
bool ParseImpairedZoneBehavior(std::string_view s, ImpairedZoneBehavior* out);

// Per-group safety settings (the fleet-wide ones are in SafetyConfig).
struct GroupSafety {
  // Destructive actions per minute for this group (token bucket).
  double actions_per_minute = 60;
  double burst = 10;
  // At most this many / this share of the group in recovery at once.
  int max_in_recovery = 10;
  double max_in_recovery_ratio = 0.34;
  // Panic: when more than this share of the group looks unhealthy at once,
  // stop destroying and alert. Leaves panic below panic_exit_ratio.
  double panic_ratio = 0.5;
  double panic_exit_ratio = 0.3;
  // Destructive action on a heartbeat-only failure needs a second signal.
  bool require_agreement = true;
  bool dry_run = false;
  bool operator==(const GroupSafety&) const = default;
};

struct WarmPoolSpec {
  int min_size = 0;            // standby instances kept per zone
  int max_prepared = 0;        // upper bound across the group (0 = min*zones)
  bool stopped = true;         // standbys kept stopped (true) or running
  bool operator==(const WarmPoolSpec&) const = default;
};

struct AutoshiftSpec {
  bool enabled = false;
  Duration max_duration = std::chrono::hours(4);
  bool allow_without_capacity = false;
  bool operator==(const AutoshiftSpec&) const = default;
};

struct GroupSpec {
  std::string name;
  int desired = 0;
  int min = 0;
  int max = 0;
  std::vector<std::string> zones;
  LaunchSpec launch;
  // Elastic addresses the group owns; each is kept attached to one ready
  // instance (controller/addresses.cc).
  std::vector<std::string> addresses;

  // Failures other than "terminated" are ignored this long after launch.
  Duration grace_period = std::chrono::seconds(60);
  // Which checks count towards health.
  bool check_system = true;
  bool check_instance = true;
  bool check_application = false;
  // Heartbeat key id for the group's agents (application checks).
  std::string heartbeat_key_id;

  RecoveryLadder ladder = RecoveryLadder::Defaults();
  BackoffPolicy backoff;
  // Make-before-break: how long a replacement may take to become healthy
  // before it is cleaned up and another zone is tried.
  Duration replacement_timeout = std::chrono::minutes(10);
  // A provider call that has not answered after this long is retried.
  Duration call_timeout = std::chrono::minutes(2);

  GroupSafety safety;
  ImpairedZoneBehavior impaired_zone_behavior =
      ImpairedZoneBehavior::kReplaceUnhealthy;
  WarmPoolSpec warm_pool;
  AutoshiftSpec autoshift;
  // Rebalancing: at most this share of the group moved per step, and never
  // fewer than this many healthy instances left in a zone by it.
  double rebalance_step_ratio = 0.1;
  int min_healthy_per_zone = 1;

  // Every problem, each naming the field: "group web: desired 7 above max 5".
  Status Validate() const;
  bool operator==(const GroupSpec&) const = default;
};

}  // namespace lifeline
