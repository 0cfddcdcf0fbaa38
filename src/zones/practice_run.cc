#include "zones/practice_run.h"

#include <algorithm>
#include <cstdio>

namespace lifeline {

std::string_view ToString(PracticeRunState s) {
  switch (s) {
    case PracticeRunState::kScheduled:
      return "scheduled";
    case PracticeRunState::kRunning:
      return "running";
    case PracticeRunState::kSucceeded:
      return "succeeded";
    case PracticeRunState::kAborted:
      return "aborted";
    case PracticeRunState::kNotStarted:
      return "not_started";
    case PracticeRunState::kCanceled:
      return "canceled";
  }
  return "unknown";
}

bool IsFinished(PracticeRunState s) {
  return s != PracticeRunState::kScheduled && s != PracticeRunState::kRunning;
}

std::string PracticeHealthProblem(const PracticeHealth& h,
                                  const PracticeRunRequest& r) {
  if (h.unhealthy_ratio() > r.max_unhealthy_ratio) {
    return std::to_string(h.unhealthy_or_suspect) + " of " +
           std::to_string(h.active) +
           " active instances are unhealthy or suspect (limit " +
           std::to_string(static_cast<int>(r.max_unhealthy_ratio * 100)) + "%)";
  }
  double need = r.min_serving_ratio * h.desired;
  if (h.serving() < need) {
    return "only " + std::to_string(h.serving()) +
           " healthy active instances for a desired capacity of " +
           std::to_string(h.desired) + " (need " +
           std::to_string(static_cast<int>(r.min_serving_ratio * 100)) + "%)";
  }
  return "";
}

PracticeRunner::PracticeRunner(Controller& controller,
                               ZonalShiftManager& shifts,
                               PracticeRunnerConfig config)
    : controller_(controller),
      shifts_(shifts),
      config_(config),
      alive_(std::make_shared<bool>(true)) {}

PracticeRunner::~PracticeRunner() {
  *alive_ = false;
  for (auto& [id, e] : runs_) {
    if (e.timer != EventLoop::kNoTimer) controller_.loop().Cancel(e.timer);
  }
}

Result<PracticeRun> PracticeRunner::Schedule(const PracticeRunRequest& r) {
  const GroupSpec* spec = controller_.group(r.group);
  if (!spec) return NotFound("group " + r.group + " does not exist");
  if (std::find(spec->zones.begin(), spec->zones.end(), r.zone) ==
      spec->zones.end()) {
    return InvalidArgument("practice run: zone " + r.zone +
                           " is not a zone of group " + r.group);
  }
  if (r.duration <= Duration::zero() || r.duration > kMaxPracticeRunDuration) {
    return InvalidArgument("practice run of group " + r.group + ": duration " +
                           FormatDuration(r.duration) +
                           " must be above 0 and at most 4h");
  }
  if (r.max_unhealthy_ratio < 0 || r.max_unhealthy_ratio > 1 ||
      r.min_serving_ratio < 0 || r.min_serving_ratio > 1) {
    return InvalidArgument("practice run of group " + r.group +
                           ": max_unhealthy_ratio and min_serving_ratio must "
                           "be within [0, 1]");
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "pr-%06llu",
                static_cast<unsigned long long>(next_id_++));
  Entry& e = runs_[buf];
  e.run.id = buf;
  e.run.request = r;
  WallTime now = controller_.loop().clock().WallNow();
  if (e.run.request.start_at == WallTime{}) e.run.request.start_at = now;
  Duration wait = std::max<Duration>(
      Duration::zero(),
      std::chrono::duration_cast<Duration>(e.run.request.start_at - now));
  Note(EventKind::kAudit, "practice_run.scheduled", e.run,
       "practice run " + e.run.id + ": shift away from " + r.zone + " for " +
           FormatDuration(r.duration) + ", starting " +
           FormatWallTime(e.run.request.start_at),
       {{"actor", r.actor}});
  Arm(e, wait, &PracticeRunner::Begin);
  return e.run;
}

void PracticeRunner::Arm(Entry& e, Duration delay,
                         void (PracticeRunner::*fn)(Entry&)) {
  if (e.timer != EventLoop::kNoTimer) controller_.loop().Cancel(e.timer);
  std::weak_ptr<bool> alive = alive_;
  std::string id = e.run.id;
  e.timer = controller_.loop().RunAfter(delay, [this, alive, id, fn] {
    if (!alive.lock()) return;
    auto it = runs_.find(id);
    if (it == runs_.end()) return;
    it->second.timer = EventLoop::kNoTimer;
    (this->*fn)(it->second);
  });
}

PracticeHealth PracticeRunner::HealthOf(const std::string& group) const {
  PracticeHealth h;
  if (const GroupSpec* spec = controller_.group(group))
    h.desired = spec->desired;
  for (const auto& [zone, c] : controller_.ZoneCountsOf(group)) {
    h.active += c.active;
    h.unhealthy_or_suspect += c.silent;
  }
  return h;
}

Evidence PracticeRunner::EvidenceOf(const PracticeHealth& h) const {
  return {{"active", std::to_string(h.active)},
          {"unhealthy_or_suspect", std::to_string(h.unhealthy_or_suspect)},
          {"desired", std::to_string(h.desired)}};
}

void PracticeRunner::Begin(Entry& e) {
  PracticeRun& run = e.run;
  if (run.state != PracticeRunState::kScheduled) return;
  if (!controller_.group(run.request.group)) {
    Finish(e, PracticeRunState::kNotStarted, "the group no longer exists");
    return;
  }
  if (const ZonalShift* cur = shifts_.ActiveShift(run.request.group)) {
    Finish(e, PracticeRunState::kNotStarted,
           "the group already has the active " +
               std::string(ToString(cur->source)) + " shift " + cur->id +
               " away from " + cur->away_from);
    return;
  }
  std::string problem =
      PracticeHealthProblem(HealthOf(run.request.group), run.request);
  if (!problem.empty()) {
    Finish(e, PracticeRunState::kNotStarted,
           "the group is not healthy enough to practice: " + problem);
    return;
  }
  ZonalShiftRequest r;
  r.group = run.request.group;
  r.away_from = run.request.zone;
  r.expires_in = run.request.duration;
  r.comment = "practice run " + run.id +
              (run.request.comment.empty() ? "" : ": " + run.request.comment);
  r.actor = "practice_run:" + run.request.actor;
  r.source = ZonalShiftSource::kPracticeRun;
  r.evidence = {{"practice_run", run.id}};
  auto shift = shifts_.Start(r);
  if (!shift.ok()) {
    Finish(e, PracticeRunState::kNotStarted,
           "the shift was refused: " + shift.status().message());
    return;
  }
  run.state = PracticeRunState::kRunning;
  run.shift_id = shift->id;
  run.started_at = controller_.loop().clock().WallNow();
  Note(EventKind::kDecision, "practice_run.started", run,
       "practice run " + run.id + " shifted " + run.request.group +
           " away from " + run.request.zone + " (" + shift->id + ")",
       EvidenceOf(HealthOf(run.request.group)));
  Arm(e, config_.check_every, &PracticeRunner::Check);
}

void PracticeRunner::Check(Entry& e) {
  PracticeRun& run = e.run;
  if (run.state != PracticeRunState::kRunning) return;
  auto shift = shifts_.Get(run.shift_id);
  if (!shift.ok()) {
    Finish(e, PracticeRunState::kAborted, "its shift disappeared");
    return;
  }
  if (shift->state == ZonalShiftState::kExpired) {
    Finish(e, PracticeRunState::kSucceeded,
           "the group stayed healthy without " + run.request.zone + " for " +
               FormatDuration(run.request.duration));
    return;
  }
  if (shift->state == ZonalShiftState::kCanceled) {
    Finish(e, PracticeRunState::kAborted,
           "its shift was ended early: " + shift->end_reason);
    return;
  }
  std::string problem =
      PracticeHealthProblem(HealthOf(run.request.group), run.request);
  if (!problem.empty()) {
    (void)shifts_.Cancel(run.shift_id, "practice_run",
                         "practice run aborted: " + problem);
    Finish(e, PracticeRunState::kAborted,
           "the group's health degraded: " + problem);
    return;
  }
  Arm(e, config_.check_every, &PracticeRunner::Check);
}

void PracticeRunner::Finish(Entry& e, PracticeRunState state,
                            const std::string& outcome) {
  if (e.timer != EventLoop::kNoTimer) {
    controller_.loop().Cancel(e.timer);
    e.timer = EventLoop::kNoTimer;
  }
  PracticeRun& run = e.run;
  run.state = state;
  run.ended_at = controller_.loop().clock().WallNow();
  run.outcome = outcome;
  run.evidence = EvidenceOf(HealthOf(run.request.group));
  bool bad = state == PracticeRunState::kAborted ||
             state == PracticeRunState::kNotStarted;
  Evidence ev = run.evidence;
  ev.emplace_back("outcome", std::string(ToString(state)));
  if (!run.shift_id.empty()) ev.emplace_back("shift", run.shift_id);
  Note(bad ? EventKind::kAlert : EventKind::kDecision,
       "practice_run." + std::string(ToString(state)), run,
       "practice run " + run.id + " " + std::string(ToString(state)) + ": " +
           outcome,
       std::move(ev));
}

Result<PracticeRun> PracticeRunner::Cancel(const std::string& id,
                                           const std::string& actor) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return NotFound("practice run " + id + " not found");
  Entry& e = it->second;
  if (IsFinished(e.run.state)) {
    return FailedPrecondition("practice run " + id + " already finished (" +
                              std::string(ToString(e.run.state)) + ")");
  }
  if (e.run.state == PracticeRunState::kRunning) {
    (void)shifts_.Cancel(e.run.shift_id, actor, "practice run canceled");
  }
  Finish(e, PracticeRunState::kCanceled, "canceled by " + actor);
  return e.run;
}

std::vector<PracticeRun> PracticeRunner::List(
    const std::optional<std::string>& group) const {
  std::vector<PracticeRun> out;
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    if (group && it->second.run.request.group != *group) continue;
    out.push_back(it->second.run);
  }
  return out;
}

Result<PracticeRun> PracticeRunner::Get(const std::string& id) const {
  auto it = runs_.find(id);
  if (it == runs_.end()) return NotFound("practice run " + id + " not found");
  return it->second.run;
}

void PracticeRunner::Note(EventKind kind, const std::string& type,
                          const PracticeRun& run, const std::string& message,
                          Evidence evidence) {
  HistoryEvent e;
  e.at = controller_.loop().clock().WallNow();
  e.kind = kind;
  e.type = type;
  e.group = run.request.group;
  e.zone = run.request.zone;
  e.rule = "practice_run";
  e.message = message;
  e.evidence = {{"practice_run", run.id}};
  for (auto& kv : evidence) e.evidence.push_back(std::move(kv));
  controller_.history().Append(std::move(e));
}

}  // namespace lifeline
