// provider: {kind, sim, process, ec2} -> ProviderSection.
#include <yaml-cpp/yaml.h>

#include <array>
#include <utility>

#include "config/sections.h"

namespace lifeline::config_internal {

namespace {

using R = YamlReader;

constexpr std::array<std::pair<SimOp, const char*>, kSimOpCount> kSimOps{{
    {SimOp::kListZones, "list_zones"},
    {SimOp::kLaunch, "launch"},
    {SimOp::kBoot, "boot"},
    {SimOp::kTerminate, "terminate"},
    {SimOp::kReboot, "reboot"},
    {SimOp::kStop, "stop"},
    {SimOp::kStart, "start"},
    {SimOp::kRecover, "recover"},
    {SimOp::kDescribeStatus, "describe_status"},
    {SimOp::kListInstances, "list_instances"},
    {SimOp::kSnapshotVolumes, "snapshot_volumes"},
    {SimOp::kAttachVolume, "attach_volume"},
    {SimOp::kDetachVolume, "detach_volume"},
    {SimOp::kMoveAddress, "move_address"},
}};

// A latency is "2s" (no jitter) or {base: 2s, jitter: 500ms}.
Status ParseLatency(const R& r, const YAML::Node& n, const std::string& p,
                    SimLatency* out) {
  if (n.IsScalar()) {
    out->jitter = Duration::zero();
    return r.ReadDuration(n, p, &out->base);
  }
  LIFELINE_RETURN_IF_ERROR(r.Map(n, p, {"base", "jitter"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "base", &out->base, kDur));
  return r.Opt(n, p, "jitter", &out->jitter, kDur);
}

Status ParseSim(const R& r, const YAML::Node& n, const std::string& p,
                SimSection* s) {
  LIFELINE_RETURN_IF_ERROR(r.Map(
      n, p, {"seed", "zones", "latency", "terminated_visibility", "populate"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "seed", &s->seed, kU64));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "terminated_visibility",
                                 &s->config.terminated_visibility, kDur));
  if (YAML::Node z = n["zones"]; z.IsDefined()) {
    std::string zp = R::Join(p, "zones");
    LIFELINE_RETURN_IF_ERROR(r.Seq(z, zp));
    std::vector<SimZoneConfig> zones;
    for (size_t i = 0; i < z.size(); ++i) {
      std::string ip = R::Index(zp, i);
      SimZoneConfig zc;
      if (z[i].IsScalar()) {  // just a name
        zc.name = z[i].Scalar();
        zones.push_back(zc);
        continue;
      }
      LIFELINE_RETURN_IF_ERROR(
          r.Map(z[i], ip, {"name", "hosts", "instances_per_host", "capacity"}));
      LIFELINE_RETURN_IF_ERROR(r.Opt(z[i], ip, "name", &zc.name, kStr));
      LIFELINE_RETURN_IF_ERROR(r.Opt(z[i], ip, "hosts", &zc.hosts, kInt));
      LIFELINE_RETURN_IF_ERROR(
          r.Opt(z[i], ip, "instances_per_host", &zc.instances_per_host, kInt));
      uint64_t cap = 0;
      LIFELINE_RETURN_IF_ERROR(r.Opt(z[i], ip, "capacity", &cap, kU64));
      zc.zone_capacity = static_cast<int64_t>(cap);
      if (zc.name.empty()) {
        return r.Error(z[i], ip + ".name", "every zone needs a name");
      }
      zones.push_back(zc);
    }
    s->config.zones = std::move(zones);
  }
  if (YAML::Node l = n["latency"]; l.IsDefined()) {
    std::string lp = R::Join(p, "latency");
    LIFELINE_RETURN_IF_ERROR(r.Map(
        l, lp,
        {"list_zones", "launch", "boot", "terminate", "reboot", "stop", "start",
         "recover", "describe_status", "list_instances", "snapshot_volumes",
         "attach_volume", "detach_volume", "move_address"}));
    for (const auto& [op, key] : kSimOps) {
      if (YAML::Node v = l[key]; v.IsDefined()) {
        LIFELINE_RETURN_IF_ERROR(
            ParseLatency(r, v, R::Join(lp, key), &s->config.latency_of(op)));
      }
    }
  }
  if (YAML::Node pop = n["populate"]; pop.IsDefined()) {
    std::string pp = R::Join(p, "populate");
    LIFELINE_RETURN_IF_ERROR(r.Seq(pop, pp));
    for (size_t i = 0; i < pop.size(); ++i) {
      std::string ip = R::Index(pp, i);
      LIFELINE_RETURN_IF_ERROR(r.Map(pop[i], ip, {"group", "count", "zones"}));
      SimPopulateRequest req;
      uint64_t count = 0;
      LIFELINE_RETURN_IF_ERROR(r.Opt(pop[i], ip, "group", &req.group, kStr));
      LIFELINE_RETURN_IF_ERROR(r.Opt(pop[i], ip, "count", &count, kU64));
      LIFELINE_RETURN_IF_ERROR(r.Opt(pop[i], ip, "zones", &req.zones, kStrs));
      if (req.group.empty()) {
        return r.Error(pop[i], ip + ".group", "populate needs a group");
      }
      req.count = count;
      s->populate.push_back(std::move(req));
    }
  }
  Status valid = ValidateSimConfig(s->config);
  if (!valid.ok()) return r.Error(n, p, valid.message());
  return Status::Ok();
}

Status ParseProcess(const R& r, const YAML::Node& n, const std::string& p,
                    ProcessSection* s) {
  LIFELINE_RETURN_IF_ERROR(r.Map(
      n, p,
      {"state_dir", "zones", "terminate_grace", "kill_timeout",
       "keep_data_on_terminate", "default_path", "log_max_bytes", "log_keep"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "state_dir", &s->state_dir, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "zones", &s->zones, kStrs));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "terminate_grace", &s->terminate_grace, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "kill_timeout", &s->kill_timeout, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "keep_data_on_terminate", &s->keep_data_on_terminate, kBool));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "default_path", &s->default_path, kStr));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "log_max_bytes", &s->log_max_bytes, kU64));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "log_keep", &s->log_keep, kInt));
  if (s->log_max_bytes < 4096) {
    return r.Error(n["log_max_bytes"], R::Join(p, "log_max_bytes"),
                   "must be at least 4096 (bytes)");
  }
  if (s->log_keep < 1 || s->log_keep > 100) {
    return r.Error(n["log_keep"], R::Join(p, "log_keep"),
                   "must be between 1 and 100 (rotated files kept)");
  }
  if (s->zones.empty()) {
    return r.Error(n["zones"], R::Join(p, "zones"), "needs at least one zone");
  }
  return Status::Ok();
}

Status ParseEc2(const R& r, const YAML::Node& n, const std::string& p,
                Ec2Section* s) {
  LIFELINE_RETURN_IF_ERROR(r.Map(
      n, p,
      {"region", "endpoint", "profile", "max_in_flight", "request_timeout"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "region", &s->region, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "endpoint", &s->endpoint, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "profile", &s->profile, kStr));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "max_in_flight", &s->max_in_flight, kInt));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "request_timeout", &s->request_timeout, kDur));
  if (s->max_in_flight < 1) {
    return r.Error(n["max_in_flight"], R::Join(p, "max_in_flight"),
                   "must be at least 1");
  }
  return Status::Ok();
}

}  // namespace

Status ParseProvider(const R& r, const YAML::Node& n, ProviderSection* out) {
  const std::string p = "provider";
  LIFELINE_RETURN_IF_ERROR(r.Map(n, p, {"kind", "sim", "process", "ec2"}));
  if (YAML::Node k = n["kind"]; k.IsDefined()) {
    std::string kind;
    LIFELINE_RETURN_IF_ERROR(r.ReadString(k, "provider.kind", &kind));
    if (!ParseProviderKind(kind, &out->kind)) {
      return r.Error(k, "provider.kind",
                     "expected process, sim or ec2, got \"" + kind + "\"");
    }
  }
  if (YAML::Node s = n["sim"]; s.IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(ParseSim(r, s, "provider.sim", &out->sim));
  }
  if (YAML::Node s = n["process"]; s.IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(
        ParseProcess(r, s, "provider.process", &out->process));
  }
  if (YAML::Node s = n["ec2"]; s.IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(ParseEc2(r, s, "provider.ec2", &out->ec2));
  }
  return Status::Ok();
}

}  // namespace lifeline::config_internal
