#include "api/views.h"

namespace lifeline {

using nlohmann::json;

std::string HealthOf(const InstanceRecord& rec) {
  if (rec.verdict.unhealthy) return "unhealthy";
  if (rec.verdict.suspect) return "suspect";
  return "healthy";
}

namespace {
json NullIfEmpty(const std::string& s) { return s.empty() ? json() : json(s); }
}  // namespace

json InstanceView(const InstanceRecord& rec, MonoTime now, bool detail) {
  const InstanceInfo& i = rec.info;
  json j = {
      {"id", i.id},
      {"group", i.group},
      {"zone", i.zone},
      {"lifecycle", std::string(ToString(i.lifecycle))},
      {"role", std::string(ToString(rec.role))},
      {"health", HealthOf(rec)},
      {"workflow", NullIfEmpty(rec.workflow)},
  };
  if (!detail) return j;
  j["host"] = i.host;
  j["launch_time"] = FormatWallTime(i.launch_time);
  j["age_seconds"] = ToSeconds(now - rec.launched_at);
  json app = {{"health", std::string(ToString(rec.app))},
              {"source", rec.app_source},
              {"reason", rec.app_reason},
              {"error_ratio", rec.error_ratio},
              {"latency_ms", rec.latency_ms}};
  if (rec.app_since != MonoTime{}) {
    app["for_seconds"] = ToSeconds(now - rec.app_since);
  }
  j["checks"] = {{"system", std::string(ToString(i.system_check))},
                 {"instance", std::string(ToString(i.instance_check))},
                 {"application", app}};
  j["operator"] =
      rec.operator_healthy
          ? json{{"status", *rec.operator_healthy ? "healthy" : "unhealthy"},
                 {"reason", rec.operator_reason}}
          : json();
  const HealthVerdict& v = rec.verdict;
  json verdict = {{"unhealthy", v.unhealthy},
                  {"suspect", v.suspect},
                  {"signals", v.signals},
                  {"evidence", v.evidence}};
  if (v.unhealthy || v.suspect) {
    verdict["failure"] = std::string(ToString(v.kind));
    if (rec.unhealthy_since != MonoTime{}) {
      verdict["for_seconds"] = ToSeconds(now - rec.unhealthy_since);
    }
  }
  j["verdict"] = verdict;
  if (rec.parked_until > now) {
    j["parked"] = {{"reason", rec.parked_reason},
                   {"for_seconds", ToSeconds(rec.parked_until - now)}};
  }
  json volumes = json::array();
  for (const auto& vol : i.volumes) {
    volumes.push_back({{"id", vol.id},
                       {"device", vol.device},
                       {"detachable", vol.detachable}});
  }
  j["volumes"] = volumes;
  j["addresses"] = i.addresses;
  j["tags"] = i.tags;
  return j;
}

json WorkflowView(const Workflow& wf, MonoTime now) {
  json j = {{"id", wf.id},
            {"kind", std::string(ToString(wf.kind))},
            {"group", wf.group},
            {"instance", NullIfEmpty(wf.instance)},
            {"zone", wf.zone},
            {"state", std::string(ToString(wf.state))},
            {"age_seconds", ToSeconds(now - wf.created)},
            {"in_state_seconds", ToSeconds(now - wf.state_since)},
            {"call_attempt", wf.call_attempt},
            {"approved", wf.approved},
            {"dry_run", wf.dry_run}};
  if (wf.kind == WorkflowKind::kRecovery) {
    j["failure"] = std::string(ToString(wf.failure));
    j["signals"] = wf.signals;
    j["evidence"] = wf.evidence;
    j["rung"] = wf.rung;
    j["action"] = std::string(ToString(wf.action));
  }
  if (!wf.replacement.empty()) {
    j["replacement"] = wf.replacement;
    j["replacement_zone"] = wf.replacement_zone;
  }
  if (!wf.last_defer_rule.empty()) j["deferred_by"] = wf.last_defer_rule;
  return j;
}

json EventView(const HistoryEvent& e) {
  json evidence = json::object();
  for (const auto& [k, v] : e.evidence) evidence[k] = v;
  return {{"seq", e.seq},
          {"time", FormatWallTime(e.at)},
          {"kind", std::string(ToString(e.kind))},
          {"type", e.type},
          {"group", e.group},
          {"zone", e.zone},
          {"instance", e.instance},
          {"rule", e.rule},
          {"message", e.message},
          {"evidence", evidence}};
}

json PlannedActionView(const PlannedAction& a) {
  return {{"group", a.group},   {"zone", a.zone},     {"instance", a.instance},
          {"action", a.action}, {"reason", a.reason}, {"verdict", a.verdict},
          {"rule", a.rule},     {"detail", a.detail}};
}

json GroupSummaryView(Controller& c, const std::string& name) {
  const GroupSpec* spec = c.group(name);
  if (!spec) return json();
  const std::set<std::string>& shifted = c.ShiftedZones(name);
  json zones = json::object();
  int active = 0, unhealthy = 0;
  for (const auto& [zone, n] : c.ZoneCountsOf(name)) {
    zones[zone] = {{"active", n.active},
                   {"unhealthy", n.unhealthy},
                   {"silent", n.silent},
                   {"app_ok", n.app_ok},
                   {"standby", n.standby},
                   {"launching", n.launching},
                   {"shifted", shifted.count(zone) > 0}};
    active += n.active;
    unhealthy += n.unhealthy;
  }
  for (const auto& zone : spec->zones) {
    if (!zones.contains(zone)) {
      zones[zone] = {{"active", 0},
                     {"unhealthy", 0},
                     {"silent", 0},
                     {"app_ok", 0},
                     {"standby", 0},
                     {"launching", 0},
                     {"shifted", shifted.count(zone) > 0}};
    }
  }
  return {{"name", name},
          {"desired", spec->desired},
          {"min", spec->min},
          {"max", spec->max},
          {"active", active},
          {"unhealthy", unhealthy},
          {"instances", c.GroupInstances(name).size()},
          {"in_recovery", c.InRecovery(name)},
          {"frozen", c.governor().group_frozen(name)},
          {"dry_run", spec->safety.dry_run},
          {"zones", zones},
          {"shifted_zones",
           json(std::vector<std::string>(shifted.begin(), shifted.end()))}};
}

json ShiftView(const ZonalShift& s) {
  json evidence = json::object();
  for (const auto& [k, v] : s.evidence) evidence[k] = v;
  json j = {{"id", s.id},
            {"group", s.group},
            {"away_from", s.away_from},
            {"source", std::string(ToString(s.source))},
            {"state", std::string(ToString(s.state))},
            {"comment", s.comment},
            {"started_by", s.started_by},
            {"started_at", FormatWallTime(s.started_at)},
            {"expires_at", FormatWallTime(s.expires_at)},
            {"validation_skipped", s.validation_skipped},
            {"evidence", evidence}};
  if (s.state != ZonalShiftState::kActive) {
    j["ended_at"] = FormatWallTime(s.ended_at);
    j["ended_by"] = s.ended_by;
    j["end_reason"] = s.end_reason;
  }
  return j;
}

}  // namespace lifeline
