#include "zones/zonal_shift.h"

#include <algorithm>
#include <cstdio>

namespace lifeline {

std::string_view ToString(ZonalShiftState s) {
  switch (s) {
    case ZonalShiftState::kActive:
      return "active";
    case ZonalShiftState::kExpired:
      return "expired";
    case ZonalShiftState::kCanceled:
      return "canceled";
  }
  return "unknown";
}

bool ParseZonalShiftState(std::string_view s, ZonalShiftState* out) {
  for (auto v : {ZonalShiftState::kActive, ZonalShiftState::kExpired,
                 ZonalShiftState::kCanceled}) {
    if (s == ToString(v)) {
      *out = v;
      return true;
    }
  }
  return false;
}

std::string_view ToString(ZonalShiftSource s) {
  switch (s) {
    case ZonalShiftSource::kManual:
      return "manual";
    case ZonalShiftSource::kAutoshift:
      return "autoshift";
    case ZonalShiftSource::kPracticeRun:
      return "practice_run";
  }
  return "unknown";
}

bool ParseZonalShiftSource(std::string_view s, ZonalShiftSource* out) {
  for (auto v : {ZonalShiftSource::kManual, ZonalShiftSource::kAutoshift,
                 ZonalShiftSource::kPracticeRun}) {
    if (s == ToString(v)) {
      *out = v;
      return true;
    }
  }
  return false;
}

int Precedence(ZonalShiftSource s) {
  switch (s) {
    case ZonalShiftSource::kManual:
      return 3;
    case ZonalShiftSource::kAutoshift:
      return 2;
    case ZonalShiftSource::kPracticeRun:
      return 1;
  }
  return 0;
}

ZonalShiftManager::ZonalShiftManager(Controller& controller,
                                     ZoneCapacityFn capacity)
    : controller_(controller),
      loop_(controller.loop()),
      capacity_(std::move(capacity)),
      alive_(std::make_shared<bool>(true)) {}

ZonalShiftManager::~ZonalShiftManager() {
  *alive_ = false;
  for (auto& [id, e] : shifts_) {
    if (e.timer != EventLoop::kNoTimer) loop_.Cancel(e.timer);
  }
}

std::string ZonalShiftManager::NextId() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "zs-%06llu",
                static_cast<unsigned long long>(next_id_++));
  return buf;
}

Status ZonalShiftManager::Validate(const std::string& group,
                                   const std::string& zone) const {
  const GroupSpec* spec = controller_.group(group);
  if (!spec) return NotFound("group " + group + " does not exist");
  std::string refused = "shift " + group + " away from " + zone + " refused: ";
  std::vector<std::string> others;
  for (const auto& z : spec->zones) {
    if (z != zone) others.push_back(z);
  }
  if (others.empty()) {
    return FailedPrecondition(refused + "the group has no other zone");
  }
  // What the other zones can hold: each zone's capacity (unknown counts as
  // unlimited), and never more than the group's max size.
  bool bounded = false;
  long long by_zones = 0;
  std::string zone_figures;
  for (const auto& z : others) {
    std::optional<int> cap = capacity_ ? capacity_(group, z) : std::nullopt;
    if (!cap) {
      bounded = false;
      zone_figures.clear();
      break;
    }
    bounded = true;
    by_zones += std::max(0, *cap);
    zone_figures += (zone_figures.empty() ? "" : ", ") + z + " " +
                    std::to_string(std::max(0, *cap));
  }
  long long holdable = spec->max;
  std::string why = "max size " + std::to_string(spec->max);
  if (bounded && by_zones < holdable) {
    holdable = by_zones;
    why = "zone capacity: " + zone_figures;
  }
  if (holdable < spec->desired) {
    return FailedPrecondition(
        refused + "the other zones can hold " + std::to_string(holdable) +
        " of " + std::to_string(spec->desired) + " instances (" + why + ")");
  }
  return Status::Ok();
}

Status ZonalShiftManager::Check(const ZonalShiftRequest& r) const {
  const GroupSpec* spec = controller_.group(r.group);
  if (!spec) return NotFound("group " + r.group + " does not exist");
  if (std::find(spec->zones.begin(), spec->zones.end(), r.away_from) ==
      spec->zones.end()) {
    return InvalidArgument("zone " + r.away_from + " is not a zone of group " +
                           r.group);
  }
  if (r.expires_in <= Duration::zero() ||
      r.expires_in > kMaxZonalShiftDuration) {
    return InvalidArgument("expires_in " + FormatDuration(r.expires_in) +
                           " for a shift of group " + r.group +
                           " must be above 0 and at most 72h");
  }
  if (const ZonalShift* cur = ActiveShift(r.group)) {
    int mine = Precedence(r.source), theirs = Precedence(cur->source);
    std::string what = std::string(ToString(cur->source)) + " shift " +
                       cur->id + " away from " + cur->away_from;
    if (mine == theirs) {
      return AlreadyExists("group " + r.group + " already has the active " +
                           what + "; update or cancel it instead");
    }
    if (mine < theirs) {
      return FailedPrecondition("group " + r.group + " has the active " + what +
                                ", which a " + std::string(ToString(r.source)) +
                                " shift does not override");
    }
  }
  if (!r.skip_validation) {
    LIFELINE_RETURN_IF_ERROR(Validate(r.group, r.away_from));
  }
  return Status::Ok();
}

Result<ZonalShift> ZonalShiftManager::Start(const ZonalShiftRequest& r) {
  LIFELINE_RETURN_IF_ERROR(Check(r));
  return StartOne(r);
}

Result<std::vector<ZonalShift>> ZonalShiftManager::StartForAllGroups(
    const ZonalShiftRequest& request) {
  std::vector<ZonalShiftRequest> todo;
  for (const auto& name : controller_.GroupNames()) {
    const GroupSpec* spec = controller_.group(name);
    if (std::find(spec->zones.begin(), spec->zones.end(), request.away_from) ==
        spec->zones.end()) {
      continue;
    }
    ZonalShiftRequest r = request;
    r.group = name;
    LIFELINE_RETURN_IF_ERROR(Check(r));
    todo.push_back(std::move(r));
  }
  if (todo.empty()) {
    return NotFound("no group has zone " + request.away_from);
  }
  std::vector<ZonalShift> out;
  for (const auto& r : todo) {
    auto s = StartOne(r);
    if (!s.ok()) return s.status();
    out.push_back(*s);
  }
  return out;
}

Result<ZonalShift> ZonalShiftManager::StartOne(const ZonalShiftRequest& r) {
  std::string id = NextId();
  if (auto it = active_.find(r.group); it != active_.end()) {
    End(shifts_[it->second], ZonalShiftState::kCanceled, r.actor,
        "superseded by " + std::string(ToString(r.source)) + " shift " + id);
  }
  Entry& e = shifts_[id];
  ZonalShift& s = e.shift;
  s.id = id;
  s.group = r.group;
  s.away_from = r.away_from;
  s.source = r.source;
  s.comment = r.comment;
  s.started_by = r.actor;
  s.started_at = loop_.clock().WallNow();
  s.expires_at = s.started_at +
                 std::chrono::duration_cast<WallTime::duration>(r.expires_in);
  s.validation_skipped = r.skip_validation;
  s.evidence = r.evidence;
  Activate(e);
  Announce(s, "zonal_shift.started",
           std::string(ToString(s.source)) + " shift " + s.id + " away from " +
               s.away_from + " for " + FormatDuration(r.expires_in) +
               (s.validation_skipped ? " (validation skipped)" : "") +
               (s.comment.empty() ? "" : ": " + s.comment));
  return s;
}

void ZonalShiftManager::Activate(Entry& e) {
  e.shift.state = ZonalShiftState::kActive;
  active_[e.shift.group] = e.shift.id;
  controller_.SetShiftedZones(e.shift.group, {e.shift.away_from});
  ArmExpiry(e);
}

void ZonalShiftManager::ArmExpiry(Entry& e) {
  if (e.timer != EventLoop::kNoTimer) loop_.Cancel(e.timer);
  Duration left = std::chrono::duration_cast<Duration>(e.shift.expires_at -
                                                       loop_.clock().WallNow());
  if (left < Duration::zero()) left = Duration::zero();
  std::weak_ptr<bool> alive = alive_;
  std::string id = e.shift.id;
  e.timer = loop_.RunAfter(left, [this, alive, id] {
    if (!alive.lock()) return;
    auto it = shifts_.find(id);
    if (it == shifts_.end()) return;
    it->second.timer = EventLoop::kNoTimer;
    if (it->second.shift.state != ZonalShiftState::kActive) return;
    End(it->second, ZonalShiftState::kExpired, "lifeline", "expired");
    PruneEnded();
  });
}

void ZonalShiftManager::End(Entry& e, ZonalShiftState state,
                            const std::string& actor,
                            const std::string& reason) {
  ZonalShift& s = e.shift;
  if (e.timer != EventLoop::kNoTimer) {
    loop_.Cancel(e.timer);
    e.timer = EventLoop::kNoTimer;
  }
  s.state = state;
  s.ended_at = loop_.clock().WallNow();
  s.ended_by = actor;
  s.end_reason = reason;
  if (auto it = active_.find(s.group);
      it != active_.end() && it->second == s.id) {
    active_.erase(it);
    controller_.SetShiftedZones(s.group, {});
  }
  Announce(s, "zonal_shift.ended",
           std::string(ToString(s.source)) + " shift " + s.id + " away from " +
               s.away_from + " " + std::string(ToString(state)) + ": " +
               reason);
}

void ZonalShiftManager::Announce(const ZonalShift& s, const std::string& type,
                                 const std::string& message) {
  HistoryEvent ev;
  ev.at = loop_.clock().WallNow();
  ev.kind = s.source == ZonalShiftSource::kManual ? EventKind::kAudit
                                                  : EventKind::kDecision;
  ev.type = type;
  ev.group = s.group;
  ev.zone = s.away_from;
  ev.rule = "zonal_shift";
  ev.message = message;
  ev.evidence = {{"shift", s.id},
                 {"source", std::string(ToString(s.source))},
                 {"state", std::string(ToString(s.state))},
                 {"expires_at", FormatWallTime(s.expires_at)},
                 {"actor", s.state == ZonalShiftState::kActive ? s.started_by
                                                               : s.ended_by}};
  for (const auto& kv : s.evidence) ev.evidence.push_back(kv);
  controller_.history().Append(std::move(ev));
  for (const auto& l : listeners_) l(s);
}

Result<ZonalShift> ZonalShiftManager::Update(const std::string& id,
                                             const ZonalShiftUpdate& u) {
  auto it = shifts_.find(id);
  if (it == shifts_.end()) return NotFound("zonal shift " + id + " not found");
  Entry& e = it->second;
  if (e.shift.state != ZonalShiftState::kActive) {
    return FailedPrecondition("zonal shift " + id + " already ended (" +
                              std::string(ToString(e.shift.state)) + ")");
  }
  if (u.expires_in && (*u.expires_in <= Duration::zero() ||
                       *u.expires_in > kMaxZonalShiftDuration)) {
    return InvalidArgument("expires_in " + FormatDuration(*u.expires_in) +
                           " for zonal shift " + id +
                           " must be above 0 and at most 72h");
  }
  std::string what;
  if (u.expires_in) {
    e.shift.expires_at =
        loop_.clock().WallNow() +
        std::chrono::duration_cast<WallTime::duration>(*u.expires_in);
    ArmExpiry(e);
    what = "expires in " + FormatDuration(*u.expires_in);
  }
  if (u.comment) {
    e.shift.comment = *u.comment;
    what += (what.empty() ? "" : "; ") + std::string("comment: ") + *u.comment;
  }
  Announce(e.shift, "zonal_shift.updated",
           "shift " + id + " updated by " + u.actor +
               (what.empty() ? "" : ": " + what));
  return e.shift;
}

Result<ZonalShift> ZonalShiftManager::Cancel(const std::string& id,
                                             const std::string& actor,
                                             const std::string& reason) {
  auto it = shifts_.find(id);
  if (it == shifts_.end()) return NotFound("zonal shift " + id + " not found");
  if (it->second.shift.state != ZonalShiftState::kActive) {
    return FailedPrecondition("zonal shift " + id + " already ended (" +
                              std::string(ToString(it->second.shift.state)) +
                              ")");
  }
  End(it->second, ZonalShiftState::kCanceled, actor,
      "canceled by " + actor + (reason.empty() ? "" : ": " + reason));
  ZonalShift out = it->second.shift;
  PruneEnded();
  return out;
}

std::vector<ZonalShift> ZonalShiftManager::List(
    const ZonalShiftFilter& f) const {
  std::vector<ZonalShift> out;
  for (auto it = shifts_.rbegin(); it != shifts_.rend(); ++it) {
    const ZonalShift& s = it->second.shift;
    if (f.group && s.group != *f.group) continue;
    if (f.state && s.state != *f.state) continue;
    if (f.source && s.source != *f.source) continue;
    out.push_back(s);
  }
  return out;
}

Result<ZonalShift> ZonalShiftManager::Get(const std::string& id) const {
  auto it = shifts_.find(id);
  if (it == shifts_.end()) return NotFound("zonal shift " + id + " not found");
  return it->second.shift;
}

const ZonalShift* ZonalShiftManager::ActiveShift(
    const std::string& group) const {
  auto it = active_.find(group);
  if (it == active_.end()) return nullptr;
  return &shifts_.at(it->second).shift;
}

void ZonalShiftManager::AddListener(Listener listener) {
  listeners_.push_back(std::move(listener));
}

void ZonalShiftManager::PruneEnded() {
  size_t ended = 0;
  for (const auto& [id, e] : shifts_) {
    ended += e.shift.state != ZonalShiftState::kActive;
  }
  // Ids sort by age, so the oldest ended shifts go first.
  for (auto it = shifts_.begin(); ended > kKeepEnded && it != shifts_.end();) {
    if (it->second.shift.state != ZonalShiftState::kActive) {
      it = shifts_.erase(it);
      --ended;
    } else {
      ++it;
    }
  }
}

Status ZonalShiftManager::Restore(const std::vector<std::string>& jsons) {
  for (size_t i = 0; i < jsons.size(); ++i) {
    auto parsed = ParseZonalShiftJson(jsons[i]);
    if (!parsed.ok()) {
      return parsed.status().Annotate("restoring zonal shift #" +
                                      std::to_string(i + 1));
    }
    ZonalShift s = *parsed;
    unsigned long long n = 0;
    if (std::sscanf(s.id.c_str(), "zs-%llu", &n) == 1 && n >= next_id_) {
      next_id_ = n + 1;
    }
    if (auto old = shifts_.find(s.id); old != shifts_.end()) {
      if (old->second.shift.state == ZonalShiftState::kActive) {
        End(old->second, ZonalShiftState::kCanceled, "lifeline",
            "replaced by its restored copy");
      }
      shifts_.erase(old);
    }
    Entry& e = shifts_[s.id];
    e.shift = s;
    if (s.state != ZonalShiftState::kActive) continue;
    if (s.expires_at <= loop_.clock().WallNow()) {
      active_[s.group] = s.id;
      End(e, ZonalShiftState::kExpired, "lifeline",
          "expired while Lifeline was not running");
      continue;
    }
    if (auto cur = active_.find(s.group); cur != active_.end()) {
      Entry& other = shifts_[cur->second];
      bool keep_other =
          Precedence(other.shift.source) > Precedence(s.source) ||
          (Precedence(other.shift.source) == Precedence(s.source) &&
           other.shift.id > s.id);
      if (keep_other) {
        e.shift.state = ZonalShiftState::kCanceled;
        e.shift.ended_at = loop_.clock().WallNow();
        e.shift.ended_by = "lifeline";
        e.shift.end_reason = "superseded by " + other.shift.id;
        Announce(e.shift, "zonal_shift.ended",
                 "restored shift " + s.id + " superseded by " + other.shift.id);
        continue;
      }
      End(other, ZonalShiftState::kCanceled, "lifeline",
          "superseded by " + s.id);
    }
    Activate(e);
    Announce(e.shift, "zonal_shift.restored",
             std::string(ToString(s.source)) + " shift " + s.id +
                 " away from " + s.away_from + " restored; expires " +
                 FormatWallTime(s.expires_at));
  }
  PruneEnded();
  return Status::Ok();
}

}  // namespace lifeline
