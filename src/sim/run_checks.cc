// The invariant checks of a Run (runner.h states them).
#include <algorithm>
#include <ostream>

#include "sim/run.h"

namespace lifeline {

namespace {
std::string EvidenceOf(const HistoryEvent& e, const std::string& key) {
  for (const auto& [k, v] : e.evidence) {
    if (k == key) return v;
  }
  return "";
}
bool IsWorkflowEnd(const HistoryEvent& e) {
  if (e.kind != EventKind::kDecision) return false;
  for (const char* kind : {"recovery", "launch", "scale_in"}) {
    for (const char* how : {".succeeded", ".failed"}) {
      if (e.type == std::string(kind) + how) return true;
    }
  }
  return false;
}
}  // namespace

bool Run::Wants(const char* inv) const {
  return std::find(sc_.invariants.begin(), sc_.invariants.end(), inv) !=
         sc_.invariants.end();
}

void Run::Violate(const std::string& inv, const std::string& detail) {
  if (report_.violations.size() < 50) {
    report_.violations.push_back(
        {inv, FormatDuration(loop_.Now() - start_), detail});
  }
}

void Run::ViolateOnce(const std::string& key, const std::string& inv,
                      const std::string& detail) {
  if (reported_.insert(inv + " " + key).second) Violate(inv, detail);
}

WorkflowLedger::Identity Run::IdentityOf(const Workflow& wf) const {
  return {std::string(ToString(wf.kind)), wf.group,
          wf.kind == WorkflowKind::kLaunch ? "" : wf.instance};
}

void Run::OnHistory(const HistoryEvent& e) {
  ++report_.history_events;
  if (opt_.trace) {
    *opt_.trace << FormatDuration(loop_.Now() - start_) << "  " << e.type
                << "  " << e.instance << "  " << e.message
                << (e.rule.empty() ? "" : "  [" + e.rule + "]") << "\n";
  }
  // I1: each approval takes a token from the fleet's, the zone's and the
  // group's bucket; the runs of approvals must fit the stated budgets.
  if (e.type == "recovery.approved" && Wants("I1")) {
    MonoTime now = loop_.Now();
    const SafetyConfig& s = sc_.safety;
    std::optional<std::string> v = budgets_.Approve("fleet", now, s.fleet_burst,
                                                    s.fleet_actions_per_minute);
    if (!v) {
      v = budgets_.Approve("zone " + e.zone, now, s.zone_burst,
                           s.zone_actions_per_minute);
    }
    auto g = groups_.find(e.group);
    if (!v && g != groups_.end()) {
      v = budgets_.Approve("group " + e.group, now, g->second.safety.burst,
                           g->second.safety.actions_per_minute);
    }
    if (v) Violate("I1", *v);
  }
  // I6: a workflow id ends once.
  if (IsWorkflowEnd(e) && Wants("I6")) {
    std::string id = EvidenceOf(e, "workflow");
    if (!id.empty()) {
      if (auto v = workflows_.Finished(id)) ViolateOnce(id, "I6", *v);
    }
  }
}

void Run::OnDestructive(const DestructiveCall& c) {
  ++destructive_;
  MonoTime now = loop_.Now();
  std::string group = c.truth ? c.truth->group : "";
  // I5: frozen or dry-run groups receive nothing destructive.
  auto g = groups_.find(group);
  if (Wants("I5") &&
      (frozen_ || (g != groups_.end() && g->second.safety.dry_run))) {
    Violate("I5", c.op + " of " + c.instance + " while " +
                      (frozen_ ? "the fleet is frozen"
                               : "group " + group + " is in dry-run"));
  }
  // I2: observer-side faults must not hurt healthy instances.
  bool observer_fault = observer_faults_ > 0 || now < stall_settle_until_;
  bool healthy = c.truth && c.truth->healthy();
  if (Wants("I2") && observer_fault && healthy && c.op != "stop") {
    Violate("I2",
            c.op + " of " + c.instance +
                ", healthy in ground truth, during an observer-side fault");
  }
  // I1: the call belongs to an action the governor approved (and so
  // counted against the budgets), whichever step of it this is: a fence,
  // the termination of the replaced instance, the cleanup of a failed
  // replacement, a retry.
  const InstanceRecord* rec = controller_->instance(c.instance);
  auto wf = rec ? controller_->workflows().find(rec->workflow)
                : controller_->workflows().end();
  bool approved = wf != controller_->workflows().end() && wf->second.approved;
  if (Wants("I1") && !approved) {
    Violate("I1", c.op + " of " + c.instance +
                      " is no part of an action the safety governor "
                      "approved: it escaped every budget");
  }
  if (approved && wf->second.kind == WorkflowKind::kScaleIn && c.truth &&
      !c.truth->host_failed && !c.truth->crashed && !c.truth->app_hung) {
    scaled_in_working_.insert(c.instance);  // for I3
  }
}

void Run::OnLaunch(const LaunchRequest& r) {
  if (!Wants("I6") && !Wants("I3")) return;
  std::string id = WorkflowOfToken(r.idempotency_token);
  auto wf = controller_->workflows().find(id);
  if (wf == controller_->workflows().end()) {
    if (Wants("I6")) {
      Violate("I6", "launch with token '" + r.idempotency_token +
                        "' of no workflow Lifeline has");
    }
    return;
  }
  const WorkflowLedger::Identity who = IdentityOf(wf->second);
  bool new_replacement = who.kind == "recovery" &&
                         workflows_.SubjectOfToken(r.idempotency_token).empty();
  std::optional<std::string> v =
      workflows_.Launch(r.idempotency_token, id, who);
  if (v && Wants("I6")) ViolateOnce(id, "I6", *v);
  // I3: a new replacement while an earlier one for the same failed
  // instance still lives and has not failed, or after Lifeline scaled a
  // working one in. (A legitimate retry follows the loss of a replacement,
  // or the cleanup of one that never got ready.)
  if (new_replacement && Wants("I3")) {
    auto earlier = [&](const std::string& other, const char* why) {
      auto t = provider_.GroundTruth(other);
      if (!t || t->launched_by_token == r.idempotency_token ||
          workflows_.SubjectOfToken(t->launched_by_token) != who.subject) {
        return;
      }
      ViolateOnce("launch " + r.idempotency_token, "I3",
                  "second replacement of " + who.subject + " (" + id +
                      ", token " + r.idempotency_token + ") although " + other +
                      ", launched for it with token " + t->launched_by_token +
                      ", " + why);
    };
    for (const auto& live : LiveIds()) {
      auto t = provider_.GroundTruth(live);
      if (t && !t->host_failed && !t->crashed && !t->app_hung) {
        earlier(live, "lives and has not failed");
      }
    }
    for (const auto& gone : scaled_in_working_) {
      earlier(gone, "worked and was scaled in");
    }
  }
}

void Run::CheckStep() {
  Status acc = controller_->CheckAccounting();
  if (!acc.ok()) Violate("accounting", acc.ToString());
  if (Wants("I3")) CheckReplacements();
  if (Wants("I6")) CheckWorkflows();
  Duration now = loop_.Now() - start_;
  while (!capacity_due_.empty() && capacity_due_.begin()->first <= now) {
    CheckCapacity(capacity_due_.begin()->second);
    capacity_due_.erase(capacity_due_.begin());
  }
}

// I3: live instances launched to replace one failed instance, whichever
// workflow (and whichever life of Lifeline) launched them.
void Run::CheckReplacements() {
  std::map<std::string, std::vector<std::string>> live_by_subject;
  for (const auto& id : LiveIds()) {
    auto t = provider_.GroundTruth(id);
    if (!t || t->launched_by_token.empty()) continue;
    std::string subject = workflows_.SubjectOfToken(t->launched_by_token);
    if (!subject.empty()) live_by_subject[subject].push_back(id);
  }
  for (const auto& [subject, ids] : live_by_subject) {
    if (ids.size() < 2) continue;
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    ViolateOnce("live " + subject, "I3",
                "failed instance " + subject + " has " +
                    std::to_string(ids.size()) + " live replacements: " + list);
  }
}

// I6: one id per workflow, one workflow per instance.
void Run::CheckWorkflows() {
  std::map<std::string, std::vector<std::string>> by_subject;
  for (const auto& [id, wf] : controller_->workflows()) {
    if (auto v = workflows_.Seen(id, IdentityOf(wf))) ViolateOnce(id, "I6", *v);
    if (wf.kind != WorkflowKind::kLaunch) by_subject[wf.instance].push_back(id);
  }
  for (const auto& [subject, ids] : by_subject) {
    if (ids.size() < 2) continue;
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : " and ") + id;
    ViolateOnce(list, "I6", "two workflows act on " + subject + ": " + list);
  }
}

void Run::PlanCapacityChecks() {
  if (!Wants("I4")) return;
  for (const CapacityDeadline& d : CapacityDeadlines(sc_)) {
    if (d.past_end) {
      ++report_.deadlines_past_end;
    } else if (d.left_to) {
      ++report_.deadlines_left_to_later;
    } else {
      capacity_due_[d.at].push_back(d.fault);
    }
  }
}

// I4: at a fault's deadline each group is back at desired, counting the
// instances that serve in ground truth — as far as the group's checks can
// see: a hung application is invisible without application checks.
void Run::CheckCapacity(const std::vector<size_t>& faults) {
  std::string which;
  for (size_t i : faults) {
    const FaultSpec& f = sc_.faults[i];
    which += std::string(which.empty() ? "" : ", ") +
             std::string(ToString(f.kind)) + " at " + FormatDuration(f.at);
  }
  bool checked = false;
  for (const auto& [name, g] : groups_) {
    if (g.safety.dry_run) continue;  // I5's business: nothing is executed
    // Capacity exists when the group has a zone that takes launches.
    int open = 0;
    for (const auto& z : g.zones) {
      auto failed = failed_zones_.find(z);
      auto shortage = short_zones_.find(z);
      if ((failed == failed_zones_.end() || failed->second == 0) &&
          (shortage == short_zones_.end() || shortage->second == 0)) {
        ++open;
      }
    }
    if (open == 0) {
      ++report_.deadlines_without_capacity;
      continue;
    }
    int healthy = 0;
    for (const auto* r : controller_->GroupInstances(name)) {
      auto t = provider_.GroundTruth(r->info.id);
      if (r->role != InstanceRole::kActive || !t) continue;
      bool ok = g.check_application ? t->app_alive()
                                    : t->lifecycle == Lifecycle::kRunning &&
                                          !t->host_failed && !t->crashed;
      if (ok) ++healthy;
    }
    ++report_.capacity_checks;
    checked = true;
    if (healthy < g.desired) {
      Violate("I4", "group " + name + " has " + std::to_string(healthy) +
                        " healthy instances of " + std::to_string(g.desired) +
                        " desired, " +
                        FormatDuration(sc_.capacity_restored_within) +
                        " after the end of " + which);
    }
  }
  if (checked) {
    report_.capacity_checked_at.push_back(FormatDuration(loop_.Now() - start_));
  }
}

void Run::CheckRestart(const std::set<std::string>& approved_before) {
  if (Wants("I6")) {
    for (const auto& id : approved_before) {
      if (!controller_->workflows().count(id)) {
        Violate("I6", "workflow " + id + " was lost across the restart");
      }
    }
  }
  if (Wants("I5") && controller_->governor().fleet_frozen() != frozen_) {
    Violate("I5", frozen_ ? "the fleet freeze was lost across the restart: "
                            "Lifeline did not find it in its journal"
                          : "the restarted Lifeline believes the fleet is "
                            "frozen; it is not");
  }
}

void Run::CheckEnd() {
  // Let the fleet settle: no orphans once nothing is in flight.
  if (Wants("I3")) {
    for (const auto& id : LiveIds()) {
      if (controller_->instance(id)) continue;
      auto t = provider_.GroundTruth(id);
      std::string wf = t ? WorkflowOfToken(t->launched_by_token) : "";
      if (!controller_->workflows().count(wf)) {
        Violate("I3",
                "orphan instance " + id + " (launched, unknown to Lifeline)");
      }
    }
  }
  if (sc_.max_destructive_actions &&
      destructive_ > *sc_.max_destructive_actions) {
    Violate("expect",
            std::to_string(destructive_) +
                " destructive actions; the scenario expects at most " +
                std::to_string(*sc_.max_destructive_actions));
  }
}

}  // namespace lifeline
