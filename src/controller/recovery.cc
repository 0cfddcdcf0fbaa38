// The recovery state machine: one function per step. Each step enters a
// named state (journaled before any provider call), issues at most one
// provider call through the OpQueue, and moves on from its completion.
#include <algorithm>
#include <cstdio>

#include "controller/controller.h"

namespace lifeline {

namespace {
std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}
bool IsCapacityError(const Status& s) {
  if (s.code() != StatusCode::kResourceExhausted) return false;
  std::string m = s.message();
  std::transform(m.begin(), m.end(), m.begin(), ::tolower);
  return m.find("capacity") != std::string::npos;
}
}  // namespace

Workflow& Controller::NewWorkflow(WorkflowKind kind, const std::string& group) {
  // Workflow ids (and so launch tokens) must never repeat, not even after a
  // restart: ids are reserved in blocks recorded in the journal first.
  if (next_workflow_ >= reserved_workflows_) {
    reserved_workflows_ = next_workflow_ + 1024;
    Status s = journal_->PutValue("workflow_id_floor",
                                  std::to_string(reserved_workflows_));
    if (!s.ok()) {
      Record(EventKind::kAlert, "journal.write_failed", group, "", "",
             "could not reserve workflow ids: " + s.ToString());
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "wf-%06llu",
                static_cast<unsigned long long>(next_workflow_++));
  Workflow& wf = workflows_[buf];
  wf.id = buf;
  wf.journaled = false;
  wf.kind = kind;
  wf.group = group;
  wf.created = wf.state_since = loop_.Now();
  return wf;
}

void Controller::Persist(const Workflow& wf) {
  Status s = journal_->Save(wf);
  if (!s.ok()) {
    Record(EventKind::kAlert, "journal.write_failed", wf.group, wf.zone,
           wf.instance, "could not journal " + wf.id + ": " + s.ToString());
  }
}

Duration Controller::Backoff(const GroupSpec& spec, int attempt) {
  double d = ToSeconds(spec.backoff.initial);
  for (int i = 1; i < attempt && d < ToSeconds(spec.backoff.max); ++i) {
    d *= spec.backoff.multiplier;
  }
  d = std::min(d, ToSeconds(spec.backoff.max));
  double jitter = spec.backoff.jitter * (2 * rng_.Uniform() - 1);
  d *= 1 + jitter;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(d));
}

void Controller::Enter(Workflow& wf, WorkflowState next) {
  wf.state = next;
  wf.state_since = loop_.Now();
  ++wf.epoch;
  if (wf.timer != EventLoop::kNoTimer) {
    loop_.Cancel(wf.timer);
    wf.timer = EventLoop::kNoTimer;
  }
  // A workflow still waiting for its first approval has done nothing: if
  // Lifeline dies now, the instance's health re-creates it. Journaling
  // starts with the first step that acts.
  if (next == WorkflowState::kAwaitingApproval && !wf.journaled) return;
  Persist(wf);
  wf.journaled = true;
}

void Controller::ArmTimer(Workflow& wf, Duration delay,
                          std::function<void(Workflow&)> fn) {
  if (wf.timer != EventLoop::kNoTimer) loop_.Cancel(wf.timer);
  std::weak_ptr<bool> alive = alive_;
  std::string id = wf.id;
  uint64_t epoch = wf.epoch;
  wf.timer = loop_.RunAfter(delay, [this, alive, id, epoch, fn] {
    if (!alive.lock()) return;
    auto it = workflows_.find(id);
    if (it == workflows_.end() || it->second.epoch != epoch) return;
    it->second.timer = EventLoop::kNoTimer;
    fn(it->second);
  });
}

void Controller::Call(Workflow& wf, const std::string& what,
                      std::function<void(Provider::DoneStatus)> start,
                      std::function<void(Workflow&, Status)> on_done) {
  std::weak_ptr<bool> alive = alive_;
  std::string id = wf.id;
  uint64_t epoch = wf.epoch;
  Duration timeout = std::chrono::minutes(2);
  if (const GroupSpec* spec = group(wf.group)) timeout = spec->call_timeout;
  Record(EventKind::kAction, "action.started", wf.group, wf.zone, wf.instance,
         what, "", {{"workflow", wf.id}});
  ops_.Submit(
      what, timeout,
      [start](OpQueue::Finish finish) { start(std::move(finish)); },
      [this, alive, id, epoch, what, on_done](Status st) {
        if (!alive.lock()) return;
        auto it = workflows_.find(id);
        if (it == workflows_.end() || it->second.epoch != epoch) return;
        Workflow& w = it->second;
        Record(EventKind::kAction, st.ok() ? "action.succeeded" : "action.failed",
               w.group, w.zone, w.instance,
               what + (st.ok() ? ": ok" : ": " + st.ToString()), "",
               {{"workflow", w.id}});
        on_done(w, st);
      });
}

bool Controller::HoldIfFrozen(Workflow& wf) {
  bool frozen = governor_.fleet_frozen() || governor_.group_frozen(wf.group);
  if (!frozen) return false;
  if (wf.last_defer_rule != "freeze") {
    Record(EventKind::kRefusal, "workflow.held", wf.group, wf.zone, wf.instance,
           std::string(ToString(wf.state)) +
               " held: a freeze is on; the next destructive step waits",
           "freeze", {{"workflow", wf.id}});
    wf.last_defer_rule = "freeze";
  }
  ArmTimer(wf, std::chrono::seconds(5), [this](Workflow& w) { Step(w); });
  return true;
}

void Controller::RetryLater(Workflow& wf, const Status& why) {
  ++wf.call_attempt;
  const GroupSpec* spec = group(wf.group);
  Duration delay = spec ? Backoff(*spec, wf.call_attempt) : std::chrono::seconds(5);
  if (why.retry_after() && *why.retry_after() > delay) delay = *why.retry_after();
  Record(EventKind::kDecision, "workflow.retry", wf.group, wf.zone, wf.instance,
         std::string(ToString(wf.state)) + " will be retried in " +
             FormatDuration(delay) + " (attempt " +
             std::to_string(wf.call_attempt + 1) + "): " + why.ToString(),
         "backoff", {{"workflow", wf.id}});
  ArmTimer(wf, delay, [this](Workflow& w) { Step(w); });
}

// ---- starting a recovery ----------------------------------------------------

int Controller::ChooseRung(const InstanceRecord& rec, FailureKind kind,
                           const GroupSpec& spec, MonoTime now) const {
  const auto& rungs = spec.ladder.For(kind);
  bool gone = rec.info.lifecycle == Lifecycle::kTerminated;
  for (size_t i = 0; i < rungs.size(); ++i) {
    // An instance that no longer exists can only be replaced.
    if (gone && rungs[i].action != RecoveryAction::kReplace) continue;
    int used = 0;
    for (const auto& a : rec.attempts) {
      if (a.kind == kind && a.rung == static_cast<int>(i) &&
          now - a.at < rungs[i].window) {
        ++used;
      }
    }
    if (used < rungs[i].max_attempts) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> Controller::Corroborate(
    const InstanceRecord& rec, std::vector<std::string> signals) const {
  bool heartbeat_only = !signals.empty() &&
                        std::all_of(signals.begin(), signals.end(),
                                    [](const std::string& s) {
                                      return s == "heartbeat";
                                    });
  if (!heartbeat_only) return signals;
  // Peers: most other instances of the group in the same zone are heard
  // from, so the observer's path to the zone works and this silence is the
  // instance's own.
  auto g = groups_.find(rec.info.group);
  if (g == groups_.end()) return signals;
  auto z = g->second.zones.find(rec.info.zone);
  if (z == g->second.zones.end()) return signals;
  int peers = z->second.active - (rec.counted.active ? 1 : 0);
  int ok = z->second.app_ok - (rec.counted.app_ok ? 1 : 0);
  if (peers >= 1 && ok >= 1 && 2 * ok > peers) signals.push_back("peers");
  return signals;
}

void Controller::StartRecovery(InstanceRecord& rec) {
  GroupRuntime* g = Runtime(rec.info.group);
  if (!g || !started_) return;
  MonoTime now = loop_.Now();
  if (now < rec.parked_until) return;
  const GroupSpec& spec = g->spec;
  const HealthVerdict& v = rec.verdict;
  if (v.kind == FailureKind::kLost) {
    Record(EventKind::kDecision, "instance.lost", rec.info.group,
           rec.info.zone, rec.info.id,
           "instance was terminated outside Lifeline; a new one restores "
           "the group's capacity",
           "lost");
    std::string group = rec.info.group;
    RemoveInstance(rec.info.id);
    ScheduleReconcile(group);
    return;
  }
  if (g->shifted.count(rec.info.zone) &&
      spec.impaired_zone_behavior == ImpairedZoneBehavior::kIgnoreUnhealthy) {
    if (rec.parked_reason != "zonal_shift") {
      Record(EventKind::kDecision, "recovery.skipped", rec.info.group,
             rec.info.zone, rec.info.id,
             "zone " + rec.info.zone +
                 " is shifted away with IgnoreUnhealthy: left alone",
             "zonal_shift");
    }
    rec.parked_reason = "zonal_shift";
    rec.parked_until = MonoTime::max();
    return;
  }
  int rung = ChooseRung(rec, v.kind, spec, now);
  if (rung < 0) {
    // Park until the oldest attempt leaves its window.
    MonoTime until = MonoTime::max();
    const auto& rungs = spec.ladder.For(v.kind);
    for (const auto& a : rec.attempts) {
      if (a.kind == v.kind && a.rung < static_cast<int>(rungs.size())) {
        until = std::min(until, a.at + rungs[a.rung].window);
      }
    }
    rec.parked_until = until;
    rec.parked_reason = "exhausted";
    Record(EventKind::kAlert, "recovery.exhausted", rec.info.group,
           rec.info.zone, rec.info.id,
           "every rung of the " + std::string(ToString(v.kind)) +
               " ladder is used up; leaving the instance for an operator "
               "until " +
               (until == MonoTime::max() ? std::string("further notice")
                                         : FormatDuration(until - now) + " from now"),
           "ladder");
    if (until != MonoTime::max()) {
      std::weak_ptr<bool> alive = alive_;
      std::string id = rec.info.id;
      loop_.RunAt(until, [this, alive, id] {
        if (!alive.lock()) return;
        auto it = instances_.find(id);
        if (it != instances_.end()) Reevaluate(it->second);
      });
    }
    return;
  }
  rec.parked_reason.clear();
  Workflow& wf = NewWorkflow(WorkflowKind::kRecovery, rec.info.group);
  wf.instance = rec.info.id;
  wf.zone = rec.info.zone;
  wf.failure = v.kind;
  wf.signals = v.signals;
  wf.evidence = v.evidence;
  wf.rung = rung;
  wf.action = spec.ladder.For(v.kind)[rung].action;
  rec.workflow = wf.id;
  // Application-level signals (heartbeats, agents, probes, operators) can
  // fail many instances at once for one wrong reason (a partition, a bad
  // health-check deploy); they settle before the first decision so the
  // governor sees the whole correlated set.
  bool from_provider = std::any_of(
      v.signals.begin(), v.signals.end(), [](const std::string& s) {
        return s == "system_check" || s == "instance_check" || s == "provider";
      });
  wf.deadline = now + (from_provider ? Duration::zero() : config_.heartbeat_settle);
  Record(EventKind::kDecision, "recovery.started", wf.group, wf.zone,
         wf.instance,
         std::string(ToString(v.kind)) + " failure (" + v.evidence +
             "); plan: " + std::string(ToString(wf.action)) + " (rung " +
             std::to_string(rung + 1) + " of " +
             std::to_string(spec.ladder.For(v.kind).size()) + ")",
         "ladder",
         {{"workflow", wf.id},
          {"signals", Join(v.signals)},
          {"failure", std::string(ToString(v.kind))}});
  Enter(wf, WorkflowState::kAwaitingApproval);
  ScheduleDecisions();
}

// ---- decisions --------------------------------------------------------------

void Controller::ScheduleDecisions() {
  if (decisions_posted_) return;
  decisions_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.Post([this, alive] {
    if (alive.lock()) RunDecisions();
  });
}

void Controller::RunDecisions() {
  decisions_posted_ = false;
  EvaluateSafety();
  MonoTime now = loop_.Now();
  MonoTime earliest = MonoTime::max();
  std::vector<std::string> due;
  for (const auto& [id, wf] : workflows_) {
    if (wf.state != WorkflowState::kAwaitingApproval) continue;
    if (wf.deadline <= now) {
      due.push_back(id);
    } else {
      earliest = std::min(earliest, wf.deadline);
    }
  }
  for (const auto& id : due) {
    auto it = workflows_.find(id);
    if (it == workflows_.end() ||
        it->second.state != WorkflowState::kAwaitingApproval) {
      continue;
    }
    Decide(it->second);
    it = workflows_.find(id);
    if (it != workflows_.end() &&
        it->second.state == WorkflowState::kAwaitingApproval) {
      earliest = std::min(earliest, it->second.deadline);
    }
  }
  if (earliest != MonoTime::max() &&
      (decisions_timer_ == EventLoop::kNoTimer || earliest < decisions_at_)) {
    if (decisions_timer_ != EventLoop::kNoTimer) loop_.Cancel(decisions_timer_);
    decisions_at_ = earliest;
    std::weak_ptr<bool> alive = alive_;
    decisions_timer_ = loop_.RunAt(earliest, [this, alive] {
      if (!alive.lock()) return;
      decisions_timer_ = EventLoop::kNoTimer;
      RunDecisions();
    });
  }
}

void Controller::Decide(Workflow& wf) {
  GroupRuntime* g = Runtime(wf.group);
  MonoTime now = loop_.Now();
  auto it = instances_.find(wf.instance);
  if (wf.kind == WorkflowKind::kScaleIn) {
    if (it == instances_.end()) {
      Finish(wf, true, "instance already gone");
      return;
    }
    int active = 0;
    for (const auto& [z, c] : g->zones) active += c.active;
    if (active < g->spec.desired && !g->standby_retiring.count(wf.id)) {
      it->second.role = InstanceRole::kActive;
      it->second.workflow.clear();
      Account(it->second);
      Finish(wf, true, "scale-in no longer needed");
      return;
    }
  } else {
    if (it == instances_.end()) {
      Finish(wf, false, "instance is gone; capacity reconciliation takes over");
      return;
    }
    InstanceRecord& rec = it->second;
    if (!rec.verdict.unhealthy) {
      Finish(wf, true, "instance recovered on its own before any action");
      return;
    }
    if (g->shifted.count(wf.zone) && g->spec.impaired_zone_behavior ==
                                         ImpairedZoneBehavior::kIgnoreUnhealthy) {
      rec.parked_reason = "zonal_shift";
      rec.parked_until = MonoTime::max();
      Finish(wf, false, "zone shifted away with IgnoreUnhealthy: left alone");
      return;
    }
    // The failure may have changed kind (e.g. app failure, then the host).
    if (rec.verdict.kind != wf.failure) {
      wf.failure = rec.verdict.kind;
      int rung = ChooseRung(rec, wf.failure, g->spec, now);
      if (rung < 0) {
        Finish(wf, false, "ladder exhausted");
        return;
      }
      wf.rung = rung;
      wf.action = g->spec.ladder.For(wf.failure)[rung].action;
    }
    wf.signals = rec.verdict.signals;
  }

  SafetyRequest req;
  req.action = wf.action;
  req.is_terminate_only = wf.kind == WorkflowKind::kScaleIn;
  req.group = wf.group;
  req.zone = wf.zone;
  req.instance = wf.instance;
  req.failure = wf.failure;
  if (wf.kind == WorkflowKind::kRecovery) {
    req.signals = Corroborate(it->second, wf.signals);
  }
  for (const auto& [z, c] : g->zones) req.group_size += c.active;
  req.group_in_recovery = g->in_recovery;  // approved and acting
  ++stats_.decisions;
  SafetyDecision d = governor_.Decide(req);
  if (d.verdict == SafetyVerdict::kDefer) {
    ++stats_.deferrals;
    if (d.rule != wf.last_defer_rule) {
      std::string what = wf.kind == WorkflowKind::kScaleIn
                             ? std::string("terminate (scale-in)")
                             : std::string(ToString(wf.action));
      Record(EventKind::kRefusal, "safety.deferred", wf.group, wf.zone,
             wf.instance, what + " deferred: " + d.reason, d.rule,
             {{"workflow", wf.id},
              {"signals", Join(req.signals)},
              {"retry_after", FormatDuration(d.retry_after)}});
      wf.last_defer_rule = d.rule;
    }
    Duration wait = std::max<Duration>(d.retry_after, std::chrono::milliseconds(100));
    wf.deadline = now + wait;
    return;
  }
  std::string what = wf.kind == WorkflowKind::kScaleIn
                         ? std::string("terminate")
                         : std::string(ToString(wf.action));
  if (d.verdict == SafetyVerdict::kDryRun) {
    Record(EventKind::kDecision, "recovery.dry_run", wf.group, wf.zone,
           wf.instance, "dry-run: would " + what + " now (" + wf.evidence + ")",
           "dry_run", {{"workflow", wf.id}, {"signals", Join(req.signals)}});
    if (it != instances_.end()) {
      it->second.parked_reason = "dry_run";
      it->second.parked_until = MonoTime::max();
      if (wf.kind == WorkflowKind::kScaleIn) {
        it->second.role = g->standby_retiring.count(wf.id)
                              ? InstanceRole::kStandby
                              : InstanceRole::kActive;
        Account(it->second);
      }
    }
    wf.dry_run = true;
    Finish(wf, false, "dry-run: nothing executed");
    return;
  }
  ++stats_.approvals;
  wf.approved = true;
  if (wf.kind == WorkflowKind::kRecovery) ++g->in_recovery;
  wf.last_defer_rule.clear();
  Record(EventKind::kDecision, "recovery.approved", wf.group, wf.zone,
         wf.instance, what + " approved by the safety governor", "",
         {{"workflow", wf.id}, {"signals", Join(req.signals)}});
  if (wf.kind == WorkflowKind::kScaleIn) {
    Enter(wf, WorkflowState::kTerminatingOld);
    RunScaleIn(wf);
    return;
  }
  it->second.attempts.push_back({wf.failure, wf.rung, now});
  RunAction(wf);
}

// ---- the rungs --------------------------------------------------------------

void Controller::RunAction(Workflow& wf) {
  auto it = instances_.find(wf.instance);
  if (it == instances_.end()) {
    Finish(wf, false, "instance is gone");
    return;
  }
  if (HoldIfFrozen(wf)) return;
  const GroupSpec& spec = *group(wf.group);
  Duration verify = spec.ladder.For(wf.failure)[wf.rung].timeout;
  std::string id = wf.instance;
  auto after = [this, verify](Workflow& w, Status st) {
    if (st.ok()) {
      auto r = instances_.find(w.instance);
      if (r != instances_.end()) {
        // The operator's mark is acted upon; health is the signals' again.
        r->second.operator_healthy.reset();
        // After a restart the application must be heard from afresh,
        // within the group's grace period.
        r->second.app = AppHealth::kUnknown;
        r->second.app_source.clear();
        r->second.restarted_at = loop_.Now();
      }
      w.call_attempt = 0;
      w.healthy_since = MonoTime{};
      Enter(w, WorkflowState::kVerifying);
      ArmTimer(w, verify, [this](Workflow& x) {
        RungFailed(x, "not healthy within " +
                          FormatDuration(group(x.group)
                                             ->ladder.For(x.failure)[x.rung]
                                             .timeout) +
                          " after " + std::string(ToString(x.action)));
      });
      if (r != instances_.end()) Reevaluate(r->second);
    } else if (st.retryable()) {
      RetryLater(w, st);
    } else {
      RungFailed(w, std::string(ToString(w.action)) + " failed: " + st.ToString());
    }
  };
  switch (wf.action) {
    case RecoveryAction::kReboot: {
      bool stopped = it->second.info.lifecycle == Lifecycle::kStopped;
      Enter(wf, WorkflowState::kRebooting);
      ++stats_.reboots;
      Call(wf, std::string(stopped ? "Start(" : "Reboot(") + id + ")",
           [this, id, stopped](Provider::DoneStatus done) {
             if (stopped) provider_.Start(id, std::move(done));
             else provider_.Reboot(id, std::move(done));
           },
           after);
      return;
    }
    case RecoveryAction::kRecover:
      Enter(wf, WorkflowState::kRecovering);
      ++stats_.recovers;
      Call(wf, "Recover(" + id + ")",
           [this, id](Provider::DoneStatus done) {
             provider_.Recover(id, std::move(done));
           },
           after);
      return;
    case RecoveryAction::kReplace:
      StartReplace(wf);
      return;
  }
}

void Controller::StartReplace(Workflow& wf) {
  const GroupSpec& spec = *group(wf.group);
  auto it = instances_.find(wf.instance);
  bool wants_snapshot = std::any_of(
      spec.launch.volumes.begin(), spec.launch.volumes.end(),
      [](const VolumeSpec& v) { return v.snapshot_on_replace; });
  bool exists = it != instances_.end() &&
                it->second.info.lifecycle != Lifecycle::kTerminated;
  if (wants_snapshot && exists && wf.snapshots.empty()) {
    Enter(wf, WorkflowState::kSnapshotting);
    std::string id = wf.instance;
    auto snaps = std::make_shared<std::vector<Snapshot>>();
    Call(wf, "SnapshotVolumes(" + id + ")",
         [this, id, snaps](Provider::DoneStatus done) {
           provider_.SnapshotVolumes(
               id, [snaps, done](Result<std::vector<Snapshot>> r) {
                 if (r.ok()) *snaps = *r;
                 done(r.status());
               });
         },
         [this, snaps](Workflow& w, Status st) {
           if (st.ok()) {
             w.snapshots = *snaps;
             w.call_attempt = 0;
             LaunchReplacement(w);
           } else if (st.retryable()) {
             RetryLater(w, st);
           } else {
             Record(EventKind::kAlert, "snapshot.failed", w.group, w.zone,
                    w.instance,
                    "volume snapshot failed (" + st.ToString() +
                        "); replacing without the old data");
             w.snapshots.push_back(Snapshot{});  // mark as attempted
             LaunchReplacement(w);
           }
         });
    return;
  }
  LaunchReplacement(wf);
}

void Controller::LaunchReplacement(Workflow& wf) {
  GroupRuntime* g = Runtime(wf.group);
  const GroupSpec& spec = g->spec;
  // A standby already taken (a resumed or retried step) is started again.
  if (!wf.replacement.empty()) {
    auto taken = instances_.find(wf.replacement);
    if (taken != instances_.end() &&
        taken->second.role == InstanceRole::kReplacement &&
        taken->second.workflow == wf.id) {
      StartTakenStandby(wf);
      return;
    }
  }
  std::string zone = wf.replacement_zone;
  auto tried = [&](const std::string& z) {
    return std::find(wf.tried_zones.begin(), wf.tried_zones.end(), z) !=
           wf.tried_zones.end();
  };
  if (zone.empty() || tried(zone) || g->shifted.count(zone)) {
    zone.clear();
    if (!tried(wf.zone) && !g->shifted.count(wf.zone) &&
        std::find(spec.zones.begin(), spec.zones.end(), wf.zone) !=
            spec.zones.end()) {
      zone = wf.zone;
    } else {
      zone = PickLaunchZone(*g, wf.tried_zones);
    }
  }
  if (zone.empty()) {
    RungFailed(wf, "no zone can take a replacement (tried: " +
                       Join(wf.tried_zones) + ")");
    return;
  }
  wf.replacement_zone = zone;
  if (TakeStandby(wf, *g, zone)) return;
  Enter(wf, WorkflowState::kLaunching);
  LaunchRequest req;
  req.group = wf.group;
  req.zone = zone;
  req.spec = spec.launch;
  req.idempotency_token = wf.LaunchToken();
  for (const auto& s : wf.snapshots) {
    if (!s.id.empty()) req.volume_snapshots[s.device] = s.id;
  }
  auto launched = std::make_shared<InstanceInfo>();
  ++stats_.launches;
  Call(wf, "Launch(" + wf.group + ", " + zone + ", token " + req.idempotency_token + ")",
       [this, req, launched](Provider::DoneStatus done) {
         provider_.Launch(req, [launched, done](Result<InstanceInfo> r) {
           if (r.ok()) *launched = *r;
           done(r.status());
         });
       },
       [this, launched](Workflow& w, Status st) {
         if (st.ok()) {
           w.call_attempt = 0;
           w.replacement = launched->id;
           if (!instances_.count(launched->id)) {
             InstanceRecord& rep =
                 AddInstance(*launched, InstanceRole::kReplacement, loop_.Now());
             rep.workflow = w.id;
           } else {
             instances_[launched->id].workflow = w.id;
           }
           Enter(w, WorkflowState::kAwaitingReplacement);
           ArmTimer(w, group(w.group)->replacement_timeout,
                    [this](Workflow& x) { CleanUpReplacement(x); });
           CheckReplacementReady(w);
         } else if (IsCapacityError(st)) {
           w.tried_zones.push_back(w.replacement_zone);
           ++w.launch_attempt;
           w.call_attempt = 0;
           LaunchReplacement(w);
         } else if (st.retryable()) {
           RetryLater(w, st);
         } else {
           RungFailed(w, "launch failed: " + st.ToString());
         }
       });
}

void Controller::CheckReplacementReady(Workflow& wf) {
  auto rep = instances_.find(wf.replacement);
  if (rep == instances_.end() ||
      rep->second.info.lifecycle == Lifecycle::kTerminated) {
    Record(EventKind::kObservation, "replacement.lost", wf.group,
           wf.replacement_zone, wf.replacement,
           "replacement disappeared before it was ready; launching another");
    if (rep != instances_.end()) RemoveInstance(wf.replacement);
    wf.replacement.clear();
    ++wf.launch_attempt;
    LaunchReplacement(wf);
    return;
  }
  if (!ReadyForService(InputsFor(rep->second))) return;
  Record(EventKind::kObservation, "replacement.ready", wf.group,
         wf.replacement_zone, wf.replacement,
         "replacement " + wf.replacement + " for " + wf.instance +
             " is healthy",
         "", {{"workflow", wf.id}});
  MoveResources(wf);
}

void Controller::MoveResources(Workflow& wf) {
  auto old = instances_.find(wf.instance);
  std::vector<std::string> addresses;
  std::vector<Volume> volumes;
  bool old_runs = false;
  if (old != instances_.end()) {
    addresses = old->second.info.addresses;
    for (const auto& v : old->second.info.volumes) {
      if (v.detachable) volumes.push_back(v);
    }
    old_runs = old->second.info.lifecycle == Lifecycle::kRunning ||
               old->second.info.lifecycle == Lifecycle::kPending;
  }
  if (addresses.empty() && volumes.empty()) {
    TerminateOld(wf);
    return;
  }
  if (old_runs && !old->second.stopped_by_us) {
    if (HoldIfFrozen(wf)) return;
    // Fence first: the old instance must not keep writing to a volume or
    // answering on an address that is about to move.
    Enter(wf, WorkflowState::kFencing);
    old->second.stopped_by_us = true;
    std::string id = wf.instance;
    Call(wf, "Stop(" + id + ") to fence it",
         [this, id](Provider::DoneStatus done) {
           provider_.Stop(id, std::move(done));
         },
         [this](Workflow& w, Status st) {
           if (st.ok() || st.code() == StatusCode::kNotFound) {
             w.call_attempt = 0;
             MoveResources(w);
           } else if (st.retryable()) {
             RetryLater(w, st);
           } else {
             // Cannot fence: moving resources would risk two writers.
             Record(EventKind::kAlert, "fence.failed", w.group, w.zone,
                    w.instance,
                    "could not stop the old instance to fence it (" +
                        st.ToString() +
                        "); terminating it before moving its resources");
             auto o = instances_.find(w.instance);
             if (o != instances_.end()) o->second.stopped_by_us = true;
             TerminateOld(w);
           }
         });
    return;
  }
  Enter(wf, WorkflowState::kMovingResources);
  // Moves run one after another; each is idempotent, so a resumed workflow
  // simply runs them all again.
  struct Move {
    std::string what;
    std::function<void(Provider::DoneStatus)> start;
  };
  auto moves = std::make_shared<std::vector<Move>>();
  std::string to = wf.replacement;
  for (const auto& a : addresses) {
    moves->push_back({"MoveAddress(" + a + " -> " + to + ")",
                      [this, a, to](Provider::DoneStatus d) {
                        provider_.MoveAddress(a, to, std::move(d));
                      }});
  }
  for (const auto& v : volumes) {
    moves->push_back({"DetachVolume(" + v.id + ")",
                      [this, v](Provider::DoneStatus d) {
                        provider_.DetachVolume(v.id, std::move(d));
                      }});
    moves->push_back({"AttachVolume(" + v.id + " -> " + to + ")",
                      [this, v, to](Provider::DoneStatus d) {
                        provider_.AttachVolume(v.id, to, v.device, std::move(d));
                      }});
  }
  auto next = std::make_shared<std::function<void(Workflow&, size_t)>>();
  *next = [this, moves, weak_next = std::weak_ptr<std::function<void(Workflow&, size_t)>>(next)](
              Workflow& w, size_t i) {
    if (i == moves->size()) {
      // Move the bookkeeping with the resources.
      auto o = instances_.find(w.instance);
      auto n = instances_.find(w.replacement);
      if (o != instances_.end() && n != instances_.end()) {
        for (const auto& a : o->second.info.addresses) {
          n->second.info.addresses.push_back(a);
        }
        o->second.info.addresses.clear();
      }
      TerminateOld(w);
      return;
    }
    auto self = weak_next.lock();
    Call(w, (*moves)[i].what, (*moves)[i].start,
         [this, i, self](Workflow& x, Status st) {
           if (st.ok() || st.code() == StatusCode::kAlreadyExists) {
             if (self) (*self)(x, i + 1);
           } else if (st.retryable()) {
             RetryLater(x, st);
           } else {
             Record(EventKind::kAlert, "move.failed", x.group, x.zone,
                    x.instance, "could not move a resource: " + st.ToString());
             if (self) (*self)(x, i + 1);
           }
         });
  };
  (*next)(wf, 0);
}

void Controller::TerminateOld(Workflow& wf) {
  if (HoldIfFrozen(wf)) return;
  // Promote the replacement: from here on it is the group's capacity.
  auto rep = instances_.find(wf.replacement);
  if (rep != instances_.end() && rep->second.role == InstanceRole::kReplacement) {
    rep->second.role = InstanceRole::kActive;
    rep->second.workflow.clear();
    Account(rep->second);
  }
  auto old = instances_.find(wf.instance);
  if (old == instances_.end()) {
    Finish(wf, true, "replaced by " + wf.replacement);
    return;
  }
  old->second.role = InstanceRole::kRetiring;
  old->second.terminated_by_us = true;
  Account(old->second);
  Enter(wf, WorkflowState::kTerminatingOld);
  std::string id = wf.instance;
  ++stats_.terminates;
  Call(wf, "Terminate(" + id + ")",
       [this, id](Provider::DoneStatus done) {
         provider_.Terminate(id, std::move(done));
       },
       [this](Workflow& w, Status st) {
         if (st.ok() || st.code() == StatusCode::kNotFound) {
           RemoveInstance(w.instance);
           Finish(w, true, "replaced by " + w.replacement);
         } else if (st.retryable()) {
           RetryLater(w, st);
         } else {
           Record(EventKind::kAlert, "terminate.failed", w.group, w.zone,
                  w.instance,
                  "could not terminate the replaced instance: " + st.ToString());
           RetryLater(w, st);
         }
       });
}

void Controller::CleanUpReplacement(Workflow& wf) {
  if (HoldIfFrozen(wf)) return;
  if (wf.replacement.empty()) {
    LaunchReplacement(wf);
    return;
  }
  Record(EventKind::kDecision, "replacement.abandoned", wf.group,
         wf.replacement_zone, wf.replacement,
         "replacement " + wf.replacement + " did not become healthy in time; "
         "terminating it and trying elsewhere",
         "replacement_timeout", {{"workflow", wf.id}});
  Enter(wf, WorkflowState::kCleaningUp);
  std::string id = wf.replacement;
  if (auto r = instances_.find(id); r != instances_.end()) {
    r->second.terminated_by_us = true;
  }
  ++stats_.terminates;
  Call(wf, "Terminate(" + id + ") (failed replacement)",
       [this, id](Provider::DoneStatus done) {
         provider_.Terminate(id, std::move(done));
       },
       [this](Workflow& w, Status st) {
         if (st.ok() || st.code() == StatusCode::kNotFound) {
           RemoveInstance(w.replacement);
           w.tried_zones.push_back(w.replacement_zone);
           w.replacement.clear();
           ++w.launch_attempt;
           w.call_attempt = 0;
           const GroupSpec* spec = group(w.group);
           if (w.tried_zones.size() >= spec->zones.size()) {
             RungFailed(w, "no replacement became healthy in any zone");
           } else {
             LaunchReplacement(w);
           }
         } else {
           RetryLater(w, st);
         }
       });
}

void Controller::RungFailed(Workflow& wf, const std::string& why) {
  Record(EventKind::kDecision, "recovery.rung_failed", wf.group, wf.zone,
         wf.instance,
         std::string(ToString(wf.action)) + " did not repair it: " + why,
         "ladder", {{"workflow", wf.id}});
  // A replacement still in flight must not be orphaned.
  if (!wf.replacement.empty() && instances_.count(wf.replacement) &&
      instances_[wf.replacement].role == InstanceRole::kReplacement) {
    CleanUpReplacement(wf);
    return;
  }
  auto it = instances_.find(wf.instance);
  const GroupSpec* spec = group(wf.group);
  if (it == instances_.end() || !spec) {
    Finish(wf, false, why);
    return;
  }
  int rung = ChooseRung(it->second, wf.failure, *spec, loop_.Now());
  if (rung < 0) {
    Record(EventKind::kAlert, "recovery.exhausted", wf.group, wf.zone,
           wf.instance,
           "every rung of the " + std::string(ToString(wf.failure)) +
               " ladder failed; last: " + why,
           "ladder", {{"workflow", wf.id}});
    it->second.parked_reason = "exhausted";
    it->second.parked_until = MonoTime::max();
    Finish(wf, false, "ladder exhausted: " + why);
    return;
  }
  wf.rung = rung;
  wf.action = spec->ladder.For(wf.failure)[rung].action;
  if (wf.approved) {
    if (GroupRuntime* g = Runtime(wf.group)) --g->in_recovery;
  }
  wf.approved = false;
  wf.call_attempt = 0;
  wf.tried_zones.clear();
  wf.replacement_zone.clear();
  ++wf.launch_attempt;
  int attempts = 0;
  for (const auto& a : it->second.attempts) {
    if (a.kind == wf.failure) ++attempts;
  }
  Duration wait = Backoff(*spec, attempts);
  Enter(wf, WorkflowState::kAwaitingApproval);
  wf.deadline = loop_.Now() + wait;
  Record(EventKind::kDecision, "recovery.escalated", wf.group, wf.zone,
         wf.instance,
         "next: " + std::string(ToString(wf.action)) + " (rung " +
             std::to_string(rung + 1) + ") in " + FormatDuration(wait),
         "ladder", {{"workflow", wf.id}});
  ScheduleDecisions();
}

void Controller::Finish(Workflow& wf, bool success, const std::string& message) {
  if (wf.timer != EventLoop::kNoTimer) loop_.Cancel(wf.timer);
  GroupRuntime* g = Runtime(wf.group);
  if (g) {
    g->standby_launches.erase(wf.id);
    g->standby_retiring.erase(wf.id);
    g->rebalance_launches.erase(wf.id);
  }
  if (wf.kind == WorkflowKind::kRecovery) {
    if (g && wf.approved) --g->in_recovery;
    if (success && !wf.approved) {
      ++stats_.recoveries_self_healed;  // healthy again before any action
    } else if (!wf.dry_run) {
      success ? ++stats_.recoveries_succeeded : ++stats_.recoveries_failed;
    }
    Record(EventKind::kDecision,
           success ? "recovery.succeeded" : "recovery.failed", wf.group,
           wf.zone, wf.instance, message, "", {{"workflow", wf.id}});
  } else {
    Record(EventKind::kDecision,
           std::string(ToString(wf.kind)) + (success ? ".succeeded" : ".failed"),
           wf.group, wf.zone, wf.instance, message, "", {{"workflow", wf.id}});
  }
  for (const std::string* id : {&wf.instance, &wf.replacement}) {
    auto it = instances_.find(*id);
    if (it != instances_.end() && it->second.workflow == wf.id) {
      it->second.workflow.clear();
    }
  }
  if (wf.journaled) (void)journal_->Remove(wf.id);
  std::string group = wf.group;
  std::string subject = wf.instance;
  workflows_.erase(wf.id);
  // A subject still unhealthy after a successful-but-ineffective workflow
  // is looked at again.
  auto it = instances_.find(subject);
  if (it != instances_.end() && it->second.workflow.empty() &&
      it->second.verdict.unhealthy && it->second.role == InstanceRole::kActive) {
    StartRecovery(it->second);
  }
  if (g) ScheduleReconcile(group);
}

void Controller::OnHealthChangedDuringWorkflow(InstanceRecord& rec) {
  auto it = workflows_.find(rec.workflow);
  if (it == workflows_.end()) {
    rec.workflow.clear();
    return;
  }
  Workflow& wf = it->second;
  if (rec.info.id == wf.replacement) {
    if (wf.state == WorkflowState::kAwaitingReplacement) {
      CheckReplacementReady(wf);
    }
    return;
  }
  if (rec.info.id != wf.instance) return;
  if (!rec.verdict.unhealthy) rec.parked_reason.clear();
  switch (wf.state) {
    case WorkflowState::kAwaitingApproval:
      if (!rec.verdict.unhealthy) ScheduleDecisions();
      break;
    case WorkflowState::kVerifying:
      if (!rec.verdict.unhealthy && ReadyForService(InputsFor(rec))) {
        if (wf.healthy_since != MonoTime{}) break;
        // Healthy again: it must stay so for recovery_stable.
        wf.healthy_since = loop_.Now();
        std::weak_ptr<bool> alive = alive_;
        std::string id = wf.id;
        uint64_t epoch = wf.epoch;
        MonoTime since = wf.healthy_since;
        loop_.RunAfter(config_.recovery_stable, [this, alive, id, epoch, since] {
          if (!alive.lock()) return;
          auto it = workflows_.find(id);
          if (it == workflows_.end() || it->second.epoch != epoch ||
              it->second.healthy_since != since) {
            return;
          }
          Finish(it->second, true,
                 std::string(ToString(it->second.action)) +
                     " repaired the instance");
        });
      } else if (rec.verdict.kind == FailureKind::kLost) {
        Finish(wf, false, "instance was lost during verification");
        RemoveInstance(rec.info.id);
      } else {
        wf.healthy_since = MonoTime{};
      }
      break;
    default:
      break;
  }
}

void Controller::Step(Workflow& wf) {
  switch (wf.state) {
    case WorkflowState::kAwaitingApproval:
      wf.deadline = loop_.Now();
      ScheduleDecisions();
      return;
    case WorkflowState::kRebooting:
    case WorkflowState::kRecovering:
      RunAction(wf);
      return;
    case WorkflowState::kVerifying: {
      Duration verify = group(wf.group)->ladder.For(wf.failure)[wf.rung].timeout;
      ArmTimer(wf, verify, [this](Workflow& x) {
        RungFailed(x, "not healthy in time after " +
                          std::string(ToString(x.action)));
      });
      auto it = instances_.find(wf.instance);
      if (it != instances_.end()) OnHealthChangedDuringWorkflow(it->second);
      return;
    }
    case WorkflowState::kSnapshotting:
      StartReplace(wf);
      return;
    case WorkflowState::kLaunching:
      if (wf.kind == WorkflowKind::kLaunch) RunLaunch(wf);
      else LaunchReplacement(wf);
      return;
    case WorkflowState::kAwaitingReplacement:
      ArmTimer(wf, group(wf.group)->replacement_timeout,
               [this](Workflow& x) { CleanUpReplacement(x); });
      CheckReplacementReady(wf);
      return;
    case WorkflowState::kFencing:
    case WorkflowState::kMovingResources:
      MoveResources(wf);
      return;
    case WorkflowState::kTerminatingOld:
      if (wf.kind == WorkflowKind::kScaleIn) RunScaleIn(wf);
      else TerminateOld(wf);
      return;
    case WorkflowState::kCleaningUp:
      CleanUpReplacement(wf);
      return;
    case WorkflowState::kSucceeded:
    case WorkflowState::kFailed:
      Finish(wf, wf.state == WorkflowState::kSucceeded, "resumed finished workflow");
      return;
  }
}

// ---- warm pools -------------------------------------------------------------

bool Controller::TakeStandby(Workflow& wf, GroupRuntime& g,
                             const std::string& zone) {
  InstanceRecord* best = nullptr;
  for (const auto& id : g.members) {
    InstanceRecord& r = instances_[id];
    if (r.role != InstanceRole::kStandby || r.info.zone != zone ||
        !r.workflow.empty() || r.verdict.unhealthy ||
        !r.parked_reason.empty()) {
      continue;
    }
    Lifecycle lc = r.info.lifecycle;
    if (lc != Lifecycle::kRunning && lc != Lifecycle::kStopped) continue;
    if (!best || r.info.id < best->info.id) best = &r;
  }
  if (!best) return false;
  InstanceRecord& r = *best;
  r.role = InstanceRole::kReplacement;
  r.workflow = wf.id;
  r.stopped_by_us = r.info.lifecycle == Lifecycle::kStopped;
  wf.replacement = r.info.id;
  Account(r);
  PersistStandbys(g);
  Record(EventKind::kDecision, "warm_pool.used", wf.group, zone, r.info.id,
         "replacement for " + wf.instance + " taken from the warm pool (" +
             std::string(ToString(r.info.lifecycle)) + " standby)",
         "warm_pool", {{"workflow", wf.id}, {"standby", r.info.id}});
  StartTakenStandby(wf);
  ScheduleReconcile(wf.group);  // refill the pool
  return true;
}

void Controller::StartTakenStandby(Workflow& wf) {
  InstanceRecord& r = instances_[wf.replacement];
  auto await_ready = [this](Workflow& w) {
    auto it = instances_.find(w.replacement);
    if (it != instances_.end()) {
      // Its grace period and application health start now.
      it->second.launched_at = loop_.Now();
      it->second.stopped_by_us = false;
      Reevaluate(it->second);
    }
    Enter(w, WorkflowState::kAwaitingReplacement);
    ArmTimer(w, group(w.group)->replacement_timeout,
             [this](Workflow& x) { CleanUpReplacement(x); });
    CheckReplacementReady(w);
  };
  if (r.info.lifecycle != Lifecycle::kStopped) {
    await_ready(wf);
    return;
  }
  Enter(wf, WorkflowState::kLaunching);
  std::string id = wf.replacement;
  Call(wf, "Start(" + id + ") (warm-pool standby)",
       [this, id](Provider::DoneStatus done) {
         provider_.Start(id, std::move(done));
       },
       [this, await_ready](Workflow& w, Status st) {
         if (st.ok()) {
           w.call_attempt = 0;
           await_ready(w);
         } else if (st.retryable() && !IsCapacityError(st)) {
           RetryLater(w, st);
         } else {
           // The standby cannot start: put it back, parked, and launch cold.
           auto it = instances_.find(w.replacement);
           if (it != instances_.end()) {
             it->second.role = InstanceRole::kStandby;
             it->second.workflow.clear();
             it->second.parked_reason = "start_failed";
             Account(it->second);
           }
           Record(EventKind::kAlert, "warm_pool.start_failed", w.group,
                  w.replacement_zone, w.replacement,
                  "starting the standby failed (" + st.ToString() +
                      "); launching the replacement cold",
                  "warm_pool", {{"workflow", w.id}});
           w.replacement.clear();
           w.call_attempt = 0;
           LaunchReplacement(w);
         }
       });
}

}  // namespace lifeline
