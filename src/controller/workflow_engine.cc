// The workflow engine: creating, journaling and stepping recovery workflows.
// Each step enters a named state (journaled before any provider call), issues
// at most one provider call through the OpQueue, and moves on from its
// completion. The steps themselves are in recovery.cc and replacement.cc.
#include <cstdio>

#include "controller/controller.h"

namespace lifeline {

bool Controller::ReserveWorkflowIds(const std::string& group) {
  const uint64_t floor = next_workflow_ + 1024;
  Status s = journal_->PutValue("workflow_id_floor", std::to_string(floor));
  if (!s.ok()) {
    if (!reservation_behind_) {
      Record(EventKind::kAlert, "journal.write_failed", group, "", "",
             "could not reserve workflow ids: " + s.ToString() +
                 "; provider calls of new workflows wait until it can");
    }
    reservation_behind_ = true;
    return false;
  }
  reserved_workflows_ = floor;
  reservation_behind_ = false;
  return true;
}

Workflow& Controller::NewWorkflow(WorkflowKind kind, const std::string& group) {
  // Workflow ids (and so launch tokens) must never repeat, not even after a
  // restart: ids are reserved in blocks recorded in the journal first. A
  // workflow whose id is not yet reserved durably may be created, but
  // issues no provider call until it is (JournalCaughtUp).
  if (next_workflow_ >= reserved_workflows_) (void)ReserveWorkflowIds(group);
  char buf[32];
  std::snprintf(buf, sizeof buf, "wf-%06llu",
                static_cast<unsigned long long>(next_workflow_));
  Workflow& wf = workflows_[buf];
  wf.id = buf;
  wf.number = next_workflow_++;
  wf.journaled = false;
  wf.kind = kind;
  wf.group = group;
  wf.created = wf.state_since = loop_.Now();
  return wf;
}

bool Controller::Persist(Workflow& wf) {
  Status s = journal_->Save(wf);
  if (!s.ok()) {
    if (!wf.journal_behind) {
      Record(EventKind::kAlert, "journal.write_failed", wf.group, wf.zone,
             wf.instance,
             "could not journal " + wf.id + ": " + s.ToString() +
                 "; its next provider call waits until the journal has it");
    }
    wf.journal_behind = true;
    return false;
  }
  wf.journal_behind = false;
  return true;
}

bool Controller::JournalCaughtUp(Workflow& wf) {
  if (wf.journal_behind && !Persist(wf)) return false;
  // Ids at or past the durable reservation could repeat after a restart.
  if (wf.number != 0 && wf.number >= reserved_workflows_ &&
      !ReserveWorkflowIds(wf.group)) {
    return false;
  }
  return true;
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
  // Journal first: a provider call whose step is not durably recorded
  // could be repeated (or orphaned) by a restarted Lifeline.
  if (!JournalCaughtUp(wf)) {
    ArmTimer(wf, config_.journal_retry,
             [this, what, start, on_done](Workflow& w) {
               Call(w, what, start, on_done);
             });
    return;
  }
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
        Record(EventKind::kAction,
               st.ok() ? "action.succeeded" : "action.failed", w.group, w.zone,
               w.instance, what + (st.ok() ? ": ok" : ": " + st.ToString()), "",
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
  Duration delay =
      spec ? Backoff(*spec, wf.call_attempt) : std::chrono::seconds(5);
  if (why.retry_after() && *why.retry_after() > delay)
    delay = *why.retry_after();
  Record(EventKind::kDecision, "workflow.retry", wf.group, wf.zone, wf.instance,
         std::string(ToString(wf.state)) + " will be retried in " +
             FormatDuration(delay) + " (attempt " +
             std::to_string(wf.call_attempt + 1) + "): " + why.ToString(),
         "backoff", {{"workflow", wf.id}});
  ArmTimer(wf, delay, [this](Workflow& w) { Step(w); });
}

void Controller::Finish(Workflow& wf, bool success,
                        const std::string& message) {
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
    Record(
        EventKind::kDecision,
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
      it->second.verdict.unhealthy &&
      it->second.role == InstanceRole::kActive) {
    StartRecovery(it->second);
  }
  if (g) ScheduleReconcile(group);
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
      Duration verify =
          group(wf.group)->ladder.For(wf.failure)[wf.rung].timeout;
      ArmTimer(wf, verify, [this](Workflow& x) {
        RungFailed(
            x, "not healthy in time after " + std::string(ToString(x.action)));
      });
      auto it = instances_.find(wf.instance);
      if (it != instances_.end()) OnHealthChangedDuringWorkflow(it->second);
      return;
    }
    case WorkflowState::kSnapshotting:
      StartReplace(wf);
      return;
    case WorkflowState::kLaunching:
      if (wf.kind == WorkflowKind::kLaunch)
        RunLaunch(wf);
      else
        LaunchReplacement(wf);
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
      if (wf.kind == WorkflowKind::kScaleIn)
        RunScaleIn(wf);
      else
        TerminateOld(wf);
      return;
    case WorkflowState::kCleaningUp:
      CleanUpReplacement(wf);
      return;
    case WorkflowState::kSucceeded:
    case WorkflowState::kFailed:
      Finish(wf, wf.state == WorkflowState::kSucceeded,
             "resumed finished workflow");
      return;
  }
}

}  // namespace lifeline
