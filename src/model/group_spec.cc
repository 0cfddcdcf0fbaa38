#include "model/group_spec.h"

#include <array>
#include <cctype>
#include <set>
#include <utility>

namespace lifeline {

namespace {
constexpr std::array<std::pair<RecoveryAction, std::string_view>, 3> kActions{{
    {RecoveryAction::kReboot, "reboot"},
    {RecoveryAction::kRecover, "recover"},
    {RecoveryAction::kReplace, "replace"},
}};
constexpr std::array<std::pair<ImpairedZoneBehavior, std::string_view>, 2>
    kBehaviors{{
        {ImpairedZoneBehavior::kReplaceUnhealthy, "ReplaceUnhealthy"},
        {ImpairedZoneBehavior::kIgnoreUnhealthy, "IgnoreUnhealthy"},
    }};

LadderRung Rung(RecoveryAction a, int attempts, Duration timeout) {
  LadderRung r;
  r.action = a;
  r.max_attempts = attempts;
  r.timeout = timeout;
  return r;
}
}  // namespace

std::string_view ToString(RecoveryAction a) {
  for (const auto& [v, n] : kActions) {
    if (v == a) return n;
  }
  return "unknown";
}

bool ParseRecoveryAction(std::string_view s, RecoveryAction* out) {
  for (const auto& [v, n] : kActions) {
    if (n == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

std::string_view ToString(FailureKind k) {
  switch (k) {
    case FailureKind::kSystem: return "system";
    case FailureKind::kInstance: return "instance";
    case FailureKind::kApplication: return "application";
    case FailureKind::kLost: return "lost";
  }
  return "unknown";
}

std::string_view ToString(ImpairedZoneBehavior b) {
  for (const auto& [v, n] : kBehaviors) {
    if (v == b) return n;
  }
  return "unknown";
}

bool ParseImpairedZoneBehavior(std::string_view s, ImpairedZoneBehavior* out) {
  for (const auto& [v, n] : kBehaviors) {
    if (n == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

RecoveryLadder RecoveryLadder::Defaults() {
  using std::chrono::minutes;
  RecoveryLadder l;
  l.system = {Rung(RecoveryAction::kRecover, 1, minutes(5)),
              Rung(RecoveryAction::kReplace, 3, minutes(10))};
  l.instance = {Rung(RecoveryAction::kReboot, 2, minutes(3)),
                Rung(RecoveryAction::kReplace, 3, minutes(10))};
  l.application = {Rung(RecoveryAction::kReboot, 2, minutes(3)),
                   Rung(RecoveryAction::kReplace, 3, minutes(10))};
  return l;
}

const std::vector<LadderRung>& RecoveryLadder::For(FailureKind k) const {
  switch (k) {
    case FailureKind::kSystem: return system;
    case FailureKind::kInstance: return instance;
    case FailureKind::kApplication: return application;
    case FailureKind::kLost: return instance;
  }
  return instance;
}

Status GroupSpec::Validate() const {
  std::string problems;
  auto add = [&](const std::string& p) {
    if (!problems.empty()) problems += "; ";
    problems += p;
  };
  if (name.empty()) add("name is empty");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
          c == '_' || c == '.')) {
      add("name '" + name + "' may hold only letters, digits, '-', '_', '.'");
      break;
    }
  }
  if (min < 0) add("min " + std::to_string(min) + " is negative");
  if (max < min) {
    add("max " + std::to_string(max) + " is below min " + std::to_string(min));
  }
  if (desired < min || desired > max) {
    add("desired " + std::to_string(desired) + " is outside [min " +
        std::to_string(min) + ", max " + std::to_string(max) + "]");
  }
  if (zones.empty()) add("zones is empty");
  std::set<std::string> seen;
  for (const auto& z : zones) {
    if (z.empty()) add("a zone name is empty");
    if (!seen.insert(z).second) add("zone '" + z + "' is listed twice");
  }
  if (grace_period < Duration::zero()) add("grace_period is negative");
  if (!check_system && !check_instance && !check_application) {
    add("no health check is enabled (check_system, check_instance, "
        "check_application are all false)");
  }
  for (FailureKind k : {FailureKind::kSystem, FailureKind::kInstance,
                        FailureKind::kApplication}) {
    const auto& rungs = ladder.For(k);
    if (rungs.empty()) {
      add("ladder." + std::string(ToString(k)) + " has no rung");
    }
    for (size_t i = 0; i < rungs.size(); ++i) {
      std::string where = "ladder." + std::string(ToString(k)) + "[" +
                          std::to_string(i) + "]";
      if (rungs[i].max_attempts < 1) add(where + ".max_attempts must be >= 1");
      if (rungs[i].timeout <= Duration::zero()) {
        add(where + ".timeout must be positive");
      }
      if (rungs[i].window <= Duration::zero()) {
        add(where + ".window must be positive");
      }
    }
  }
  if (backoff.initial <= Duration::zero() || backoff.max < backoff.initial) {
    add("backoff: initial must be positive and not above max");
  }
  if (backoff.multiplier < 1.0) add("backoff.multiplier must be >= 1");
  if (backoff.jitter < 0 || backoff.jitter > 1) {
    add("backoff.jitter must be within [0, 1]");
  }
  if (replacement_timeout <= Duration::zero()) {
    add("replacement_timeout must be positive");
  }
  if (safety.actions_per_minute <= 0) {
    add("safety.actions_per_minute must be positive");
  }
  if (safety.burst < 1) add("safety.burst must be >= 1");
  if (safety.max_in_recovery < 1) add("safety.max_in_recovery must be >= 1");
  if (safety.max_in_recovery_ratio <= 0 || safety.max_in_recovery_ratio > 1) {
    add("safety.max_in_recovery_ratio must be within (0, 1]");
  }
  if (safety.panic_ratio <= 0 || safety.panic_ratio > 1) {
    add("safety.panic_ratio must be within (0, 1]");
  }
  if (safety.panic_exit_ratio < 0 ||
      safety.panic_exit_ratio > safety.panic_ratio) {
    add("safety.panic_exit_ratio must be within [0, panic_ratio]");
  }
  if (warm_pool.min_size < 0 || warm_pool.max_prepared < 0) {
    add("warm_pool sizes must not be negative");
  }
  if (rebalance_step_ratio <= 0 || rebalance_step_ratio > 1) {
    add("rebalance_step_ratio must be within (0, 1]");
  }
  if (min_healthy_per_zone < 0) add("min_healthy_per_zone is negative");
  if (problems.empty()) return Status::Ok();
  return InvalidArgument("group " + (name.empty() ? "<unnamed>" : name) +
                         ": " + problems);
}

}  // namespace lifeline
