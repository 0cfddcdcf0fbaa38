// Health aggregation: from an instance's signals to one verdict.
//
// Pure functions of their inputs; no state, no clock reads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/group_spec.h"
#include "model/model.h"

namespace lifeline {

struct HealthInputs {
  Lifecycle lifecycle = Lifecycle::kPending;
  CheckState system_check = CheckState::kUnknown;
  CheckState instance_check = CheckState::kUnknown;
  AppHealth app = AppHealth::kUnknown;
  std::string app_source;          // "heartbeat", "agent", "probe"
  std::string app_reason;
  // SetInstanceHealth: true = healthy, false = unhealthy, none = no opinion.
  std::optional<bool> operator_healthy;
  std::string operator_reason;
  bool in_grace = false;           // within the launch grace period
  // Only the application's silence is forgiven: an instance adopted by a
  // (re)started Lifeline has not been heard from in this life yet, but the
  // provider's checks of it are fresh evidence.
  bool in_app_grace = false;
  bool terminated_by_us = false;   // we asked for it; not a failure
  bool stopped_by_us = false;      // fenced or a warm-pool standby
  bool check_system = true;
  bool check_instance = true;
  bool check_application = false;
};

struct HealthVerdict {
  bool unhealthy = false;
  // Subjectively down: the heartbeat detector suspects it, nothing else
  // agrees yet. Never a reason to act; counted for panic and partition.
  bool suspect = false;
  FailureKind kind = FailureKind::kInstance;
  std::vector<std::string> signals;  // which signals say so
  std::string evidence;              // one readable line
};

HealthVerdict EvaluateHealth(const HealthInputs& in);

// Ready to take traffic: running, no failed check, and (when application
// checks count) heard from. Used to promote a replacement.
bool ReadyForService(const HealthInputs& in);

}  // namespace lifeline
