#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <fstream>
#include <set>
#include <sstream>

namespace lifeline {

namespace {
constexpr std::array<std::pair<FaultKind, std::string_view>, 14> kKinds{{
    {FaultKind::kFailHost, "fail_host"},
    {FaultKind::kFailZone, "fail_zone"},
    {FaultKind::kCrash, "crash"},
    {FaultKind::kHang, "hang"},
    {FaultKind::kTerminateBehindBack, "terminate_behind_back"},
    {FaultKind::kCapacityShortage, "capacity_shortage"},
    {FaultKind::kDegradeZone, "degrade_zone"},
    {FaultKind::kApiThrottle, "api_throttle"},
    {FaultKind::kApiOutage, "api_outage"},
    {FaultKind::kPartition, "partition"},
    {FaultKind::kMassFalseFailure, "mass_false_failure"},
    {FaultKind::kStall, "stall"},
    {FaultKind::kCrashLifeline, "crash_lifeline"},
    {FaultKind::kFreeze, "freeze"},
}};

// Error helper: "file:line:col: key: message".
class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Status Error(const YAML::Node& n, const std::string& key,
               const std::string& msg) const {
    const YAML::Mark m = n.Mark();
    std::ostringstream s;
    s << file_ << ":" << m.line + 1 << ":" << m.column + 1 << ": " << key
      << ": " << msg;
    return InvalidArgument(s.str());
  }

  Status CheckKeys(const YAML::Node& map, const std::string& where,
                   const std::set<std::string>& allowed) const {
    if (!map.IsMap()) return Error(map, where, "expected a mapping");
    for (const auto& kv : map) {
      std::string k = kv.first.as<std::string>();
      if (!allowed.count(k)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return Error(kv.first, where.empty() ? k : where + "." + k,
                     "unknown key (expected one of: " + list + ")");
      }
    }
    return Status::Ok();
  }

  template <typename T>
  Status Get(const YAML::Node& map, const std::string& key,
             const std::string& where, T* out) const {
    YAML::Node n = map[key];
    if (!n) return Status::Ok();
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Error(n, where + key,
                   "expected " + TypeName<T>() + ", got '" +
                       (n.IsScalar() ? n.Scalar() : "a structure") + "'");
    }
    return Status::Ok();
  }

  Status GetDuration(const YAML::Node& map, const std::string& key,
                     const std::string& where, Duration* out) const {
    YAML::Node n = map[key];
    if (!n) return Status::Ok();
    if (!n.IsScalar() || !ParseDuration(n.Scalar(), out)) {
      return Error(
          n, where + key,
          "expected a duration like 500ms, 30s, 5m or 2h, got '" +
              (n.IsScalar() ? n.Scalar() : std::string("a structure")) + "'");
    }
    return Status::Ok();
  }

 private:
  template <typename T>
  static std::string TypeName() {
    if constexpr (std::is_same_v<T, bool>)
      return "true or false";
    else if constexpr (std::is_integral_v<T>)
      return "an integer";
    else if constexpr (std::is_floating_point_v<T>)
      return "a number";
    else
      return "a string";
  }
  std::string file_;
};

Status ParseGroup(const Parser& p, const YAML::Node& n,
                  const std::string& where, const Scenario& sc, GroupSpec* g) {
  LIFELINE_RETURN_IF_ERROR(p.CheckKeys(
      n, where.substr(0, where.size() - 1),
      {"name", "desired", "min", "max", "zones", "check_system",
       "check_instance", "check_application", "grace_period",
       "replacement_timeout", "impaired_zone_behavior", "safety", "ladder"}));
  g->zones = sc.zones;
  g->launch.image = "img-sim";
  g->launch.instance_type = "sim.small";
  LIFELINE_RETURN_IF_ERROR(p.Get(n, "name", where, &g->name));
  LIFELINE_RETURN_IF_ERROR(p.Get(n, "desired", where, &g->desired));
  g->max = g->desired * 2;
  LIFELINE_RETURN_IF_ERROR(p.Get(n, "min", where, &g->min));
  LIFELINE_RETURN_IF_ERROR(p.Get(n, "max", where, &g->max));
  LIFELINE_RETURN_IF_ERROR(p.Get(n, "zones", where, &g->zones));
  LIFELINE_RETURN_IF_ERROR(p.Get(n, "check_system", where, &g->check_system));
  LIFELINE_RETURN_IF_ERROR(
      p.Get(n, "check_instance", where, &g->check_instance));
  LIFELINE_RETURN_IF_ERROR(
      p.Get(n, "check_application", where, &g->check_application));
  LIFELINE_RETURN_IF_ERROR(
      p.GetDuration(n, "grace_period", where, &g->grace_period));
  LIFELINE_RETURN_IF_ERROR(
      p.GetDuration(n, "replacement_timeout", where, &g->replacement_timeout));
  if (YAML::Node b = n["impaired_zone_behavior"]) {
    if (!ParseImpairedZoneBehavior(b.as<std::string>(""),
                                   &g->impaired_zone_behavior)) {
      return p.Error(b, where + "impaired_zone_behavior",
                     "expected ReplaceUnhealthy or IgnoreUnhealthy");
    }
  }
  if (YAML::Node s = n["safety"]) {
    std::string w = where + "safety.";
    LIFELINE_RETURN_IF_ERROR(
        p.CheckKeys(s, where + "safety",
                    {"dry_run", "require_agreement", "actions_per_minute",
                     "burst", "max_in_recovery", "max_in_recovery_ratio",
                     "panic_ratio", "panic_exit_ratio"}));
    LIFELINE_RETURN_IF_ERROR(p.Get(s, "dry_run", w, &g->safety.dry_run));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(s, "require_agreement", w, &g->safety.require_agreement));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(s, "actions_per_minute", w, &g->safety.actions_per_minute));
    LIFELINE_RETURN_IF_ERROR(p.Get(s, "burst", w, &g->safety.burst));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(s, "max_in_recovery", w, &g->safety.max_in_recovery));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(s, "max_in_recovery_ratio", w, &g->safety.max_in_recovery_ratio));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(s, "panic_ratio", w, &g->safety.panic_ratio));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(s, "panic_exit_ratio", w, &g->safety.panic_exit_ratio));
  }
  if (YAML::Node l = n["ladder"]) {
    LIFELINE_RETURN_IF_ERROR(p.CheckKeys(
        l, where + "ladder", {"system", "instance", "application"}));
    for (const char* kind : {"system", "instance", "application"}) {
      YAML::Node rungs = l[kind];
      if (!rungs) continue;
      std::string w = where + "ladder." + kind;
      if (!rungs.IsSequence())
        return p.Error(rungs, w, "expected a list of rungs");
      std::vector<LadderRung> out;
      for (size_t i = 0; i < rungs.size(); ++i) {
        std::string rw = w + "[" + std::to_string(i) + "].";
        LIFELINE_RETURN_IF_ERROR(
            p.CheckKeys(rungs[i], rw.substr(0, rw.size() - 1),
                        {"action", "max_attempts", "window", "timeout"}));
        LadderRung r;
        std::string action = rungs[i]["action"].as<std::string>("");
        if (!ParseRecoveryAction(action, &r.action)) {
          return p.Error(rungs[i]["action"] ? rungs[i]["action"] : rungs[i],
                         rw + "action", "expected reboot, recover or replace");
        }
        LIFELINE_RETURN_IF_ERROR(
            p.Get(rungs[i], "max_attempts", rw, &r.max_attempts));
        LIFELINE_RETURN_IF_ERROR(
            p.GetDuration(rungs[i], "window", rw, &r.window));
        LIFELINE_RETURN_IF_ERROR(
            p.GetDuration(rungs[i], "timeout", rw, &r.timeout));
        out.push_back(r);
      }
      if (std::string(kind) == "system")
        g->ladder.system = out;
      else if (std::string(kind) == "instance")
        g->ladder.instance = out;
      else
        g->ladder.application = out;
    }
  }
  Status valid = g->Validate();
  if (!valid.ok())
    return p.Error(n, where.substr(0, where.size() - 1), valid.message());
  return Status::Ok();
}

}  // namespace

std::string_view ToString(FaultKind k) {
  for (const auto& [v, n] : kKinds) {
    if (v == k) return n;
  }
  return "unknown";
}

bool ParseFaultKind(std::string_view s, FaultKind* out) {
  for (const auto& [v, n] : kKinds) {
    if (n == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool IsObserverFault(FaultKind k) {
  return k == FaultKind::kPartition || k == FaultKind::kMassFalseFailure ||
         k == FaultKind::kStall;
}

Result<Scenario> ParseScenario(const std::string& text,
                               const std::string& file) {
  Parser p(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Scenario sc;
  try {
    LIFELINE_RETURN_IF_ERROR(p.CheckKeys(
        root, "",
        {"name", "seed", "duration", "zones", "hosts_per_zone", "zone_capacity",
         "groups", "safety", "faults", "invariants", "expect"}));
    LIFELINE_RETURN_IF_ERROR(p.Get(root, "name", "", &sc.name));
    LIFELINE_RETURN_IF_ERROR(p.Get(root, "seed", "", &sc.seed));
    LIFELINE_RETURN_IF_ERROR(p.GetDuration(root, "duration", "", &sc.duration));
    LIFELINE_RETURN_IF_ERROR(p.Get(root, "zones", "", &sc.zones));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(root, "hosts_per_zone", "", &sc.hosts_per_zone));
    LIFELINE_RETURN_IF_ERROR(
        p.Get(root, "zone_capacity", "", &sc.zone_capacity));
    if (YAML::Node s = root["safety"]) {
      LIFELINE_RETURN_IF_ERROR(p.CheckKeys(
          s, "safety",
          {"fleet_actions_per_minute", "fleet_burst", "zone_actions_per_minute",
           "zone_burst", "fleet_panic_ratio", "zone_panic_ratio",
           "cold_start_grace"}));
      LIFELINE_RETURN_IF_ERROR(p.Get(s, "fleet_actions_per_minute", "safety.",
                                     &sc.safety.fleet_actions_per_minute));
      LIFELINE_RETURN_IF_ERROR(
          p.Get(s, "fleet_burst", "safety.", &sc.safety.fleet_burst));
      LIFELINE_RETURN_IF_ERROR(p.Get(s, "zone_actions_per_minute", "safety.",
                                     &sc.safety.zone_actions_per_minute));
      LIFELINE_RETURN_IF_ERROR(
          p.Get(s, "zone_burst", "safety.", &sc.safety.zone_burst));
      LIFELINE_RETURN_IF_ERROR(p.Get(s, "fleet_panic_ratio", "safety.",
                                     &sc.safety.fleet_panic_ratio));
      LIFELINE_RETURN_IF_ERROR(
          p.Get(s, "zone_panic_ratio", "safety.", &sc.safety.zone_panic_ratio));
      LIFELINE_RETURN_IF_ERROR(p.GetDuration(s, "cold_start_grace", "safety.",
                                             &sc.safety.cold_start_grace));
    }
    YAML::Node groups = root["groups"];
    if (!groups || !groups.IsSequence() || groups.size() == 0) {
      return p.Error(groups ? groups : root, "groups",
                     "expected a non-empty list of groups");
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      GroupSpec g;
      LIFELINE_RETURN_IF_ERROR(ParseGroup(
          p, groups[i], "groups[" + std::to_string(i) + "].", sc, &g));
      sc.groups.push_back(std::move(g));
    }
    if (YAML::Node faults = root["faults"]; faults && !faults.IsNull()) {
      if (!faults.IsSequence())
        return p.Error(faults, "faults", "expected a list");
      for (size_t i = 0; i < faults.size(); ++i) {
        std::string w = "faults[" + std::to_string(i) + "].";
        const YAML::Node& f = faults[i];
        LIFELINE_RETURN_IF_ERROR(p.CheckKeys(
            f, w.substr(0, w.size() - 1),
            {"at", "kind", "zone", "count", "fraction", "rate", "duration"}));
        FaultSpec fs;
        LIFELINE_RETURN_IF_ERROR(p.GetDuration(f, "at", w, &fs.at));
        std::string kind = f["kind"].as<std::string>("");
        if (!ParseFaultKind(kind, &fs.kind)) {
          std::string list;
          for (const auto& [v, n] : kKinds)
            list += (list.empty() ? "" : ", ") + std::string(n);
          return p.Error(
              f["kind"] ? f["kind"] : f, w + "kind",
              "unknown fault '" + kind + "' (expected one of: " + list + ")");
        }
        LIFELINE_RETURN_IF_ERROR(p.Get(f, "zone", w, &fs.zone));
        LIFELINE_RETURN_IF_ERROR(p.Get(f, "count", w, &fs.count));
        LIFELINE_RETURN_IF_ERROR(p.Get(f, "fraction", w, &fs.fraction));
        LIFELINE_RETURN_IF_ERROR(p.Get(f, "rate", w, &fs.rate));
        LIFELINE_RETURN_IF_ERROR(p.GetDuration(f, "duration", w, &fs.duration));
        if (fs.at > sc.duration) {
          return p.Error(f["at"], w + "at",
                         "fault starts after the scenario ends (" +
                             FormatDuration(sc.duration) + ")");
        }
        bool needs_zone = fs.kind == FaultKind::kFailZone ||
                          fs.kind == FaultKind::kCapacityShortage ||
                          fs.kind == FaultKind::kDegradeZone;
        if (needs_zone && fs.zone.empty()) {
          return p.Error(f, w + "zone", "this fault needs a zone");
        }
        if (!fs.zone.empty() && std::find(sc.zones.begin(), sc.zones.end(),
                                          fs.zone) == sc.zones.end()) {
          return p.Error(f["zone"], w + "zone",
                         "unknown zone '" + fs.zone + "'");
        }
        sc.faults.push_back(fs);
      }
    }
    if (YAML::Node inv = root["invariants"]) {
      LIFELINE_RETURN_IF_ERROR(p.Get(root, "invariants", "", &sc.invariants));
      for (const auto& i : sc.invariants) {
        static const std::set<std::string> known = {"I1", "I2", "I3",
                                                    "I4", "I5", "I6"};
        if (!known.count(i))
          return p.Error(inv, "invariants", "unknown invariant '" + i + "'");
      }
    }
    if (YAML::Node e = root["expect"]) {
      LIFELINE_RETURN_IF_ERROR(
          p.CheckKeys(e, "expect",
                      {"capacity_restored_within", "max_destructive_actions"}));
      LIFELINE_RETURN_IF_ERROR(p.GetDuration(e, "capacity_restored_within",
                                             "expect.",
                                             &sc.capacity_restored_within));
      if (e["max_destructive_actions"]) {
        uint64_t max = 0;
        LIFELINE_RETURN_IF_ERROR(
            p.Get(e, "max_destructive_actions", "expect.", &max));
        sc.max_destructive_actions = max;
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return sc;
}

Result<Scenario> LoadScenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("scenario file " + path + " cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenario(ss.str(), path);
}

}  // namespace lifeline
