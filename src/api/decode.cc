#include "api/decode.h"

#include <cctype>
#include <string>

#include "api/json_reader.h"

namespace lifeline {

using nlohmann::json;

namespace {

constexpr int64_t kMaxCount = 1000000;
constexpr Duration kMaxSpecDuration = std::chrono::hours(24 * 30);
const Duration kZero = Duration::zero();

Status DecodeVolume(const json& j, const std::string& path, VolumeSpec* v) {
  if (!j.is_object()) {
    return InvalidArgument("field " + path + ": expected an object, got " +
                           JsonTypeName(j));
  }
  JsonReader r(j, path);
  LIFELINE_RETURN_IF_ERROR(r.Require("device"));
  LIFELINE_RETURN_IF_ERROR(r.String("device", &v->device, 256));
  LIFELINE_RETURN_IF_ERROR(r.Int("size_gib", &v->size_gib, 1, 65536));
  LIFELINE_RETURN_IF_ERROR(r.Bool("detachable", &v->detachable));
  LIFELINE_RETURN_IF_ERROR(
      r.Bool("snapshot_on_replace", &v->snapshot_on_replace));
  return r.Finish();
}

Status DecodeLaunch(const json& j, LaunchSpec* l) {
  JsonReader r(j, "launch");
  LIFELINE_RETURN_IF_ERROR(r.String("image", &l->image));
  LIFELINE_RETURN_IF_ERROR(r.String("instance_type", &l->instance_type));
  LIFELINE_RETURN_IF_ERROR(
      r.StringList("security_groups", &l->security_groups));
  LIFELINE_RETURN_IF_ERROR(r.StringMap("subnet_by_zone", &l->subnet_by_zone));
  LIFELINE_RETURN_IF_ERROR(r.StringMap("tags", &l->tags));
  LIFELINE_RETURN_IF_ERROR(r.String("user_data", &l->user_data, 64 * 1024));
  LIFELINE_RETURN_IF_ERROR(r.String("key_name", &l->key_name));
  LIFELINE_RETURN_IF_ERROR(r.String("command", &l->command));
  LIFELINE_RETURN_IF_ERROR(r.StringList("args", &l->args));
  LIFELINE_RETURN_IF_ERROR(r.StringMap("env", &l->env));
  const json* volumes = nullptr;
  LIFELINE_RETURN_IF_ERROR(r.Array("volumes", &volumes));
  if (volumes) {
    l->volumes.clear();
    for (size_t i = 0; i < volumes->size(); ++i) {
      VolumeSpec v;
      LIFELINE_RETURN_IF_ERROR(DecodeVolume(
          (*volumes)[i], "launch.volumes[" + std::to_string(i) + "]", &v));
      l->volumes.push_back(v);
    }
  }
  return r.Finish();
}

Status DecodeRungs(const json& j, const std::string& path,
                   std::vector<LadderRung>* out) {
  if (!j.is_array()) {
    return InvalidArgument("field " + path + ": expected an array, got " +
                           JsonTypeName(j));
  }
  std::vector<LadderRung> rungs;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string where = path + "[" + std::to_string(i) + "]";
    const json& e = j[i];
    if (!e.is_object()) {
      return InvalidArgument("field " + where + ": expected an object, got " +
                             JsonTypeName(e));
    }
    JsonReader r(e, where);
    LadderRung rung;
    std::string action;
    LIFELINE_RETURN_IF_ERROR(r.Require("action"));
    LIFELINE_RETURN_IF_ERROR(r.String("action", &action, 64));
    if (!ParseRecoveryAction(action, &rung.action)) {
      return InvalidArgument("field " + r.Field("action") + ": \"" + action +
                             "\" is not one of reboot, recover, replace");
    }
    LIFELINE_RETURN_IF_ERROR(
        r.Int("max_attempts", &rung.max_attempts, 1, 1000));
    LIFELINE_RETURN_IF_ERROR(
        r.Dur("window", &rung.window, kZero, kMaxSpecDuration));
    LIFELINE_RETURN_IF_ERROR(
        r.Dur("timeout", &rung.timeout, kZero, kMaxSpecDuration));
    LIFELINE_RETURN_IF_ERROR(r.Finish());
    rungs.push_back(rung);
  }
  *out = std::move(rungs);
  return Status::Ok();
}

Status DecodeLadder(const json& j, RecoveryLadder* l) {
  JsonReader r(j, "ladder");
  const std::pair<const char*, std::vector<LadderRung>*> kinds[] = {
      {"system", &l->system},
      {"instance", &l->instance},
      {"application", &l->application}};
  for (const auto& [key, rungs] : kinds) {
    const json* a = nullptr;
    LIFELINE_RETURN_IF_ERROR(r.Array(key, &a));
    if (a) LIFELINE_RETURN_IF_ERROR(DecodeRungs(*a, r.Field(key), rungs));
  }
  return r.Finish();
}

Status DecodeBackoff(const json& j, BackoffPolicy* b) {
  JsonReader r(j, "backoff");
  LIFELINE_RETURN_IF_ERROR(
      r.Dur("initial", &b->initial, kZero, kMaxSpecDuration));
  LIFELINE_RETURN_IF_ERROR(r.Dur("max", &b->max, kZero, kMaxSpecDuration));
  LIFELINE_RETURN_IF_ERROR(r.Double("multiplier", &b->multiplier, 1, 100));
  LIFELINE_RETURN_IF_ERROR(r.Double("jitter", &b->jitter, 0, 1));
  return r.Finish();
}

Status DecodeSafety(const json& j, GroupSafety* s) {
  JsonReader r(j, "safety");
  LIFELINE_RETURN_IF_ERROR(
      r.Double("actions_per_minute", &s->actions_per_minute, 0, 1e6));
  LIFELINE_RETURN_IF_ERROR(r.Double("burst", &s->burst, 0, 1e6));
  LIFELINE_RETURN_IF_ERROR(
      r.Int("max_in_recovery", &s->max_in_recovery, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(
      r.Double("max_in_recovery_ratio", &s->max_in_recovery_ratio, 0, 1));
  LIFELINE_RETURN_IF_ERROR(r.Double("panic_ratio", &s->panic_ratio, 0, 1));
  LIFELINE_RETURN_IF_ERROR(
      r.Double("panic_exit_ratio", &s->panic_exit_ratio, 0, 1));
  LIFELINE_RETURN_IF_ERROR(r.Bool("require_agreement", &s->require_agreement));
  LIFELINE_RETURN_IF_ERROR(r.Bool("dry_run", &s->dry_run));
  return r.Finish();
}

Status DecodeWarmPool(const json& j, WarmPoolSpec* w) {
  JsonReader r(j, "warm_pool");
  LIFELINE_RETURN_IF_ERROR(r.Int("min_size", &w->min_size, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(
      r.Int("max_prepared", &w->max_prepared, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(r.Bool("stopped", &w->stopped));
  return r.Finish();
}

Status DecodeAutoshift(const json& j, AutoshiftSpec* a) {
  JsonReader r(j, "autoshift");
  LIFELINE_RETURN_IF_ERROR(r.Bool("enabled", &a->enabled));
  LIFELINE_RETURN_IF_ERROR(
      r.Dur("max_duration", &a->max_duration, kZero, kMaxShiftDuration));
  LIFELINE_RETURN_IF_ERROR(
      r.Bool("allow_without_capacity", &a->allow_without_capacity));
  return r.Finish();
}

// Decodes an optional sub-object with `fn`.
template <typename T, typename Fn>
Status Sub(JsonReader& r, const char* key, T* out, Fn fn) {
  const json* o = nullptr;
  LIFELINE_RETURN_IF_ERROR(r.Object(key, &o));
  if (o) return fn(*o, out);
  return Status::Ok();
}

json RungsJson(const std::vector<LadderRung>& rungs) {
  json a = json::array();
  for (const auto& r : rungs) {
    a.push_back({{"action", std::string(ToString(r.action))},
                 {"max_attempts", r.max_attempts},
                 {"window", FormatDuration(r.window)},
                 {"timeout", FormatDuration(r.timeout)}});
  }
  return a;
}

}  // namespace

Result<json> ParseJsonObject(std::string_view body) {
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    // parse_error for bad syntax, out_of_range for a number too large for
    // a double ("1e999").
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (auto p = what.find("] "); p != std::string::npos) {
      what = what.substr(p + 2);
    }
    return InvalidArgument("malformed JSON body: " + what);
  }
  if (!j.is_object()) {
    return InvalidArgument("body: expected a JSON object, got " +
                           JsonTypeName(j));
  }
  return j;
}

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return InvalidArgument(std::string(what) +
                           " name must be 1 to 128 "
                           "characters long");
  }
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '.' || c == '_' || c == '-' || c == ':')) {
      return InvalidArgument(std::string(what) + " name \"" +
                             std::string(name) +
                             "\" may only contain letters, digits and . _ - :");
    }
  }
  return Status::Ok();
}

Result<GroupSpec> DecodeGroupSpec(std::string_view body,
                                  const std::string& name) {
  LIFELINE_RETURN_IF_ERROR(ValidateName("group", name));
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  JsonReader r(j, "");
  GroupSpec g;
  std::string body_name = name;
  LIFELINE_RETURN_IF_ERROR(r.String("name", &body_name, 128));
  if (body_name != name) {
    return InvalidArgument("field name: \"" + body_name +
                           "\" does not match the group in the path \"" + name +
                           "\"");
  }
  g.name = name;
  LIFELINE_RETURN_IF_ERROR(r.Int("desired", &g.desired, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(r.Int("min", &g.min, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(r.Int("max", &g.max, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(r.StringList("zones", &g.zones));
  LIFELINE_RETURN_IF_ERROR(Sub(r, "launch", &g.launch, DecodeLaunch));
  LIFELINE_RETURN_IF_ERROR(r.StringList("addresses", &g.addresses));
  LIFELINE_RETURN_IF_ERROR(
      r.Dur("grace_period", &g.grace_period, kZero, kMaxSpecDuration));
  LIFELINE_RETURN_IF_ERROR(r.Bool("check_system", &g.check_system));
  LIFELINE_RETURN_IF_ERROR(r.Bool("check_instance", &g.check_instance));
  LIFELINE_RETURN_IF_ERROR(r.Bool("check_application", &g.check_application));
  LIFELINE_RETURN_IF_ERROR(
      r.String("heartbeat_key_id", &g.heartbeat_key_id, 256));
  LIFELINE_RETURN_IF_ERROR(Sub(r, "ladder", &g.ladder, DecodeLadder));
  LIFELINE_RETURN_IF_ERROR(Sub(r, "backoff", &g.backoff, DecodeBackoff));
  LIFELINE_RETURN_IF_ERROR(r.Dur("replacement_timeout", &g.replacement_timeout,
                                 kZero, kMaxSpecDuration));
  LIFELINE_RETURN_IF_ERROR(
      r.Dur("call_timeout", &g.call_timeout, kZero, kMaxSpecDuration));
  LIFELINE_RETURN_IF_ERROR(Sub(r, "safety", &g.safety, DecodeSafety));
  std::string behavior;
  LIFELINE_RETURN_IF_ERROR(r.String("impaired_zone_behavior", &behavior, 64));
  if (!behavior.empty() &&
      !ParseImpairedZoneBehavior(behavior, &g.impaired_zone_behavior)) {
    return InvalidArgument("field impaired_zone_behavior: \"" + behavior +
                           "\" is not one of ReplaceUnhealthy, "
                           "IgnoreUnhealthy");
  }
  LIFELINE_RETURN_IF_ERROR(Sub(r, "warm_pool", &g.warm_pool, DecodeWarmPool));
  LIFELINE_RETURN_IF_ERROR(Sub(r, "autoshift", &g.autoshift, DecodeAutoshift));
  LIFELINE_RETURN_IF_ERROR(
      r.Double("rebalance_step_ratio", &g.rebalance_step_ratio, 0, 1));
  LIFELINE_RETURN_IF_ERROR(
      r.Int("min_healthy_per_zone", &g.min_healthy_per_zone, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  LIFELINE_RETURN_IF_ERROR(g.Validate());
  return g;
}

json EncodeGroupSpec(const GroupSpec& g) {
  json volumes = json::array();
  for (const auto& v : g.launch.volumes) {
    volumes.push_back({{"device", v.device},
                       {"size_gib", v.size_gib},
                       {"detachable", v.detachable},
                       {"snapshot_on_replace", v.snapshot_on_replace}});
  }
  const LaunchSpec& l = g.launch;
  return {
      {"name", g.name},
      {"desired", g.desired},
      {"min", g.min},
      {"max", g.max},
      {"zones", g.zones},
      {"launch",
       {{"image", l.image},
        {"instance_type", l.instance_type},
        {"security_groups", l.security_groups},
        {"subnet_by_zone", l.subnet_by_zone},
        {"tags", l.tags},
        {"user_data", l.user_data},
        {"volumes", volumes},
        {"key_name", l.key_name},
        {"command", l.command},
        {"args", l.args},
        {"env", l.env}}},
      {"addresses", g.addresses},
      {"grace_period", FormatDuration(g.grace_period)},
      {"check_system", g.check_system},
      {"check_instance", g.check_instance},
      {"check_application", g.check_application},
      {"heartbeat_key_id", g.heartbeat_key_id},
      {"ladder",
       {{"system", RungsJson(g.ladder.system)},
        {"instance", RungsJson(g.ladder.instance)},
        {"application", RungsJson(g.ladder.application)}}},
      {"backoff",
       {{"initial", FormatDuration(g.backoff.initial)},
        {"max", FormatDuration(g.backoff.max)},
        {"multiplier", g.backoff.multiplier},
        {"jitter", g.backoff.jitter}}},
      {"replacement_timeout", FormatDuration(g.replacement_timeout)},
      {"call_timeout", FormatDuration(g.call_timeout)},
      {"safety",
       {{"actions_per_minute", g.safety.actions_per_minute},
        {"burst", g.safety.burst},
        {"max_in_recovery", g.safety.max_in_recovery},
        {"max_in_recovery_ratio", g.safety.max_in_recovery_ratio},
        {"panic_ratio", g.safety.panic_ratio},
        {"panic_exit_ratio", g.safety.panic_exit_ratio},
        {"require_agreement", g.safety.require_agreement},
        {"dry_run", g.safety.dry_run}}},
      {"impaired_zone_behavior",
       std::string(ToString(g.impaired_zone_behavior))},
      {"warm_pool",
       {{"min_size", g.warm_pool.min_size},
        {"max_prepared", g.warm_pool.max_prepared},
        {"stopped", g.warm_pool.stopped}}},
      {"autoshift",
       {{"enabled", g.autoshift.enabled},
        {"max_duration", FormatDuration(g.autoshift.max_duration)},
        {"allow_without_capacity", g.autoshift.allow_without_capacity}}},
      {"rebalance_step_ratio", g.rebalance_step_ratio},
      {"min_healthy_per_zone", g.min_healthy_per_zone},
  };
}

Result<int> DecodeDesiredCapacity(std::string_view body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  JsonReader r(*parsed, "");
  int desired = 0;
  LIFELINE_RETURN_IF_ERROR(r.Require("desired"));
  LIFELINE_RETURN_IF_ERROR(r.Int("desired", &desired, 0, kMaxCount));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  return desired;
}

Result<InstanceHealthRequest> DecodeInstanceHealth(std::string_view body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  JsonReader r(*parsed, "");
  InstanceHealthRequest req;
  std::string status;
  LIFELINE_RETURN_IF_ERROR(r.Require("status"));
  LIFELINE_RETURN_IF_ERROR(r.String("status", &status, 64));
  if (status == "healthy") {
    req.healthy = true;
  } else if (status == "unhealthy") {
    req.healthy = false;
  } else if (status != "automatic") {
    return InvalidArgument("field status: \"" + status +
                           "\" is not one of healthy, unhealthy, automatic");
  }
  LIFELINE_RETURN_IF_ERROR(r.String("reason", &req.reason, 1024));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  return req;
}

Result<FreezeRequest> DecodeFreeze(std::string_view body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  JsonReader r(*parsed, "");
  FreezeRequest req;
  LIFELINE_RETURN_IF_ERROR(r.Require("frozen"));
  LIFELINE_RETURN_IF_ERROR(r.Bool("frozen", &req.frozen));
  LIFELINE_RETURN_IF_ERROR(r.String("reason", &req.reason, 1024));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  return req;
}

Result<ShiftStartRequest> DecodeShiftStart(std::string_view body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  JsonReader r(*parsed, "");
  ShiftStartRequest req;
  for (const char* k : {"group", "away_from", "expires_in"}) {
    LIFELINE_RETURN_IF_ERROR(r.Require(k));
  }
  LIFELINE_RETURN_IF_ERROR(r.String("group", &req.group, 128));
  if (req.group != "*")
    LIFELINE_RETURN_IF_ERROR(ValidateName("group", req.group));
  LIFELINE_RETURN_IF_ERROR(r.String("away_from", &req.away_from, 128));
  LIFELINE_RETURN_IF_ERROR(ValidateName("zone", req.away_from));
  LIFELINE_RETURN_IF_ERROR(r.Dur("expires_in", &req.expires_in,
                                 kMinShiftDuration, kMaxShiftDuration));
  LIFELINE_RETURN_IF_ERROR(r.String("comment", &req.comment, 1024));
  LIFELINE_RETURN_IF_ERROR(r.Bool("skip_validation", &req.skip_validation));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  return req;
}

Result<ShiftUpdateRequest> DecodeShiftUpdate(std::string_view body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  JsonReader r(*parsed, "");
  ShiftUpdateRequest req;
  Duration d{};
  if (r.Has("expires_in")) {
    LIFELINE_RETURN_IF_ERROR(
        r.Dur("expires_in", &d, kMinShiftDuration, kMaxShiftDuration));
    req.expires_in = d;
  }
  LIFELINE_RETURN_IF_ERROR(r.OptString("comment", &req.comment, 1024));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  if (!req.expires_in && !req.comment) {
    return InvalidArgument("body: give expires_in, comment or both");
  }
  return req;
}

namespace {

// The single value of a query parameter; InvalidArgument when repeated.
Status Param(const QueryParams& params, const std::string& key,
             std::optional<std::string>* out) {
  auto [lo, hi] = params.equal_range(key);
  if (lo == hi) return Status::Ok();
  if (std::next(lo) != hi) {
    return InvalidArgument("query parameter " + key + ": given more than once");
  }
  if (lo->second.size() > 256) {
    return InvalidArgument("query parameter " + key +
                           ": longer than 256 bytes");
  }
  *out = lo->second;
  return Status::Ok();
}

// The strict RFC 3339 UTC form ParseWallTime reads, with a year that a
// nanosecond clock can hold: YYYY-MM-DDTHH:MM:SS[.fraction]Z.
bool WallTimeShapeOk(const std::string& s, bool* year_ok) {
  const char* shape = "dddd-dd-ddTdd:dd:dd";
  size_t n = std::char_traits<char>::length(shape);
  if (s.size() < n + 1) return false;
  for (size_t i = 0; i < n; ++i) {
    bool digit = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
    if (shape[i] == 'd' ? !digit : s[i] != shape[i]) return false;
  }
  size_t i = n;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start || i - start > 9) return false;
  }
  if (i + 1 != s.size() || (s[i] != 'Z' && s[i] != 'z')) return false;
  int year = std::stoi(s.substr(0, 4));
  *year_ok = year >= 1970 && year <= 2200;
  return true;
}

Status CheckKnownParams(const QueryParams& params,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : params) {
    bool ok = false;
    for (auto name : known) ok = ok || k == name;
    if (!ok) {
      std::string list;
      for (auto name : known) {
        list += (list.empty() ? "" : ", ") + std::string(name);
      }
      return InvalidArgument("query parameter " + k +
                             ": unknown (known: " + list + ")");
    }
  }
  return Status::Ok();
}

Status ParseUint(const std::string& key, const std::string& s, uint64_t lo,
                 uint64_t hi, uint64_t* out) {
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 19;
  for (char c : s) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok) {
    return InvalidArgument("query parameter " + key + ": \"" + s +
                           "\" is not a non-negative integer");
  }
  if (v < lo || v > hi) {
    return InvalidArgument("query parameter " + key + ": " + s +
                           " is out of range [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
  }
  *out = v;
  return Status::Ok();
}

}  // namespace

Result<HistoryQuery> DecodeEventsQuery(const QueryParams& params) {
  LIFELINE_RETURN_IF_ERROR(
      CheckKnownParams(params, {"instance", "group", "zone", "type", "kind",
                                "since", "until", "after", "limit"}));
  HistoryQuery q;
  q.limit = 100;
  LIFELINE_RETURN_IF_ERROR(Param(params, "instance", &q.instance));
  LIFELINE_RETURN_IF_ERROR(Param(params, "group", &q.group));
  LIFELINE_RETURN_IF_ERROR(Param(params, "zone", &q.zone));
  LIFELINE_RETURN_IF_ERROR(Param(params, "type", &q.type_prefix));
  std::optional<std::string> kind, since, until, after, limit;
  LIFELINE_RETURN_IF_ERROR(Param(params, "kind", &kind));
  LIFELINE_RETURN_IF_ERROR(Param(params, "since", &since));
  LIFELINE_RETURN_IF_ERROR(Param(params, "until", &until));
  LIFELINE_RETURN_IF_ERROR(Param(params, "after", &after));
  LIFELINE_RETURN_IF_ERROR(Param(params, "limit", &limit));
  if (kind) {
    EventKind k;
    if (!ParseEventKind(*kind, &k)) {
      return InvalidArgument("query parameter kind: \"" + *kind +
                             "\" is not one of observation, decision, action, "
                             "refusal, alert, audit");
    }
    q.kind = k;
  }
  for (auto [key, text, out] : {std::tuple{"since", &since, &q.since},
                                std::tuple{"until", &until, &q.until}}) {
    if (!*text) continue;
    WallTime t;
    bool year_ok = false;
    bool shape_ok = WallTimeShapeOk(**text, &year_ok);
    if (shape_ok && !year_ok) {
      return InvalidArgument(std::string("query parameter ") + key + ": \"" +
                             **text + "\" is not between years 1970 and 2200");
    }
    if (!shape_ok || !ParseWallTime(**text, &t)) {
      return InvalidArgument(std::string("query parameter ") + key + ": \"" +
                             **text +
                             "\" is not an RFC 3339 UTC time like "
                             "2026-01-01T00:00:00Z");
    }
    *out = t;
  }
  if (q.since && q.until && *q.until < *q.since) {
    return InvalidArgument(
        "query parameters since/until: until is before since");
  }
  if (after) {
    LIFELINE_RETURN_IF_ERROR(
        ParseUint("after", *after, 0, UINT64_MAX / 10, &q.after_seq));
  }
  if (limit) {
    uint64_t n = 0;
    LIFELINE_RETURN_IF_ERROR(ParseUint("limit", *limit, 1, 10000, &n));
    q.limit = n;
  }
  return q;
}

Result<InstanceFilter> DecodeInstanceFilter(const QueryParams& params) {
  LIFELINE_RETURN_IF_ERROR(
      CheckKnownParams(params, {"group", "zone", "health", "role"}));
  InstanceFilter f;
  LIFELINE_RETURN_IF_ERROR(Param(params, "group", &f.group));
  LIFELINE_RETURN_IF_ERROR(Param(params, "zone", &f.zone));
  LIFELINE_RETURN_IF_ERROR(Param(params, "health", &f.health));
  LIFELINE_RETURN_IF_ERROR(Param(params, "role", &f.role));
  if (f.health && *f.health != "healthy" && *f.health != "unhealthy" &&
      *f.health != "suspect") {
    return InvalidArgument("query parameter health: \"" + *f.health +
                           "\" is not one of healthy, unhealthy, suspect");
  }
  if (f.role && *f.role != "active" && *f.role != "replacement" &&
      *f.role != "retiring" && *f.role != "standby") {
    return InvalidArgument("query parameter role: \"" + *f.role +
                           "\" is not one of active, replacement, retiring, "
                           "standby");
  }
  return f;
}

}  // namespace lifeline
