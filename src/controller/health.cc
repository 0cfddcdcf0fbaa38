#include "controller/health.h"

namespace lifeline {

HealthVerdict EvaluateHealth(const HealthInputs& in) {
  HealthVerdict v;
  if (in.lifecycle == Lifecycle::kTerminated && !in.terminated_by_us) {
    v.unhealthy = true;
    v.kind = FailureKind::kLost;
    v.signals = {"provider"};
    v.evidence = "provider reports the instance terminated";
    return v;
  }
  if (in.terminated_by_us) return v;
  if (in.operator_healthy.has_value() && !*in.operator_healthy) {
    v.unhealthy = true;
    v.kind = FailureKind::kApplication;
    v.signals = {"operator"};
    v.evidence = "marked unhealthy" + (in.operator_reason.empty()
                                           ? std::string()
                                           : ": " + in.operator_reason);
    return v;
  }
  if (in.operator_healthy.has_value() && *in.operator_healthy) return v;
  if (in.in_grace) return v;

  if (in.check_system && in.system_check == CheckState::kImpaired) {
    v.unhealthy = true;
    v.kind = FailureKind::kSystem;
    v.signals.push_back("system_check");
    v.evidence = "system status check impaired";
  }
  bool stopped = (in.lifecycle == Lifecycle::kStopped ||
                  in.lifecycle == Lifecycle::kStopping) &&
                 !in.stopped_by_us;
  if (!v.unhealthy && in.check_instance &&
      (in.instance_check == CheckState::kImpaired || stopped)) {
    v.unhealthy = true;
    v.kind = FailureKind::kInstance;
    v.signals.push_back("instance_check");
    v.evidence = stopped
                     ? "instance is " + std::string(ToString(in.lifecycle)) +
                           " without Lifeline asking"
                     : "instance status check impaired";
  }
  if (in.check_application && !in.in_app_grace) {
    if (in.app == AppHealth::kFailed) {
      std::string source = in.app_source.empty() ? "heartbeat" : in.app_source;
      if (!v.unhealthy) {
        v.unhealthy = true;
        v.kind = FailureKind::kApplication;
        v.evidence = "application failed: " + in.app_reason;
      }
      v.signals.push_back(source);
    } else if (in.app == AppHealth::kUnknown && !v.unhealthy &&
               in.lifecycle == Lifecycle::kRunning) {
      // Past the grace period and never heard from since (re)start.
      v.unhealthy = true;
      v.kind = FailureKind::kApplication;
      v.signals.push_back("heartbeat");
      v.evidence = "no heartbeat since the instance (re)started";
    } else if (in.app == AppHealth::kSuspect && !v.unhealthy) {
      v.suspect = true;
      v.evidence = "heartbeats suspect: " + in.app_reason;
    }
  }
  return v;
}

bool ReadyForService(const HealthInputs& in) {
  if (in.lifecycle != Lifecycle::kRunning) return false;
  if (in.system_check == CheckState::kImpaired ||
      in.instance_check == CheckState::kImpaired) {
    return false;
  }
  if (in.check_application &&
      !(in.app == AppHealth::kOk || in.app == AppHealth::kDegraded)) {
    return false;
  }
  return true;
}

}  // namespace lifeline
