#include "safety/governor.h"

#include <cstdio>

namespace lifeline {

namespace {
std::string Ratio(int part, int total) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d of %d (%.0f%%)", part, total,
                total ? 100.0 * part / total : 0.0);
  return buf;
}
// Hysteresis: enter above `enter`, leave at or below `exit`.
bool NextPanic(bool now_panic, int total, int unhealthy, int min_instances,
               double enter, double exit) {
  if (total < min_instances) return false;
  double ratio = static_cast<double>(unhealthy) / total;
  return now_panic ? ratio > exit : ratio > enter;
}
}  // namespace

std::string_view ToString(SafetyVerdict v) {
  switch (v) {
    case SafetyVerdict::kAllow: return "allow";
    case SafetyVerdict::kDefer: return "defer";
    case SafetyVerdict::kDryRun: return "dry_run";
  }
  return "unknown";
}

SafetyGovernor::SafetyGovernor(const Clock& clock, SafetyConfig config)
    : clock_(clock), config_(config) {
  fleet_bucket_ = TokenBucket(config_.fleet_actions_per_minute,
                              config_.fleet_burst, clock_.Now());
  started_ = clock_.Now();
}

void SafetyGovernor::SetConfig(const SafetyConfig& config) {
  config_ = config;
  MonoTime now = clock_.Now();
  fleet_bucket_.Configure(config_.fleet_actions_per_minute, config_.fleet_burst,
                          now);
  for (auto& [name, z] : zones_) {
    z.bucket.Configure(config_.zone_actions_per_minute, config_.zone_burst,
                       now);
  }
}

SafetyGovernor::GroupState& SafetyGovernor::Group(const std::string& group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) {
    GroupState g;
    g.bucket = TokenBucket(g.policy.actions_per_minute, g.policy.burst,
                           clock_.Now());
    it = groups_.emplace(group, std::move(g)).first;
  }
  return it->second;
}

SafetyGovernor::ZoneState& SafetyGovernor::Zone(const std::string& zone) {
  auto it = zones_.find(zone);
  if (it == zones_.end()) {
    ZoneState z;
    z.bucket = TokenBucket(config_.zone_actions_per_minute, config_.zone_burst,
                           clock_.Now());
    it = zones_.emplace(zone, std::move(z)).first;
  }
  return it->second;
}

void SafetyGovernor::SetGroupPolicy(const std::string& group,
                                    const GroupSafety& policy) {
  GroupState& g = Group(group);
  g.policy = policy;
  g.bucket.Configure(policy.actions_per_minute, policy.burst, clock_.Now());
}

void SafetyGovernor::RemoveGroup(const std::string& group) {
  groups_.erase(group);
}

void SafetyGovernor::SetGroupFrozen(const std::string& group, bool frozen) {
  Group(group).frozen = frozen;
}

bool SafetyGovernor::group_frozen(const std::string& group) const {
  auto it = groups_.find(group);
  return it != groups_.end() && it->second.frozen;
}

void SafetyGovernor::NoteStarted() {
  started_ = clock_.Now();
  fresh_evidence_ = false;
}

void SafetyGovernor::NoteStall(Duration gap) {
  MonoTime until = clock_.Now() + gap + config_.stall_margin;
  if (until > stall_until_) stall_until_ = until;
}

void SafetyGovernor::UpdateGroupHealth(const std::string& group, int total,
                                       int unhealthy) {
  GroupState& g = Group(group);
  g.total = total;
  g.unhealthy = unhealthy;
}

void SafetyGovernor::UpdateZoneHealth(const std::string& zone, int total,
                                      int unhealthy) {
  ZoneState& z = Zone(zone);
  z.total = total;
  z.unhealthy = unhealthy;
}

std::vector<SafetyAlert> SafetyGovernor::Evaluate() {
  std::vector<SafetyAlert> alerts;
  auto transition = [&](bool before, bool after, const char* scope,
                        const std::string& name, const std::string& counts) {
    if (before == after) return;
    std::string who = std::string(scope) + (name.empty() ? "" : " " + name);
    alerts.push_back({after ? "panic.entered" : "panic.left", scope, name,
                      who + (after ? ": unhealthy share rose to "
                                   : ": unhealthy share fell to ") +
                          counts});
  };
  int fleet_total = 0, fleet_unhealthy = 0;
  int zones_considered = 0, zones_in_panic = 0;
  for (auto& [name, z] : zones_) {
    bool next = NextPanic(z.panic, z.total, z.unhealthy,
                          config_.panic_min_instances, config_.zone_panic_ratio,
                          config_.zone_panic_exit_ratio);
    transition(z.panic, next, "zone", name, Ratio(z.unhealthy, z.total));
    z.panic = next;
    fleet_total += z.total;
    fleet_unhealthy += z.unhealthy;
    if (z.total > 0) {
      ++zones_considered;
      if (z.panic) ++zones_in_panic;
    }
  }
  bool next_fleet = NextPanic(fleet_panic_, fleet_total, fleet_unhealthy,
                              config_.panic_min_instances,
                              config_.fleet_panic_ratio,
                              config_.fleet_panic_exit_ratio);
  transition(fleet_panic_, next_fleet, "fleet", "",
             Ratio(fleet_unhealthy, fleet_total));
  fleet_panic_ = next_fleet;
  fleet_total_ = fleet_total;
  fleet_unhealthy_ = fleet_unhealthy;
  for (auto& [name, g] : groups_) {
    bool next = NextPanic(g.panic, g.total, g.unhealthy,
                          config_.panic_min_instances, g.policy.panic_ratio,
                          g.policy.panic_exit_ratio);
    transition(g.panic, next, "group", name, Ratio(g.unhealthy, g.total));
    g.panic = next;
  }
  bool next_partition = zones_considered > 0 && zones_in_panic == zones_considered;
  if (next_partition != partitioned_) {
    alerts.push_back(
        {next_partition ? "partition.entered" : "partition.left", "fleet", "",
         next_partition
             ? "every zone (" + std::to_string(zones_considered) +
                   ") looks unhealthy at once: the observer is the likely "
                   "fault; destructive actions frozen fleet-wide"
             : "at least one zone looks healthy again"});
    partitioned_ = next_partition;
  }
  // How long each zone has been the only trouble: a zone panic seen while
  // the fleet is in panic or partitioned, or just left, is not yet a fact
  // about the zone.
  MonoTime now = clock_.Now();
  for (auto& [name, z] : zones_) {
    bool alone = z.panic && !fleet_panic_ && !partitioned_;
    if (!alone) {
      z.alone_since.reset();
    } else if (!z.alone_since) {
      z.alone_since = now;
    }
  }
  return alerts;
}

bool SafetyGovernor::InPanic(const std::string& group,
                             const std::string& zone) const {
  if (fleet_panic_ || partitioned_) return true;
  auto z = zones_.find(zone);
  if (z != zones_.end() && z->second.panic) return true;
  auto g = groups_.find(group);
  return g != groups_.end() && g->second.panic;
}

bool SafetyGovernor::AnyPanic() const {
  if (fleet_panic_ || partitioned_) return true;
  for (const auto& [name, z] : zones_) {
    if (z.panic) return true;
  }
  for (const auto& [name, g] : groups_) {
    if (g.panic) return true;
  }
  return false;
}

bool SafetyGovernor::OnlyZoneInPanic(const std::string& group,
                                     const std::string& zone,
                                     Duration for_at_least) const {
  if (fleet_panic_ || partitioned_) return false;
  auto g = groups_.find(group);
  if (g != groups_.end() && g->second.panic) return false;
  auto z = zones_.find(zone);
  return z != zones_.end() && z->second.panic && z->second.alone_since &&
         clock_.Now() - *z->second.alone_since >= for_at_least;
}

SafetyDecision SafetyGovernor::Decide(const SafetyRequest& r, bool consume) {
  MonoTime now = clock_.Now();
  GroupState& g = Group(r.group);
  ZoneState& z = Zone(r.zone);
  auto defer = [](std::string rule, std::string reason, Duration retry) {
    SafetyDecision d;
    d.verdict = SafetyVerdict::kDefer;
    d.rule = std::move(rule);
    d.reason = std::move(reason);
    d.retry_after = retry;
    return d;
  };
  using std::chrono::seconds;

  if (fleet_frozen_) {
    return defer("freeze", "fleet-wide freeze is on", seconds(10));
  }
  if (g.frozen) {
    return defer("freeze", "group " + r.group + " is frozen", seconds(10));
  }
  if (now < started_ + config_.cold_start_grace || !fresh_evidence_) {
    Duration left = started_ + config_.cold_start_grace - now;
    if (left < seconds(1)) left = seconds(1);
    return defer("cold_start",
                 fresh_evidence_
                     ? "Lifeline started " + FormatDuration(now - started_) +
                           " ago; cold-start grace is " +
                           FormatDuration(config_.cold_start_grace)
                     : "no fresh view of the fleet since Lifeline started",
                 left);
  }
  if (now < stall_until_) {
    return defer("stall",
                 "Lifeline's own loop stalled; evidence is stale for another " +
                     FormatDuration(stall_until_ - now),
                 stall_until_ - now);
  }
  // Cleanup terminates (scale-in, failed replacements) remove capacity that
  // is not serving, and starting a stopped instance destroys nothing; they
  // still need freeze/budget checks but not panic or agreement.
  if (!r.is_terminate_only && !r.starts_stopped) {
    if (partitioned_) {
      return defer("partition",
                   "every zone looks unhealthy at once; assuming the observer "
                   "is partitioned",
                   seconds(10));
    }
    if (fleet_panic_) {
      return defer("panic", "fleet in panic: " +
                                Ratio(fleet_unhealthy_, fleet_total_) +
                                " unhealthy",
                   seconds(10));
    }
    if (z.panic) {
      return defer("panic", "zone " + r.zone + " in panic: " +
                                Ratio(z.unhealthy, z.total) + " unhealthy",
                   seconds(10));
    }
    if (g.panic) {
      return defer("panic", "group " + r.group + " in panic: " +
                                Ratio(g.unhealthy, g.total) + " unhealthy",
                   seconds(10));
    }
    if (g.policy.require_agreement && r.failure == FailureKind::kApplication) {
      bool only_heartbeat = !r.signals.empty();
      for (const auto& s : r.signals) {
        if (s != "heartbeat") only_heartbeat = false;
      }
      if (only_heartbeat || r.signals.empty()) {
        return defer("agreement",
                     "only heartbeat silence says " + r.instance +
                         " is down; waiting for a second signal "
                         "(provider check, probe, agent, peers or operator)",
                     seconds(5));
      }
    }
    int limit = g.policy.max_in_recovery;
    int by_ratio = static_cast<int>(g.policy.max_in_recovery_ratio *
                                    static_cast<double>(r.group_size));
    if (by_ratio < 1) by_ratio = 1;
    if (by_ratio < limit) limit = by_ratio;
    if (r.group_in_recovery >= limit) {
      return defer("in_recovery",
                   std::to_string(r.group_in_recovery) + " of " +
                       std::to_string(r.group_size) + " in group " + r.group +
                       " already in recovery (limit " + std::to_string(limit) +
                       ")",
                   seconds(5));
    }
  }
  if (g.policy.dry_run) {
    SafetyDecision d;
    d.verdict = SafetyVerdict::kDryRun;
    d.rule = "dry_run";
    d.reason = "group " + r.group + " is in dry-run: recorded, not executed";
    return d;
  }
  if (!fleet_bucket_.Available(now)) {
    return defer("budget", "fleet-wide action budget exhausted",
                 fleet_bucket_.TimeUntil(now));
  }
  if (!z.bucket.Available(now)) {
    return defer("budget", "zone " + r.zone + " action budget exhausted",
                 z.bucket.TimeUntil(now));
  }
  if (!g.bucket.Available(now)) {
    return defer("budget", "group " + r.group + " action budget exhausted",
                 g.bucket.TimeUntil(now));
  }
  if (!consume) return SafetyDecision{};
  fleet_bucket_.TryTake(now);
  z.bucket.TryTake(now);
  g.bucket.TryTake(now);
  return SafetyDecision{};
}

}  // namespace lifeline
