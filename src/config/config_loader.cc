#include "config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "config/sections.h"
#include "config/yaml_reader.h"

namespace lifeline {

using config_internal::kBool;
using config_internal::kDbl;
using config_internal::kDur;
using config_internal::kInt;
using config_internal::kStr;
using config_internal::kStrs;
using config_internal::kU64;
using config_internal::YamlReader;

namespace {

Status ParseDaemon(const YamlReader& r, const YAML::Node& n, DaemonSection* d) {
  const std::string p = "daemon";
  LIFELINE_RETURN_IF_ERROR(r.Map(n, p,
                                 {"state_dir", "log_format", "log_level",
                                  "systemd_notify", "stall_check_interval"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "state_dir", &d->state_dir, kStr));
  if (YAML::Node f = n["log_format"]; f.IsDefined()) {
    std::string s;
    LIFELINE_RETURN_IF_ERROR(r.ReadString(f, "daemon.log_format", &s));
    if (!ParseLogFormat(s, &d->log_format)) {
      return r.Error(f, "daemon.log_format",
                     "expected text or json, got \"" + s + "\"");
    }
  }
  if (YAML::Node l = n["log_level"]; l.IsDefined()) {
    LIFELINE_RETURN_IF_ERROR(
        r.ReadString(l, "daemon.log_level", &d->log_level));
    if (!IsLogLevel(d->log_level)) {
      return r.Error(l, "daemon.log_level",
                     "expected trace, debug, info, warn, error, critical or "
                     "off, got \"" +
                         d->log_level + "\"");
    }
  }
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "systemd_notify", &d->systemd_notify, kBool));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "stall_check_interval", &d->stall_check_interval, kDur));
  if (d->state_dir.empty()) {
    return r.Error(n["state_dir"], "daemon.state_dir", "must not be empty");
  }
  if (d->stall_check_interval <= Duration::zero()) {
    return r.Error(n["stall_check_interval"], "daemon.stall_check_interval",
                   "must be positive");
  }
  return Status::Ok();
}

Status ParseApi(const YamlReader& r, const YAML::Node& n, ApiSection* a) {
  const std::string p = "api";
  LIFELINE_RETURN_IF_ERROR(r.Map(
      n, p, {"listen", "tls_cert", "tls_key", "tokens_file", "loop_timeout"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "listen", &a->listen, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "tls_cert", &a->tls_cert, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "tls_key", &a->tls_key, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "tokens_file", &a->tokens_file, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "loop_timeout", &a->loop_timeout, kDur));
  if (a->tls_cert.empty() != a->tls_key.empty()) {
    return r.Error(n, p, "tls_cert and tls_key go together: give both or none");
  }
  if (!IsHostPort(a->listen)) {
    return r.Error(
        n["listen"], "api.listen",
        "expected host:port (port 0-65535), got \"" + a->listen + "\"");
  }
  return Status::Ok();
}

Status ParseHeartbeat(const YamlReader& r, const YAML::Node& n,
                      HeartbeatSection* h) {
  const std::string p = "heartbeat";
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p,
            {"listen", "advertise", "threads", "rcvbuf_bytes", "interval",
             "default_grace", "max_silence", "phi_suspect", "phi_failed",
             "clock_skew", "shards", "keys"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "listen", &h->listen, kStrs));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "advertise", &h->advertise, kStr));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "threads", &h->threads, kInt));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "rcvbuf_bytes", &h->rcvbuf_bytes, kInt));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "interval", &h->interval, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "default_grace", &h->default_grace, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "max_silence", &h->max_silence, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "phi_suspect", &h->phi_suspect, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "phi_failed", &h->phi_failed, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "clock_skew", &h->clock_skew, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "shards", &h->shards, kInt));
  if (h->listen.empty()) {
    return r.Error(n["listen"], "heartbeat.listen", "needs an address");
  }
  if (h->threads < 1 || h->shards < 1) {
    return r.Error(n, p, "threads and shards must be at least 1");
  }
  if (h->interval <= Duration::zero()) {
    return r.Error(n["interval"], "heartbeat.interval", "must be positive");
  }
  if (h->phi_failed <= h->phi_suspect) {
    return r.Error(n, p, "phi_failed must be above phi_suspect");
  }
  if (YAML::Node k = n["keys"]; k.IsDefined()) {
    std::map<std::string, std::string> files;
    LIFELINE_RETURN_IF_ERROR(r.ReadStringMap(k, "heartbeat.keys", &files));
    for (const auto& [id, file] : files) {
      uint32_t v = 0;
      auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
      if (ec != std::errc() || end != id.data() + id.size() || id.empty()) {
        return r.Error(k, "heartbeat.keys." + id,
                       "a key id is a decimal number, got \"" + id + "\"");
      }
      if (file.empty()) {
        return r.Error(k, "heartbeat.keys." + id, "needs a key file path");
      }
      h->keys[v] = file;
    }
  }
  return Status::Ok();
}

Status ParseSafetyConfig(const YamlReader& r, const YAML::Node& n,
                         SafetyConfig* s) {
  const std::string p = "safety";
  LIFELINE_RETURN_IF_ERROR(r.Map(
      n, p,
      {"fleet_actions_per_minute", "fleet_burst", "zone_actions_per_minute",
       "zone_burst", "fleet_panic_ratio", "fleet_panic_exit_ratio",
       "zone_panic_ratio", "zone_panic_exit_ratio", "panic_min_instances",
       "cold_start_grace", "stall_margin", "stall_threshold"}));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "fleet_actions_per_minute",
                                 &s->fleet_actions_per_minute, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "fleet_burst", &s->fleet_burst, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "zone_actions_per_minute",
                                 &s->zone_actions_per_minute, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "zone_burst", &s->zone_burst, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "fleet_panic_ratio", &s->fleet_panic_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "fleet_panic_exit_ratio", &s->fleet_panic_exit_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "zone_panic_ratio", &s->zone_panic_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "zone_panic_exit_ratio", &s->zone_panic_exit_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "panic_min_instances", &s->panic_min_instances, kInt));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "cold_start_grace", &s->cold_start_grace, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "stall_margin", &s->stall_margin, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "stall_threshold", &s->stall_threshold, kDur));
  for (auto [name, v] : {std::pair{"fleet_panic_ratio", s->fleet_panic_ratio},
                         std::pair{"zone_panic_ratio", s->zone_panic_ratio}}) {
    if (v <= 0 || v > 1) {
      return r.Error(n[name], std::string("safety.") + name,
                     "must be within (0, 1]");
    }
  }
  if (s->fleet_panic_exit_ratio > s->fleet_panic_ratio ||
      s->zone_panic_exit_ratio > s->zone_panic_ratio) {
    return r.Error(n, p,
                   "a panic exit ratio must not be above its panic ratio");
  }
  if (s->fleet_actions_per_minute <= 0 || s->zone_actions_per_minute <= 0 ||
      s->fleet_burst < 1 || s->zone_burst < 1) {
    return r.Error(n, p, "action rates must be positive and bursts at least 1");
  }
  return Status::Ok();
}

Status ParseController(const YamlReader& r, const YAML::Node& n,
                       ControllerConfig* c) {
  const std::string p = "controller";
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p,
            {"status_poll_interval", "reconcile_interval", "inventory_interval",
             "suspect_check_interval", "heartbeat_settle", "recovery_stable",
             "surge_after", "surge_hold", "max_in_flight_operations",
             "status_batch", "seed"}));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "status_poll_interval", &c->status_poll_interval, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "reconcile_interval", &c->reconcile_interval, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "inventory_interval", &c->inventory_interval, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "suspect_check_interval", &c->suspect_check_interval, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "heartbeat_settle", &c->heartbeat_settle, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "recovery_stable", &c->recovery_stable, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "surge_after", &c->surge_after, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "surge_hold", &c->surge_hold, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "max_in_flight_operations",
                                 &c->max_in_flight_operations, kInt));
  uint64_t batch = c->status_batch;
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "status_batch", &batch, kU64));
  c->status_batch = batch;
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "seed", &c->seed, kU64));
  if (c->max_in_flight_operations < 1 || c->status_batch < 1) {
    return r.Error(n, p,
                   "max_in_flight_operations and status_batch must be at "
                   "least 1");
  }
  if (c->reconcile_interval <= Duration::zero()) {
    return r.Error(n["reconcile_interval"], "controller.reconcile_interval",
                   "must be positive");
  }
  return Status::Ok();
}

Status ParseHistory(const YamlReader& r, const YAML::Node& n,
                    HistorySection* h) {
  const std::string p = "history";
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p, {"max_age", "max_count", "memory_capacity"}));
  if (YAML::Node a = n["max_age"]; a.IsDefined()) {
    if (a.IsNull() || (a.IsScalar() && a.Scalar() == "unlimited")) {
      h->max_age.reset();
    } else {
      Duration d;
      LIFELINE_RETURN_IF_ERROR(r.ReadDuration(a, "history.max_age", &d));
      h->max_age = d;
    }
  }
  if (YAML::Node c = n["max_count"]; c.IsDefined()) {
    uint64_t v = 0;
    LIFELINE_RETURN_IF_ERROR(r.ReadUint64(c, "history.max_count", &v));
    h->max_count = v;
  }
  uint64_t cap = h->memory_capacity;
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "memory_capacity", &cap, kU64));
  h->memory_capacity = cap;
  return Status::Ok();
}

Status ParseWebhooks(const YamlReader& r, const YAML::Node& n,
                     std::vector<WebhookConfig>* out) {
  const std::string p = "webhooks";
  LIFELINE_RETURN_IF_ERROR(r.Seq(n, p));
  for (size_t i = 0; i < n.size(); ++i) {
    std::string ip = YamlReader::Index(p, i);
    const YAML::Node w = n[i];
    LIFELINE_RETURN_IF_ERROR(
        r.Map(w, ip,
              {"url", "events", "secret_header", "secret_file",
               "signing_secret_file", "timeout", "max_attempts"}));
    WebhookConfig hook;
    LIFELINE_RETURN_IF_ERROR(r.Opt(w, ip, "url", &hook.url, kStr));
    LIFELINE_RETURN_IF_ERROR(r.Opt(w, ip, "events", &hook.events, kStrs));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, ip, "secret_header", &hook.secret_header, kStr));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, ip, "secret_file", &hook.secret_file, kStr));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, ip, "signing_secret_file", &hook.signing_secret_file, kStr));
    LIFELINE_RETURN_IF_ERROR(r.Opt(w, ip, "timeout", &hook.timeout, kDur));
    LIFELINE_RETURN_IF_ERROR(
        r.Opt(w, ip, "max_attempts", &hook.max_attempts, kInt));
    if (hook.timeout <= Duration::zero()) {
      return r.Error(w["timeout"], ip + ".timeout", "must be positive");
    }
    if (hook.max_attempts < 1 || hook.max_attempts > 100) {
      return r.Error(w["max_attempts"], ip + ".max_attempts",
                     "must be between 1 and 100");
    }
    if (hook.url.rfind("http://", 0) != 0 &&
        hook.url.rfind("https://", 0) != 0) {
      return r.Error(
          w["url"].IsDefined() ? w["url"] : w, ip + ".url",
          "expected an http:// or https:// URL, got \"" + hook.url + "\"");
    }
    if (hook.secret_header.empty() != hook.secret_file.empty()) {
      return r.Error(w, ip,
                     "secret_header and secret_file go together: give both "
                     "or none");
    }
    out->push_back(std::move(hook));
  }
  return Status::Ok();
}

Status ParseAutoshift(const YamlReader& r, const YAML::Node& n,
                      AutoshiftSection* a) {
  const std::string p = "autoshift";
  LIFELINE_RETURN_IF_ERROR(
      r.Map(n, p,
            {"evaluate_every", "silence_sustain", "load_sustain", "hold_down",
             "min_instances_per_zone", "silent_ratio", "error_ratio",
             "practice_check_every"}));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "evaluate_every", &a->evaluate_every, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "silence_sustain", &a->silence_sustain, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "load_sustain", &a->load_sustain, kDur));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "hold_down", &a->hold_down, kDur));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "min_instances_per_zone", &a->min_instances_per_zone, kInt));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "silent_ratio", &a->silent_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(r.Opt(n, p, "error_ratio", &a->error_ratio, kDbl));
  LIFELINE_RETURN_IF_ERROR(
      r.Opt(n, p, "practice_check_every", &a->practice_check_every, kDur));
  if (a->evaluate_every <= Duration::zero() ||
      a->practice_check_every <= Duration::zero()) {
    return r.Error(n, p,
                   "evaluate_every and practice_check_every must be positive");
  }
  for (auto [name, v] : {std::pair{"silent_ratio", a->silent_ratio},
                         std::pair{"error_ratio", a->error_ratio}}) {
    if (v <= 0 || v > 1) {
      return r.Error(n[name], std::string("autoshift.") + name,
                     "must be within (0, 1]");
    }
  }
  if (a->min_instances_per_zone < 1) {
    return r.Error(n["min_instances_per_zone"],
                   "autoshift.min_instances_per_zone", "must be at least 1");
  }
  return Status::Ok();
}

// Checks that need the whole file: group names, zones of the provider,
// heartbeat keys of application-checked groups.
Status CrossCheck(const YamlReader& r, const YAML::Node& groups,
                  const DaemonConfig& c) {
  std::set<std::string> names;
  std::map<std::string, std::string> key_owner;
  for (size_t i = 0; i < c.groups.size(); ++i) {
    const GroupSpec& g = c.groups[i];
    const YAML::Node at = groups[i];
    std::string p = YamlReader::Index("groups", i);
    Status valid = g.Validate();
    if (!valid.ok()) return r.Error(at, p, valid.message());
    if (!names.insert(g.name).second) {
      return r.Error(at, p + ".name",
                     "group \"" + g.name + "\" is defined twice");
    }
    if (g.check_application) {
      if (g.heartbeat_key_id.empty()) {
        return r.Error(at, p + ".heartbeat_key_id",
                       "group " + g.name +
                           " checks application health, so it needs a "
                           "heartbeat key id (one of heartbeat.keys)");
      }
      uint32_t id = 0;
      const std::string& s = g.heartbeat_key_id;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
      if (ec != std::errc() || end != s.data() + s.size() ||
          !c.heartbeat.keys.count(id)) {
        return r.Error(at, p + ".heartbeat_key_id",
                       "key id \"" + s + "\" is not in heartbeat.keys");
      }
      auto [it, fresh] = key_owner.emplace(s, g.name);
      if (!fresh) {
        return r.Error(at, p + ".heartbeat_key_id",
                       "key id " + s + " already belongs to group " +
                           it->second + "; each group needs its own key");
      }
    }
    if (c.provider.kind == ProviderKind::kProcess && g.launch.command.empty()) {
      return r.Error(at, p + ".launch.command",
                     "the process provider needs a command to run");
    }
    if (c.provider.kind == ProviderKind::kProcess) {
      // Device "data" is the instance's own data dir
      // (docs/process-provider.md): it is copied to a replacement, never moved.
      for (size_t v = 0; v < g.launch.volumes.size(); ++v) {
        const std::string& dev = g.launch.volumes[v].device;
        const std::string name = dev.substr(dev.find_last_of('/') + 1);
        if (name == "data" && g.launch.volumes[v].detachable) {
          return r.Error(
              at, p + ".launch.volumes[" + std::to_string(v) + "].detachable",
              "device 'data' is the instance's data dir; it cannot "
              "be detached (use snapshot_on_replace to copy it to "
              "a replacement)");
        }
      }
    }
    const std::vector<std::string>* offered = nullptr;
    std::vector<std::string> sim_zones;
    if (c.provider.kind == ProviderKind::kProcess) {
      offered = &c.provider.process.zones;
    } else if (c.provider.kind == ProviderKind::kSim) {
      for (const auto& z : c.provider.sim.config.zones) {
        sim_zones.push_back(z.name);
      }
      offered = &sim_zones;
    }
    if (offered != nullptr) {
      for (const auto& z : g.zones) {
        bool ok = false;
        for (const auto& o : *offered) ok = ok || o == z;
        if (!ok) {
          return r.Error(at, p + ".zones",
                         "zone \"" + z + "\" is not offered by the " +
                             std::string(ToString(c.provider.kind)) +
                             " provider");
        }
      }
    }
  }
  for (const auto& req : c.provider.sim.populate) {
    if (!names.count(req.group)) {
      return r.Error(YAML::Node(), "provider.sim.populate",
                     "group \"" + req.group + "\" is not defined in groups");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<DaemonConfig> ParseConfig(std::string_view yaml_text,
                                 const std::string& file_name) {
  YamlReader r(file_name);
  YAML::Node loaded;
  try {
    loaded = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return r.ErrorAtMark(e.mark, "", "not valid YAML: " + e.msg);
  }
  // Looked up through a const reference only: yaml-cpp's non-const
  // operator[] would add the keys it is asked about.
  const YAML::Node& root = loaded;
  DaemonConfig c;
  c.source = file_name;
  try {
    LIFELINE_RETURN_IF_ERROR(
        r.Map(root, "",
              {"daemon", "api", "provider", "heartbeat", "safety", "controller",
               "history", "webhooks", "autoshift", "groups"}));
    if (root["daemon"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(ParseDaemon(r, root["daemon"], &c.daemon));
    }
    if (root["api"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(ParseApi(r, root["api"], &c.api));
    }
    if (root["provider"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          config_internal::ParseProvider(r, root["provider"], &c.provider));
    }
    if (root["heartbeat"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          ParseHeartbeat(r, root["heartbeat"], &c.heartbeat));
    }
    if (root["safety"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          ParseSafetyConfig(r, root["safety"], &c.controller.safety));
    }
    if (root["controller"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          ParseController(r, root["controller"], &c.controller));
    }
    if (root["history"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(ParseHistory(r, root["history"], &c.history));
    }
    if (root["webhooks"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(ParseWebhooks(r, root["webhooks"], &c.webhooks));
    }
    if (root["autoshift"].IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(
          ParseAutoshift(r, root["autoshift"], &c.autoshift));
    }
    const YAML::Node groups = root["groups"];
    if (groups.IsDefined()) {
      LIFELINE_RETURN_IF_ERROR(r.Seq(groups, "groups"));
      for (size_t i = 0; i < groups.size(); ++i) {
        GroupSpec g;
        LIFELINE_RETURN_IF_ERROR(config_internal::ParseGroup(
            r, groups[i], YamlReader::Index("groups", i), &g));
        c.groups.push_back(std::move(g));
      }
    }
    LIFELINE_RETURN_IF_ERROR(CrossCheck(r, groups, c));
  } catch (const YAML::Exception& e) {
    return r.ErrorAtMark(e.mark, "", e.msg);
  }
  return c;
}

Result<DaemonConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("config: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return NotFound("config: error reading " + path);
  return ParseConfig(ss.str(), path);
}

}  // namespace lifeline
