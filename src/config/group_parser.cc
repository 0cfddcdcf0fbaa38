// groups[i] -> GroupSpec.
#include <yaml-cpp/yaml.h>

#include "config/sections.h"

namespace lifeline::config_internal {

namespace {

using R = YamlReader;

Status ParseVolumes(const R& r, const YAML::Node& n, const std::string& path,
                    std::vector<VolumeSpec>* out) {
  LIFELINE_RETURN_IF_ERROR(r.Seq(n, path));
  std::vector<VolumeSpec> v;
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node vn = n[i];
    std::string p = R::Index(path, i);
    LIFELINE_RETURN_IF_ERROR(r.Map(
        vn, p, {"device", "size_gib", "detachable", "snapshot_on_replace"}));
    VolumeSpec vol;
    LIFELINE_RETURN_IF_ERROR(r.Opt(vn, p, "device", &vol.device, kStr));
    LIFELINE_RETURN_IF_ERROR(r.Opt(vn, p, "size_gib", &vol.size_gib, kInt));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(vn, p, "detachable", &vol.detachable, kBool));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(vn, p, "snapshot_on_replace", &vol.snapshot_on_replace, kBool));
    if (vol.device.empty()) {
      return r.Error(vn, p + ".device", "every volume needs a device");
    }
    v.push_back(vol);
  }
  *out = std::move(v);
  return Status::Ok();
}

Status ParseLaunch(const R& r, const YAML::Node& n, const std::string& p,
                   LaunchSpec* out) {
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p,
            {"image", "instance_type", "security_groups", "subnets", "tags",
             "user_data", "volumes", "key_name", "command", "args", "env"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "image", &out->image, kStr));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "instance_type", &out->instance_type, kStr));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "security_groups", &out->security_groups, kStrs));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "subnets", &out->subnet_by_zone, kStrMap));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "tags", &out->tags, kStrMap));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "user_data", &out->user_data, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "key_name", &out->key_name, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "command", &out->command, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "args", &out->args, kStrs));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "env", &out->env, kStrMap));
  if (n["volumes"].IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(
        ParseVolumes(r, n["volumes"], R::Join(p, "volumes"), &out->volumes));
  }
  return Status::Ok();
}

Status ParseRungs(const R& r, const YAML::Node& n, const std::string& path,
                  std::vector<LadderRung>* out) {
  LIFELINE_RETURN_IF_ERROR(r.Seq(n, path));
  std::vector<LadderRung> rungs;
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node rn = n[i];
    std::string p = R::Index(path, i);
    LIFELINE_RETURN_IF_ERROR(
        r.Map(rn, p, {"action", "max_attempts", "window", "timeout"}));
    LadderRung rung;
    std::string action;
    if (!rn["action"].IsDefined()) {
      return r.Error(rn, p + ".action",
                     "every rung needs an action (reboot, recover, replace)");
    }
    LIFELINE_RETURN_IF_ERROR(
        r.ReadString(rn["action"], p + ".action", &action));
    if (!ParseRecoveryAction(action, &rung.action)) {
      return r.Error(
          rn["action"], p + ".action",
          "expected reboot, recover or replace, got \"" + action + "\"");
    }
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(rn, p, "max_attempts", &rung.max_attempts, kInt));
    LIFELINE_RETURN_IF_ERROR(r.Opt(rn, p, "window", &rung.window, kDur));
    LIFELINE_RETURN_IF_ERROR(r.Opt(rn, p, "timeout", &rung.timeout, kDur));
    rungs.push_back(rung);
  }
  *out = std::move(rungs);
  return Status::Ok();
}

Status ParseSafety(const R& r, const YAML::Node& n, const std::string& p,
                   GroupSafety* s) {
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p,
            {"actions_per_minute", "burst", "max_in_recovery",
             "max_in_recovery_ratio", "panic_ratio", "panic_exit_ratio",
             "require_agreement", "dry_run"}));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "actions_per_minute", &s->actions_per_minute, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "burst", &s->burst, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "max_in_recovery", &s->max_in_recovery, kInt));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "max_in_recovery_ratio", &s->max_in_recovery_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "panic_ratio", &s->panic_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "panic_exit_ratio", &s->panic_exit_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "require_agreement", &s->require_agreement, kBool));
  return r.Opt(n, p, "dry_run", &s->dry_run, kBool);
}

Status ParseSmallSections(const R& r, const YAML::Node& n,
                          const std::string& path, GroupSpec* g) {
  if (YAML::Node c = n["checks"]; c.IsDefined()) {
    std::string p = R::Join(path, "checks");
    LIFELINE_RETURN_IF_ERROR(
        r.Map(c, p, {"system", "instance", "application"}));
    LIFELINE_RETURN_IF_ERROR(r.Opt(c, p, "system", &g->check_system, kBool));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(c, p, "instance", &g->check_instance, kBool));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(c, p, "application", &g->check_application, kBool));
  }
  if (YAML::Node l = n["ladder"]; l.IsDefined()) {
    std::string p = R::Join(path, "ladder");
    LIFELINE_RETURN_IF_ERROR(
        r.Map(l, p, {"system", "instance", "application"}));
    if (l["system"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          ParseRungs(r, l["system"], p + ".system", &g->ladder.system));
    }
    if (l["instance"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          ParseRungs(r, l["instance"], p + ".instance", &g->ladder.instance));
    }
    if (l["application"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(ParseRungs(
          r, l["application"], p + ".application", &g->ladder.application));
    }
  }
  if (YAML::Node b = n["backoff"]; b.IsDefined()) {
    std::string p = R::Join(path, "backoff");
    LIFELINE_RETURN_IF_ERROR(
        r.Map(b, p, {"initial", "max", "multiplier", "jitter"}));
    LIFELINE_RETURN_IF_ERROR(r.Opt(b, p, "initial", &g->backoff.initial, kDur));
    LIFELINE_RETURN_IF_ERROR(r.Opt(b, p, "max", &g->backoff.max, kDur));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(b, p, "multiplier", &g->backoff.multiplier, kDbl));
    LIFELINE_RETURN_IF_ERROR(r.Opt(b, p, "jitter", &g->backoff.jitter, kDbl));
  }
  if (YAML::Node s = n["safety"]; s.IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(
        ParseSafety(r, s, R::Join(path, "safety"), &g->safety));
  }
  if (YAML::Node w = n["warm_pool"]; w.IsDefined()) {
    std::string p = R::Join(path, "warm_pool");
    LIFELINE_RETURN_IF_ERROR(
        r.Map(w, p, {"min_size", "max_prepared", "stopped"}));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, p, "min_size", &g->warm_pool.min_size, kInt));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, p, "max_prepared", &g->warm_pool.max_prepared, kInt));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, p, "stopped", &g->warm_pool.stopped, kBool));
  }
  if (YAML::Node a = n["autoshift"]; a.IsDefined()) {
    std::string p = R::Join(path, "autoshift");
    LIFELINE_RETURN_IF_ERROR(
        r.Map(a, p, {"enabled", "max_duration", "allow_without_capacity"}));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(a, p, "enabled", &g->autoshift.enabled, kBool));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(a, p, "max_duration", &g->autoshift.max_duration, kDur));
    LIFELINE_RETURN_IF_ERROR(r.Opt(a, p, "allow_without_capacity",
                                   &g->autoshift.allow_without_capacity,
                                   kBool));
  }
  if (YAML::Node rb = n["rebalance"]; rb.IsDefined()) {
    std::string p = R::Join(path, "rebalance");
    LIFELINE_RETURN_IF_ERROR(
        r.Map(rb, p, {"step_ratio", "min_healthy_per_zone"}));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(rb, p, "step_ratio", &g->rebalance_step_ratio, kDbl));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(rb, p, "min_healthy_per_zone", &g->min_healthy_per_zone, kInt));
  }
  return Status::Ok();
}

}  // namespace

Status ParseGroup(const R& r, const YAML::Node& n, const std::string& p,
                  GroupSpec* g) {
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p,
            {"name", "desired", "min", "max", "zones", "addresses", "launch",
             "grace_period", "checks", "heartbeat_key_id", "ladder", "backoff",
             "replacement_timeout", "call_timeout", "safety",
             "impaired_zone_behavior", "warm_pool", "autoshift", "rebalance"}));
  if (n.IsNull() || !n["name"].IsDefined()) {
    return r.Error(n, p + ".name", "every group needs a name");
  }
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "name", &g->name, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "desired", &g->desired, kInt));
  // min/max default to the desired count when not given.
  g->min = 0;
  g->max = g->desired;
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "min", &g->min, kInt));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "max", &g->max, kInt));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "zones", &g->zones, kStrs));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "addresses", &g->addresses, kStrs));
  if (YAML::Node l = n["launch"]; l.IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(
        ParseLaunch(r, l, R::Join(p, "launch"), &g->launch));
  }
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "grace_period", &g->grace_period, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "heartbeat_key_id", &g->heartbeat_key_id, kStr));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "replacement_timeout", &g->replacement_timeout, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "call_timeout", &g->call_timeout, kDur));
  if (YAML::Node iz = n["impaired_zone_behavior"]; iz.IsDefined()) {
    std::string s;
    std::string ip = R::Join(p, "impaired_zone_behavior");
    LIFELINE_RETURN_IF_ERROR(r.ReadString(iz, ip, &s));
    if (!ParseImpairedZoneBehavior(s, &g->impaired_zone_behavior)) {
      return r.Error(
          iz, ip,
          "expected ReplaceUnhealthy or IgnoreUnhealthy, got \"" + s + "\"");
    }
  }
  return ParseSmallSections(r, n, p, g);
}

}  // namespace lifeline::config_internal
