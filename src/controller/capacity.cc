// Capacity: keeping each group at its desired size, balanced across the
// zones it may launch into.
#include <algorithm>

#include "controller/controller.h"

namespace lifeline {

namespace {
bool IsCapacityError(const Status& s) {
  if (s.code() != StatusCode::kResourceExhausted) return false;
  std::string m = s.message();
  std::transform(m.begin(), m.end(), m.begin(), ::tolower);
  return m.find("capacity") != std::string::npos;
}
}  // namespace

void Controller::ScheduleReconcile(const std::string& group) {
  GroupRuntime* g = Runtime(group);
  if (!g || g->reconcile_posted) return;
  g->reconcile_posted = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.Post([this, alive, group] {
    if (!alive.lock()) return;
    if (GroupRuntime* r = Runtime(group)) {
      r->reconcile_posted = false;
      Reconcile(group);
    }
  });
}

std::vector<std::string> Controller::LaunchableZones(const GroupRuntime& g) const {
  std::vector<std::string> out;
  for (const auto& z : g.spec.zones) {
    if (!g.shifted.count(z)) out.push_back(z);
  }
  return out;
}

std::string Controller::PickLaunchZone(
    const GroupRuntime& g, const std::vector<std::string>& exclude) const {
  std::string best;
  int best_count = 0;
  for (const auto& z : LaunchableZones(g)) {
    if (std::find(exclude.begin(), exclude.end(), z) != exclude.end()) continue;
    int count = 0;
    if (auto it = g.zones.find(z); it != g.zones.end()) {
      count = it->second.active + it->second.launching;
    }
    if (best.empty() || count < best_count) {
      best = z;
      best_count = count;
    }
  }
  return best;
}

void Controller::Reconcile(const std::string& name) {
  GroupRuntime* g = Runtime(name);
  if (!g || !started_ || !g->adopted) return;
  int active = 0, launching = 0;
  for (const auto& [z, c] : g->zones) {
    active += c.active;
    launching += c.launching;
  }
  int have = active + launching;
  int desired = g->spec.desired;
  if (have < desired) {
    int started = 0;
    for (int i = 0; i < desired - have; ++i) {
      std::string zone = PickLaunchZone(*g, {});
      if (zone.empty()) break;
      StartLaunch(*g, zone);
      ++started;
    }
    if (started < desired - have) {
      Record(EventKind::kAlert, "capacity.no_zone", name, "", "",
             "group needs " + std::to_string(desired - have) +
                 " more instance(s) but no zone accepts launches",
             "zones");
    }
  } else if (active > desired) {
    StartScaleIn(*g, active - desired);
  }
}

void Controller::StartLaunch(GroupRuntime& g, const std::string& zone) {
  Workflow& wf = NewWorkflow(WorkflowKind::kLaunch, g.spec.name);
  wf.zone = zone;
  wf.replacement_zone = zone;
  ++g.zones[zone].launching;
  Record(EventKind::kDecision, "capacity.launch", g.spec.name, zone, "",
         "launching an instance to reach desired capacity " +
             std::to_string(g.spec.desired),
         "capacity", {{"workflow", wf.id}});
  Enter(wf, WorkflowState::kLaunching);
  RunLaunch(wf);
}

void Controller::RunLaunch(Workflow& wf) {
  GroupRuntime* g = Runtime(wf.group);
  if (!g) return;
  if (wf.replacement_zone.empty()) wf.replacement_zone = wf.zone;
  LaunchRequest req;
  req.group = wf.group;
  req.zone = wf.replacement_zone;
  req.spec = g->spec.launch;
  req.idempotency_token = wf.LaunchToken();
  auto launched = std::make_shared<InstanceInfo>();
  ++stats_.launches;
  Call(wf, "Launch(" + wf.group + ", " + req.zone + ", token " +
               req.idempotency_token + ")",
       [this, req, launched](Provider::DoneStatus done) {
         provider_.Launch(req, [launched, done](Result<InstanceInfo> r) {
           if (r.ok()) *launched = *r;
           done(r.status());
         });
       },
       [this, launched](Workflow& w, Status st) {
         GroupRuntime* gr = Runtime(w.group);
         auto release = [&] {
           if (gr) --gr->zones[w.zone].launching;
         };
         if (st.ok()) {
           release();
           if (!instances_.count(launched->id)) {
             AddInstance(*launched, InstanceRole::kActive, loop_.Now());
           }
           Finish(w, true, "launched " + launched->id + " in " + launched->zone);
         } else if (IsCapacityError(st)) {
           w.tried_zones.push_back(w.replacement_zone);
           std::string next = gr ? PickLaunchZone(*gr, w.tried_zones) : "";
           if (next.empty()) {
             release();
             Record(EventKind::kAlert, "capacity.exhausted", w.group, "", "",
                    "no zone has capacity for a launch (tried: " +
                        [&] {
                          std::string s;
                          for (const auto& z : w.tried_zones) {
                            s += (s.empty() ? "" : ",") + z;
                          }
                          return s;
                        }() +
                        ")",
                    "capacity");
             Finish(w, false, "no capacity in any zone");
             return;
           }
           Record(EventKind::kDecision, "capacity.zone_changed", w.group, next,
                  "",
                  "zone " + w.replacement_zone + " is out of capacity (" +
                      st.message() + "); launching in " + next + " instead",
                  "capacity");
           // Keep the launching counter on the zone it was charged to.
           w.replacement_zone = next;
           ++w.launch_attempt;
           w.call_attempt = 0;
           Enter(w, WorkflowState::kLaunching);
           RunLaunch(w);
         } else if (st.retryable()) {
           RetryLater(w, st);
         } else {
           release();
           Record(EventKind::kAlert, "launch.failed", w.group, w.zone, "",
                  "launch failed and will not be retried as is: " +
                      st.ToString(),
                  "capacity");
           Finish(w, false, st.ToString());
         }
       });
}

void Controller::StartScaleIn(GroupRuntime& g, int count) {
  // Victims: unhealthy first, then from the zone with the most instances,
  // newest first; never one a workflow is acting on.
  std::vector<InstanceRecord*> candidates;
  for (const auto& id : g.members) {
    InstanceRecord& r = instances_[id];
    if (r.role == InstanceRole::kActive && r.workflow.empty()) {
      candidates.push_back(&r);
    }
  }
  std::map<std::string, int> per_zone;
  for (auto* r : candidates) ++per_zone[r->info.zone];
  for (int i = 0; i < count && !candidates.empty(); ++i) {
    auto best = std::max_element(
        candidates.begin(), candidates.end(),
        [&](const InstanceRecord* a, const InstanceRecord* b) {
          if (a->verdict.unhealthy != b->verdict.unhealthy) {
            return !a->verdict.unhealthy;
          }
          int za = per_zone[a->info.zone], zb = per_zone[b->info.zone];
          if (za != zb) return za < zb;
          if (a->launched_at != b->launched_at) {
            return a->launched_at < b->launched_at;
          }
          return a->info.id < b->info.id;
        });
    InstanceRecord* victim = *best;
    candidates.erase(best);
    --per_zone[victim->info.zone];
    Workflow& wf = NewWorkflow(WorkflowKind::kScaleIn, g.spec.name);
    wf.instance = victim->info.id;
    wf.zone = victim->info.zone;
    wf.evidence = "group above desired capacity " +
                  std::to_string(g.spec.desired);
    victim->workflow = wf.id;
    victim->role = InstanceRole::kRetiring;
    Account(*victim);
    Record(EventKind::kDecision, "capacity.scale_in", g.spec.name,
           victim->info.zone, victim->info.id,
           "terminating to reach desired capacity " +
               std::to_string(g.spec.desired),
           "capacity", {{"workflow", wf.id}});
    wf.deadline = loop_.Now();
    Enter(wf, WorkflowState::kAwaitingApproval);
  }
  ScheduleDecisions();
}

void Controller::RunScaleIn(Workflow& wf) {
  std::string id = wf.instance;
  auto it = instances_.find(id);
  if (it == instances_.end()) {
    Finish(wf, true, "already gone");
    return;
  }
  it->second.terminated_by_us = true;
  ++stats_.terminates;
  Call(wf, "Terminate(" + id + ") (scale-in)",
       [this, id](Provider::DoneStatus done) {
         provider_.Terminate(id, std::move(done));
       },
       [this](Workflow& w, Status st) {
         if (st.ok() || st.code() == StatusCode::kNotFound) {
           RemoveInstance(w.instance);
           Finish(w, true, "terminated " + w.instance);
         } else {
           RetryLater(w, st);
         }
       });
}

}  // namespace lifeline
