#include "zones/autoshift.h"

#include <algorithm>
#include <cstdio>

namespace lifeline {

namespace {

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

bool Judged(const ZoneSignals& z, const AutoshiftConfig& c) {
  return z.instances >= std::max(1, c.min_instances_per_zone);
}

bool Impaired(const ZoneSignals& z, const AutoshiftConfig& c) {
  return z.silent_share() >= c.silent_ratio ||
         (z.reporting > 0 && z.error_ratio >= c.error_ratio);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The other judged, reporting zones' mean error ratio and median latency.
struct Others {
  int reporting_zones = 0;
  double error_ratio = 0;
  double latency_ms = 0;
};

Others OthersOf(const std::string& zone,
                const std::map<std::string, ZoneSignals>& zones,
                const AutoshiftConfig& c) {
  Others o;
  std::vector<double> latencies;
  for (const auto& [z, s] : zones) {
    if (z == zone || !Judged(s, c) || s.reporting == 0) continue;
    ++o.reporting_zones;
    o.error_ratio += s.error_ratio;
    latencies.push_back(s.latency_ms);
  }
  if (o.reporting_zones > 0) o.error_ratio /= o.reporting_zones;
  o.latency_ms = Median(latencies);
  return o;
}

bool LatencyOutlier(const ZoneSignals& z, const Others& o,
                    const AutoshiftConfig& c) {
  return z.reporting > 0 && o.reporting_zones > 0 &&
         z.latency_ms >= c.latency_factor * o.latency_ms &&
         z.latency_ms - o.latency_ms >= c.latency_min_delta_ms;
}

}  // namespace

ZoneAssessment AssessZones(const std::map<std::string, ZoneSignals>& zones,
                           const AutoshiftConfig& c) {
  ZoneAssessment a;
  for (const auto& [z, s] : zones) {
    if (!Judged(s, c)) continue;
    ++a.judged;
    if (Impaired(s, c)) a.impaired.push_back(z);
  }
  if (a.judged < 2 || a.impaired.size() >= 2) return a;
  if (a.impaired.size() == 1) {
    const std::string& z = a.impaired[0];
    const ZoneSignals& s = zones.at(z);
    if (s.silent_share() >= c.silent_ratio) {
      a.outlier = z;
      a.signal = "silence";
      return a;
    }
    Others o = OthersOf(z, zones, c);
    if (o.reporting_zones > 0 &&
        s.error_ratio >= c.error_factor * std::max(o.error_ratio, 0.001)) {
      a.outlier = z;
      a.signal = "error_ratio";
    }
    return a;
  }
  // Nothing impaired outright: one zone markedly slower than the rest.
  std::string slow;
  int slow_zones = 0;
  for (const auto& [z, s] : zones) {
    if (!Judged(s, c)) continue;
    if (LatencyOutlier(s, OthersOf(z, zones, c), c)) {
      slow = z;
      ++slow_zones;
    }
  }
  if (slow_zones == 1) {
    a.outlier = slow;
    a.signal = "latency";
  }
  return a;
}

bool ZoneLooksNormal(const std::string& zone,
                     const std::map<std::string, ZoneSignals>& zones,
                     const AutoshiftConfig& c) {
  auto it = zones.find(zone);
  if (it == zones.end() || !Judged(it->second, c)) return false;
  if (Impaired(it->second, c)) return false;
  return !LatencyOutlier(it->second, OthersOf(zone, zones, c), c);
}

std::string_view ToString(AutoshiftPhase p) {
  switch (p) {
    case AutoshiftPhase::kWatching:
      return "watching";
    case AutoshiftPhase::kSuspected:
      return "suspected";
    case AutoshiftPhase::kShifted:
      return "shifted";
    case AutoshiftPhase::kRecovering:
      return "recovering";
  }
  return "unknown";
}

std::string_view ToString(AutoshiftAction a) {
  switch (a) {
    case AutoshiftAction::kNone:
      return "none";
    case AutoshiftAction::kStartShift:
      return "start_shift";
    case AutoshiftAction::kEndShift:
      return "end_shift";
  }
  return "unknown";
}

AutoshiftStep NextAutoshift(const AutoshiftGroupState& state,
                            const std::map<std::string, ZoneSignals>& zones,
                            bool shift_active, MonoTime now,
                            const AutoshiftConfig& c) {
  AutoshiftStep step;
  AutoshiftGroupState& n = step.next;
  n = state;
  if (!n.blocked_zone.empty() && ZoneLooksNormal(n.blocked_zone, zones, c)) {
    n.blocked_zone.clear();
  }
  switch (state.phase) {
    case AutoshiftPhase::kWatching:
    case AutoshiftPhase::kSuspected: {
      ZoneAssessment a = AssessZones(zones, c);
      if (a.outlier.empty() || a.outlier == n.blocked_zone) {
        n.phase = AutoshiftPhase::kWatching;
        n.zone.clear();
        n.signal.clear();
        n.refused = false;
        return step;
      }
      if (state.phase == AutoshiftPhase::kWatching || a.outlier != state.zone) {
        n.phase = AutoshiftPhase::kSuspected;
        n.zone = a.outlier;
        n.since = now;
        n.refused = false;
      }
      n.signal = a.signal;
      Duration sustain =
          a.signal == "silence" ? c.silence_sustain : c.load_sustain;
      if (!n.refused && now - n.since >= sustain) {
        step.action = AutoshiftAction::kStartShift;
      }
      return step;
    }
    case AutoshiftPhase::kShifted:
    case AutoshiftPhase::kRecovering: {
      if (!shift_active) {
        // Ended by someone else or by its own expiry: a zone still
        // impaired is not shifted again until it has looked normal.
        if (!ZoneLooksNormal(state.zone, zones, c)) n.blocked_zone = state.zone;
        n.phase = AutoshiftPhase::kWatching;
        n.zone.clear();
        n.signal.clear();
        n.shift_id.clear();
        n.refused = false;
        n.since = now;
        return step;
      }
      bool normal = ZoneLooksNormal(state.zone, zones, c);
      if (!normal) {
        if (state.phase != AutoshiftPhase::kShifted) n.since = now;
        n.phase = AutoshiftPhase::kShifted;
      } else if (state.phase == AutoshiftPhase::kShifted) {
        n.phase = AutoshiftPhase::kRecovering;
        n.since = now;
      } else if (now - state.since >= c.hold_down) {
        step.action = AutoshiftAction::kEndShift;
      }
      return step;
    }
  }
  return step;
}

Evidence AutoshiftEvidence(const std::string& zone,
                           const std::map<std::string, ZoneSignals>& zones) {
  Evidence e;
  auto figures = [](const ZoneSignals& s) {
    return "silent " + std::to_string(s.silent) + "/" +
           std::to_string(s.instances) + ", failed " +
           std::to_string(s.failed) + ", error " + Fixed(s.error_ratio, 4) +
           ", latency " + Fixed(s.latency_ms, 1) + "ms (" +
           std::to_string(s.reporting) + " reporting)";
  };
  e.emplace_back("zone", zone);
  if (auto it = zones.find(zone); it != zones.end()) {
    const ZoneSignals& s = it->second;
    e.emplace_back("zone_silent_share", Fixed(s.silent_share(), 3));
    e.emplace_back("zone_failed", std::to_string(s.failed));
    e.emplace_back("zone_error_ratio", Fixed(s.error_ratio, 4));
    e.emplace_back("zone_latency_ms", Fixed(s.latency_ms, 1));
  }
  for (const auto& [z, s] : zones) e.emplace_back("zone:" + z, figures(s));
  return e;
}

// ---- the detector
// -------------------------------------------------------------

AutoshiftDetector::AutoshiftDetector(Controller& controller,
                                     ZonalShiftManager& shifts,
                                     AutoshiftConfig config)
    : controller_(controller),
      shifts_(shifts),
      config_(config),
      alive_(std::make_shared<bool>(true)) {}

AutoshiftDetector::~AutoshiftDetector() {
  *alive_ = false;
  if (timer_ != EventLoop::kNoTimer) controller_.loop().Cancel(timer_);
}

void AutoshiftDetector::Start() {
  if (started_) return;
  started_ = true;
  Tick();
}

void AutoshiftDetector::Tick() {
  timer_ = EventLoop::kNoTimer;
  EvaluateNow();
  std::weak_ptr<bool> alive = alive_;
  timer_ = controller_.loop().RunAfter(config_.evaluate_every, [this, alive] {
    if (alive.lock()) Tick();
  });
}

void AutoshiftDetector::OnAlert(const HistoryEvent& alert) {
  if (alert.zone.empty() && alert.type.rfind("safety.", 0) != 0) return;
  if (posted_) return;
  posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  controller_.loop().Post([this, alive] {
    if (!alive.lock()) return;
    posted_ = false;
    EvaluateNow();
  });
}

void AutoshiftDetector::EvaluateNow() {
  MonoTime now = controller_.loop().Now();
  for (const auto& name : controller_.GroupNames()) {
    const GroupSpec* spec = controller_.group(name);
    if (!spec->autoshift.enabled) {
      auto it = states_.find(name);
      if (it != states_.end()) {
        const ZonalShift* cur = shifts_.ActiveShift(name);
        if (cur && cur->id == it->second.shift_id) {
          (void)shifts_.Cancel(cur->id, "autoshift", "autoshift disabled");
          Note(EventKind::kDecision, "autoshift.ended", name, cur->away_from,
               "autoshift of " + cur->away_from +
                   " ended: autoshift was disabled for the group",
               {{"shift", cur->id}, {"reason", "disabled"}});
        }
        states_.erase(it);
      }
      continue;
    }
    if (now - load_at_[name] >= config_.load_every ||
        load_at_[name] == MonoTime{}) {
      RefreshLoad(name);
      load_at_[name] = now;
    }
    Evaluate(name, *spec);
  }
  for (auto it = states_.begin(); it != states_.end();) {
    it = controller_.group(it->first) ? std::next(it) : states_.erase(it);
  }
}

void AutoshiftDetector::RefreshLoad(const std::string& group) {
  struct Acc {
    int n = 0;
    double error = 0;
    std::vector<double> latency;
  };
  std::map<std::string, Acc> acc;
  for (const InstanceRecord* r : controller_.GroupInstances(group)) {
    if (r->role != InstanceRole::kActive || r->latency_ms <= 0) continue;
    Acc& a = acc[r->info.zone];
    ++a.n;
    a.error += r->error_ratio;
    a.latency.push_back(r->latency_ms);
  }
  auto& out = load_[group];
  out.clear();
  for (auto& [zone, a] : acc) {
    Load& l = out[zone];
    l.reporting = a.n;
    l.error_ratio = a.error / a.n;
    l.latency_ms = Median(std::move(a.latency));
  }
}

std::map<std::string, ZoneSignals> AutoshiftDetector::SignalsOf(
    const std::string& group) const {
  std::map<std::string, ZoneSignals> out;
  const GroupSpec* spec = controller_.group(group);
  if (!spec) return out;
  auto counts = controller_.ZoneCountsOf(group);
  auto load = load_.find(group);
  for (const auto& zone : spec->zones) {
    ZoneSignals& s = out[zone];
    if (auto c = counts.find(zone); c != counts.end()) {
      s.instances = c->second.active;
      s.failed = c->second.unhealthy;
      s.silent = c->second.silent;
    }
    if (load != load_.end()) {
      if (auto l = load->second.find(zone); l != load->second.end()) {
        s.reporting = l->second.reporting;
        s.error_ratio = l->second.error_ratio;
        s.latency_ms = l->second.latency_ms;
      }
    }
  }
  return out;
}

std::optional<AutoshiftGroupState> AutoshiftDetector::StateOf(
    const std::string& group) const {
  auto it = states_.find(group);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

void AutoshiftDetector::Evaluate(const std::string& group,
                                 const GroupSpec& spec) {
  std::map<std::string, ZoneSignals> signals = SignalsOf(group);
  AutoshiftGroupState& state = states_[group];
  MonoTime now = controller_.loop().Now();

  ZoneAssessment a = AssessZones(signals, config_);
  bool many = a.impaired.size() >= 2;
  if (many && !suppressed_[group]) {
    suppressed_[group] = true;
    std::string zones;
    for (const auto& z : a.impaired) zones += (zones.empty() ? "" : ",") + z;
    Evidence ev = {{"impaired_zones", zones},
                   {"judged_zones", std::to_string(a.judged)}};
    for (const auto& kv : AutoshiftEvidence("", signals)) {
      if (kv.first.rfind("zone:", 0) == 0) ev.push_back(kv);
    }
    Note(EventKind::kAlert, "autoshift.suppressed", group, "",
         a.all_impaired()
             ? "every zone looks impaired at once (" + zones +
                   "): Lifeline's own view is the likely fault; no autoshift"
             : "several zones look impaired (" + zones +
                   "); autoshift moves away from one zone only",
         std::move(ev));
  } else if (!many) {
    suppressed_[group] = false;
  }

  const ZonalShift* active = shifts_.ActiveShift(group);
  bool ours = active && active->id == state.shift_id;
  AutoshiftStep step = NextAutoshift(state, signals, ours, now, config_);
  bool was_shifted = state.phase == AutoshiftPhase::kShifted ||
                     state.phase == AutoshiftPhase::kRecovering;
  std::string old_shift = state.shift_id, old_zone = state.zone;
  state = step.next;
  if (was_shifted && !ours) {
    auto ended = shifts_.Get(old_shift);
    std::string reason =
        ended.ok() ? ended->end_reason : std::string("shift not found");
    Evidence ev = AutoshiftEvidence(old_zone, signals);
    ev.insert(ev.begin(), {{"shift", old_shift}, {"reason", reason}});
    Note(state.blocked_zone == old_zone ? EventKind::kAlert
                                        : EventKind::kDecision,
         "autoshift.ended", group, old_zone,
         "autoshift away from " + old_zone + " ended: " + reason +
             (state.blocked_zone == old_zone
                  ? "; the zone still looks impaired and is not shifted "
                    "again until it looks normal"
                  : ""),
         std::move(ev));
  }
  switch (step.action) {
    case AutoshiftAction::kNone:
      break;
    case AutoshiftAction::kStartShift:
      StartShift(group, spec, state, signals);
      break;
    case AutoshiftAction::kEndShift:
      EndShift(group, state, signals);
      break;
  }
}

void AutoshiftDetector::StartShift(
    const std::string& group, const GroupSpec& spec, AutoshiftGroupState& state,
    const std::map<std::string, ZoneSignals>& signals) {
  MonoTime now = controller_.loop().Now();
  Evidence ev = AutoshiftEvidence(state.zone, signals);
  ev.insert(ev.begin(), {{"signal", state.signal},
                         {"sustained", FormatDuration(now - state.since)}});
  ZonalShiftRequest r;
  r.group = group;
  r.away_from = state.zone;
  r.expires_in =
      std::min<Duration>(spec.autoshift.max_duration, kMaxZonalShiftDuration);
  r.source = ZonalShiftSource::kAutoshift;
  r.actor = "autoshift";
  r.comment = "zone " + state.zone + " is an outlier by " + state.signal +
              " against the group's other zones";
  r.skip_validation = spec.autoshift.allow_without_capacity;
  r.evidence = ev;
  auto started = shifts_.Start(r);
  if (!started.ok()) {
    state.refused = true;
    ev.emplace_back("refused", started.status().ToString());
    Note(EventKind::kAlert, "autoshift.refused", group, state.zone,
         "autoshift away from " + state.zone +
             " not started: " + started.status().message(),
         std::move(ev));
    return;
  }
  state.phase = AutoshiftPhase::kShifted;
  state.shift_id = started->id;
  state.since = now;
  ev.insert(ev.begin(), {"shift", started->id});
  Note(EventKind::kDecision, "autoshift.started", group, state.zone,
       "zone " + state.zone + " is a sustained outlier by " + state.signal +
           "; shifted away for at most " + FormatDuration(r.expires_in),
       std::move(ev));
}

void AutoshiftDetector::EndShift(
    const std::string& group, AutoshiftGroupState& state,
    const std::map<std::string, ZoneSignals>& signals) {
  std::string id = state.shift_id, zone = state.zone;
  std::string reason = "zone " + zone + " recovered and stayed normal for " +
                       FormatDuration(config_.hold_down);
  (void)shifts_.Cancel(id, "autoshift", reason);
  Evidence ev = AutoshiftEvidence(zone, signals);
  ev.insert(ev.begin(), {{"shift", id}, {"reason", "recovered"}});
  Note(EventKind::kDecision, "autoshift.ended", group, zone,
       "autoshift away from " + zone + " ended: " + reason, std::move(ev));
  state = AutoshiftGroupState{};
  state.since = controller_.loop().Now();
}

void AutoshiftDetector::Note(EventKind kind, const std::string& type,
                             const std::string& group, const std::string& zone,
                             const std::string& message, Evidence evidence) {
  HistoryEvent e;
  e.at = controller_.loop().clock().WallNow();
  e.kind = kind;
  e.type = type;
  e.group = group;
  e.zone = zone;
  e.rule = "autoshift";
  e.message = message;
  e.evidence = std::move(evidence);
  controller_.history().Append(std::move(e));
}

}  // namespace lifeline
