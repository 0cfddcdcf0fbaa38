// The dry-run preview: what the controller would do now and why, with the
// safety governor's verdict, without changing anything.
#include <algorithm>

#include "controller/controller.h"

namespace lifeline {

std::vector<PlannedAction> Controller::Preview() {
  // Read-only: the governor's view is the one the controller's own
  // evaluations (posted on every health change) keep current. Evaluating
  // here would let a GET record panic alerts and move hysteresis timing.
  std::vector<PlannedAction> out;
  for (const auto& [id, wf] : workflows_) {
    PlannedAction p;
    p.group = wf.group;
    p.zone = wf.zone;
    p.instance = wf.instance;
    p.action = wf.kind == WorkflowKind::kRecovery
                   ? std::string(ToString(wf.action))
               : wf.kind == WorkflowKind::kLaunch ? "launch"
                                                  : "terminate";
    p.reason =
        wf.evidence.empty() ? std::string(ToString(wf.kind)) : wf.evidence;
    p.detail = wf.id + " " + std::string(ToString(wf.state));
    if (wf.state == WorkflowState::kAwaitingApproval) {
      auto rec = instances_.find(wf.instance);
      SafetyRequest req;
      req.action = wf.action;
      req.is_terminate_only = wf.kind == WorkflowKind::kScaleIn;
      req.group = wf.group;
      req.zone = wf.zone;
      req.instance = wf.instance;
      req.failure = wf.failure;
      if (rec != instances_.end())
        req.signals = Corroborate(rec->second, wf.signals);
      if (const auto* g =
              groups_.count(wf.group) ? &groups_.at(wf.group) : nullptr) {
        for (const auto& [z, c] : g->zones) req.group_size += c.active;
        req.group_in_recovery = g->in_recovery;
      }
      SafetyDecision d = governor_.Decide(req, /*consume=*/false);
      p.verdict = std::string(ToString(d.verdict));
      p.rule = d.rule;
      if (!d.reason.empty()) p.detail += ": " + d.reason;
    } else {
      p.verdict = "in_progress";
    }
    out.push_back(std::move(p));
  }
  for (const auto& [id, rec] : instances_) {
    if (rec.verdict.unhealthy && rec.workflow.empty() &&
        rec.role == InstanceRole::kActive) {
      PlannedAction p;
      p.group = rec.info.group;
      p.zone = rec.info.zone;
      p.instance = id;
      p.action = "none";
      p.reason = rec.verdict.evidence;
      p.verdict = "parked";
      p.rule = rec.parked_reason;
      p.detail = rec.parked_reason.empty() ? "waiting for the next evaluation"
                                           : "left alone: " + rec.parked_reason;
      out.push_back(std::move(p));
    }
  }
  for (const auto& [name, g] : groups_) {
    int active = 0, launching = 0;
    for (const auto& [z, c] : g.zones) {
      active += c.active;
      launching += c.launching;
    }
    if (active + launching < g.spec.desired) {
      out.push_back({name, "", "", "launch",
                     "below desired capacity " + std::to_string(g.spec.desired),
                     "allow", "capacity",
                     std::to_string(g.spec.desired - active - launching) +
                         " instance(s) to launch"});
    } else if (active > g.spec.desired) {
      out.push_back({name, "", "", "terminate",
                     "above desired capacity " + std::to_string(g.spec.desired),
                     "allow", "capacity",
                     std::to_string(active - g.spec.desired) +
                         " instance(s) to scale in"});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const PlannedAction& a, const PlannedAction& b) {
              return std::tie(a.group, a.instance, a.action) <
                     std::tie(b.group, b.instance, b.action);
            });
  return out;
}

}  // namespace lifeline
