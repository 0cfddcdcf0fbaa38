// Starting a recovery, the governor's decisions, and the in-place rungs of
// the ladder (restart, reboot, recover). Replacement is in replacement.cc.
#include <algorithm>

#include "controller/controller.h"

namespace lifeline {

namespace {
std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}
}  // namespace

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
  bool heartbeat_only =
      !signals.empty() &&
      std::all_of(signals.begin(), signals.end(),
                  [](const std::string& s) { return s == "heartbeat"; });
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
    Record(EventKind::kDecision, "instance.lost", rec.info.group, rec.info.zone,
           rec.info.id,
           "instance was terminated outside Lifeline; a new one restores "
           "the group's capacity",
           "lost");
    LeaveAddresses(*g, rec);
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
               (until == MonoTime::max()
                    ? std::string("further notice")
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
  bool from_provider =
      std::any_of(v.signals.begin(), v.signals.end(), [](const std::string& s) {
        return s == "system_check" || s == "instance_check" || s == "provider";
      });
  wf.deadline =
      now + (from_provider ? Duration::zero() : config_.heartbeat_settle);
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
    if (g->shifted.count(wf.zone) &&
        g->spec.impaired_zone_behavior ==
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
  req.starts_stopped = wf.kind == WorkflowKind::kRecovery &&
                       wf.action == RecoveryAction::kReboot &&
                       it->second.info.lifecycle == Lifecycle::kStopped &&
                       !it->second.stopped_by_us;
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
    Duration wait =
        std::max<Duration>(d.retry_after, std::chrono::milliseconds(100));
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
        // A provider that reports only when asked would otherwise leave
        // the verification waiting for the next poll.
        r->second.status_checked_at = MonoTime{};
        RequestStatusCheck(r->second);
        if (observer_) {
          if (const GroupSpec* spec = group(w.group)) {
            observer_->OnInstanceRestarted(r->second, *spec);
          }
        }
      }
      w.call_attempt = 0;
      w.healthy_since = MonoTime{};
      Enter(w, WorkflowState::kVerifying);
      ArmTimer(w, verify, [this](Workflow& x) {
        RungFailed(
            x, "not healthy within " +
                   FormatDuration(
                       group(x.group)->ladder.For(x.failure)[x.rung].timeout) +
                   " after " + std::string(ToString(x.action)));
      });
      if (r != instances_.end()) Reevaluate(r->second);
    } else if (st.retryable()) {
      RetryLater(w, st);
    } else {
      RungFailed(w,
                 std::string(ToString(w.action)) + " failed: " + st.ToString());
    }
  };
  switch (wf.action) {
    case RecoveryAction::kReboot: {
      bool stopped = it->second.info.lifecycle == Lifecycle::kStopped;
      Enter(wf, WorkflowState::kRebooting);
      ++stats_.reboots;
      Call(
          wf, std::string(stopped ? "Start(" : "Reboot(") + id + ")",
          [this, id, stopped](Provider::DoneStatus done) {
            if (stopped)
              provider_.Start(id, std::move(done));
            else
              provider_.Reboot(id, std::move(done));
          },
          after);
      return;
    }
    case RecoveryAction::kRecover:
      Enter(wf, WorkflowState::kRecovering);
      ++stats_.recovers;
      Call(
          wf, "Recover(" + id + ")",
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
        loop_.RunAfter(
            config_.recovery_stable, [this, alive, id, epoch, since] {
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
        // Heard from, but not yet seen running by the provider: ask it.
        if (rec.info.lifecycle != Lifecycle::kRunning) RequestStatusCheck(rec);
      }
      break;
    default:
      break;
  }
}

}  // namespace lifeline
