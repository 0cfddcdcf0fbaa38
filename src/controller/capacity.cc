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
  // Replacements on their way (launched, not yet promoted) will add to
  // their zone too: counting them keeps concurrent replacements spread.
  std::map<std::string, int> replacing;
  for (const auto& [id, wf] : workflows_) {
    if (wf.group == g.spec.name && wf.kind == WorkflowKind::kRecovery &&
        !wf.replacement_zone.empty() &&
        (wf.state == WorkflowState::kLaunching ||
         wf.state == WorkflowState::kAwaitingReplacement)) {
      ++replacing[wf.replacement_zone];
    }
  }
  std::string best;
  int best_count = 0;
  for (const auto& z : LaunchableZones(g)) {
    if (std::find(exclude.begin(), exclude.end(), z) != exclude.end()) continue;
    int count = replacing[z];
    if (auto it = g.zones.find(z); it != g.zones.end()) {
      count += it->second.active + it->second.launching;
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
  // Unhealthy instances of a zone alone in panic are held from repair:
  // they count against desired yet serve nothing, so the group surges
  // their capacity into its other zones (never above spec.max).
  // Any panic in the fleet (another group's may be the observer's mistake
  // too), or a recent stall of Lifeline itself, keeps a surge in place: its
  // scale-in is discretionary and waits for calm.
  int held = 0;
  bool panic = governor_.stalled() || governor_.AnyPanic();
  std::vector<std::string> panicking;
  for (const auto& [z, c] : g->zones) {
    if (c.unhealthy > 0 &&
        governor_.OnlyZoneInPanic(name, z, config_.surge_after)) {
      held += c.unhealthy;
      panicking.push_back(z);
    }
  }
  if (panic) g->surge_hold_until = loop_.Now() + config_.surge_hold;
  int serving = active - held;
  int have = serving + launching;
  int desired = g->spec.desired;
  ReconcileWarmPool(*g);
  ReconcileAddresses(*g);
  if (have < desired) {
    int wanted = desired - have;
    if (held > 0 && g->spec.max > 0) {
      wanted = std::min(wanted, g->spec.max - active - launching);
    }
    if (held > 0 && wanted > 0) {
      std::string zones;
      for (const auto& z : panicking) zones += (zones.empty() ? "" : ",") + z;
      Record(EventKind::kDecision, "capacity.surge", name, "", "",
             std::to_string(held) + " unhealthy instance(s) in " + zones +
                 " held from repair by a zone panic; launching " +
                 std::to_string(wanted) + " in the group's other zones",
             "panic");
    }
    int started = 0;
    for (int i = 0; i < wanted; ++i) {
      std::string zone = PickLaunchZone(*g, panicking);
      if (zone.empty()) break;
      StartLaunch(*g, zone);
      ++started;
    }
    if (started < wanted) {
      Record(EventKind::kAlert, "capacity.no_zone", name, "", "",
             "group needs " + std::to_string(wanted) +
                 " more instance(s) but no zone accepts launches",
             "zones");
    }
  } else if (serving > desired) {
    // Surge capacity stays a while after a panic, in case it returns.
    if (loop_.Now() >= g->surge_hold_until) {
      ScaleInSurplus(*g, serving - desired);
    }
  } else if (launching == 0 && held == 0) {
    MaybeRebalance(*g);
  }
}

void Controller::StartLaunch(GroupRuntime& g, const std::string& zone,
                             bool rebalance) {
  Workflow& wf = NewWorkflow(WorkflowKind::kLaunch, g.spec.name);
  wf.zone = zone;
  wf.replacement_zone = zone;
  ++g.zones[zone].launching;
  if (rebalance) g.rebalance_launches.insert(wf.id);
  Record(EventKind::kDecision, rebalance ? "rebalance.launch" : "capacity.launch",
         g.spec.name, zone, "",
         rebalance ? "launching an instance to rebalance the group's zones "
                     "(an instance of a fuller zone retires once it is ready)"
                   : "launching an instance to reach desired capacity " +
                         std::to_string(g.spec.desired),
         rebalance ? "rebalance" : "capacity", {{"workflow", wf.id}});
  Enter(wf, WorkflowState::kLaunching);
  RunLaunch(wf);
}

void Controller::OnLaunched(Workflow& w, const InstanceInfo& info) {
  GroupRuntime* g = Runtime(w.group);
  bool standby = g && g->standby_launches.count(w.id);
  if (!instances_.count(info.id)) {
    AddInstance(info, standby ? InstanceRole::kStandby : InstanceRole::kActive,
                loop_.Now());
  }
  if (!g) return;
  if (standby) PersistStandbys(*g);
  if (g->rebalance_launches.count(w.id)) g->rebalance_new.insert(info.id);
}

void Controller::RunLaunch(Workflow& wf) {
  GroupRuntime* g = Runtime(wf.group);
  if (!g) return;
  if (wf.replacement_zone.empty()) wf.replacement_zone = wf.zone;
  bool standby = g->standby_launches.count(wf.id) > 0;
  LaunchRequest req;
  req.group = wf.group;
  req.zone = wf.replacement_zone;
  req.spec = g->spec.launch;
  req.idempotency_token = wf.LaunchToken();
  req.stopped = standby && g->spec.warm_pool.stopped;
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
         bool standby = gr && gr->standby_launches.count(w.id);
         // Standby and rebalance launches stay in their zone: elsewhere
         // they would not serve their purpose.
         bool zone_bound = standby || (gr && gr->rebalance_launches.count(w.id));
         auto release = [&] {
           if (gr && !standby) --gr->zones[w.zone].launching;
         };
         if (st.ok()) {
           release();
           OnLaunched(w, *launched);
           Finish(w, true, "launched " + launched->id + " in " + launched->zone +
                               (standby ? " (warm-pool standby)" : ""));
         } else if (zone_bound && (IsCapacityError(st) || !st.retryable())) {
           release();
           if (standby) {
             gr->warm_pool_after = loop_.Now() + std::chrono::minutes(1);
           } else {
             gr->rebalance_after = loop_.Now() + std::chrono::minutes(1);
           }
           Record(EventKind::kObservation,
                  standby ? "warm_pool.refill_failed" : "rebalance.blocked",
                  w.group, w.zone, "",
                  std::string(standby ? "warm-pool refill" : "rebalance launch") +
                      " in " + w.zone + " failed (" + st.ToString() +
                      "); trying again in 1m",
                  standby ? "warm_pool" : "rebalance", {{"workflow", w.id}});
           Finish(w, false, st.ToString());
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

int Controller::StartScaleIn(GroupRuntime& g, int count, bool rebalance) {
  // Victims: unhealthy first, then from the zone with the most instances,
  // newest first; never one a workflow is acting on.
  std::vector<InstanceRecord*> candidates;
  std::map<std::string, int> healthy;
  for (const auto& id : g.members) {
    InstanceRecord& r = instances_[id];
    if (r.role != InstanceRole::kActive) continue;
    if (!r.verdict.unhealthy) ++healthy[r.info.zone];
    if (r.workflow.empty() && !g.rebalance_new.count(id)) {
      candidates.push_back(&r);
    }
  }
  if (rebalance) {
    // A healthy victim must leave its zone at least min_healthy_per_zone.
    std::erase_if(candidates, [&](const InstanceRecord* r) {
      return !r->verdict.unhealthy &&
             healthy[r->info.zone] - 1 < g.spec.min_healthy_per_zone;
    });
  }
  std::map<std::string, int> per_zone;
  for (auto* r : candidates) ++per_zone[r->info.zone];
  int started = 0;
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
    if (rebalance && !victim->verdict.unhealthy &&
        --healthy[victim->info.zone] <= g.spec.min_healthy_per_zone) {
      std::erase_if(candidates, [&](const InstanceRecord* r) {
        return r->info.zone == victim->info.zone && !r->verdict.unhealthy;
      });
    }
    Workflow& wf = NewWorkflow(WorkflowKind::kScaleIn, g.spec.name);
    wf.instance = victim->info.id;
    wf.zone = victim->info.zone;
    wf.evidence = rebalance ? "rebalancing: its replacement in a less full "
                              "zone is ready"
                            : "group above desired capacity " +
                                  std::to_string(g.spec.desired);
    victim->workflow = wf.id;
    victim->role = InstanceRole::kRetiring;
    Account(*victim);
    Record(EventKind::kDecision,
           rebalance ? "rebalance.retire" : "capacity.scale_in", g.spec.name,
           victim->info.zone, victim->info.id,
           rebalance ? std::string("terminating: ") + wf.evidence
                     : "terminating to reach desired capacity " +
                           std::to_string(g.spec.desired),
           rebalance ? "rebalance" : "capacity", {{"workflow", wf.id}});
    wf.deadline = loop_.Now();
    Enter(wf, WorkflowState::kAwaitingApproval);
    ++started;
  }
  ScheduleDecisions();
  return started;
}

void Controller::RunScaleIn(Workflow& wf) {
  if (HoldIfFrozen(wf)) return;
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

// ---- rebalancing --------------------------------------------------------------

void Controller::ScaleInSurplus(GroupRuntime& g, int surplus) {
  // Launch before terminate: an instance a rebalance step launched holds
  // back one termination until it is ready for service.
  int waiting = 0, ready = 0;
  for (auto it = g.rebalance_new.begin(); it != g.rebalance_new.end();) {
    auto r = instances_.find(*it);
    if (r == instances_.end() || r->second.role != InstanceRole::kActive) {
      it = g.rebalance_new.erase(it);
      continue;
    }
    ReadyForService(InputsFor(r->second)) ? ++ready : ++waiting;
    ++it;
  }
  int count = surplus - waiting;
  if (count <= 0) return;
  bool rebalance = ready > 0;
  int matched = StartScaleIn(g, count, rebalance);
  if (!rebalance) return;
  // The step's new instances that were ready are matched by those
  // terminations.
  for (auto it = g.rebalance_new.begin();
       it != g.rebalance_new.end() && matched > 0;) {
    const InstanceRecord& r = instances_.at(*it);
    if (ReadyForService(InputsFor(r))) {
      it = g.rebalance_new.erase(it);
      --matched;
    } else {
      ++it;
    }
  }
}

void Controller::MaybeRebalance(GroupRuntime& g) {
  const GroupSpec& spec = g.spec;
  if (loop_.Now() < g.rebalance_after || g.in_recovery > 0 ||
      !g.rebalance_new.empty() || !g.rebalance_launches.empty()) {
    return;
  }
  for (const auto& [id, wf] : workflows_) {
    if (wf.group == spec.name && wf.kind == WorkflowKind::kScaleIn &&
        !g.standby_retiring.count(id)) {
      return;  // a previous step is still retiring instances
    }
  }
  std::vector<std::string> zones = LaunchableZones(g);
  if (zones.size() < 2) return;
  std::map<std::string, int> count, healthy;
  for (const auto& z : zones) {
    auto it = g.zones.find(z);
    count[z] = it == g.zones.end() ? 0 : it->second.active;
    healthy[z] =
        it == g.zones.end() ? 0 : it->second.active - it->second.unhealthy;
  }
  // Plan moves from the fullest zone that can spare a healthy instance
  // (keeping min_healthy_per_zone) to the emptiest, one at a time, up to
  // the step's share of the group.
  int step = std::max(1, static_cast<int>(spec.rebalance_step_ratio *
                                          static_cast<double>(spec.desired)));
  std::vector<std::pair<std::string, std::string>> moves;
  while (static_cast<int>(moves.size()) < step) {
    std::string lo, hi;
    for (const auto& z : zones) {
      if (lo.empty() || count[z] < count[lo]) lo = z;
      if (healthy[z] > spec.min_healthy_per_zone &&
          (hi.empty() || count[z] > count[hi])) {
        hi = z;
      }
    }
    if (hi.empty() || count[hi] - count[lo] <= 1) break;
    --count[hi];
    --healthy[hi];
    ++count[lo];
    moves.emplace_back(hi, lo);
  }
  if (moves.empty()) return;
  std::string plan, layout;
  for (const auto& [from, to] : moves) {
    plan += (plan.empty() ? "" : ",") + from + "->" + to;
  }
  for (const auto& z : zones) {
    auto it = g.zones.find(z);
    layout += (layout.empty() ? "" : ",") + z + "=" +
              std::to_string(it == g.zones.end() ? 0 : it->second.active);
  }
  Record(EventKind::kDecision, "rebalance.step", spec.name, "", "",
         "zones are unbalanced; moving " + std::to_string(moves.size()) +
             " instance(s), launch before terminate",
         "rebalance",
         {{"zones", layout},
          {"moves", plan},
          {"step_limit", std::to_string(step)},
          {"min_healthy_per_zone", std::to_string(spec.min_healthy_per_zone)}});
  for (const auto& [from, to] : moves) StartLaunch(g, to, /*rebalance=*/true);
}

// ---- warm pools ---------------------------------------------------------------

void Controller::ReconcileWarmPool(GroupRuntime& g) {
  const WarmPoolSpec& wp = g.spec.warm_pool;
  // Broken standbys are dropped; the pool refills below. (Only walk the
  // members when there are standbys: reconciles are frequent and groups
  // can hold a million instances.)
  int standbys = 0;
  for (const auto& [z, c] : g.zones) standbys += c.standby;
  static const std::unordered_set<std::string> kNoMembers;
  const auto& members = standbys > 0 ? g.members : kNoMembers;
  for (const auto& id : members) {
    InstanceRecord& r = instances_[id];
    bool broken = r.verdict.unhealthy || r.parked_reason == "start_failed";
    if (r.role != InstanceRole::kStandby || !r.workflow.empty() || !broken ||
        r.parked_reason == "dry_run") {
      continue;
    }
    std::string why = r.verdict.unhealthy ? r.verdict.evidence
                                          : std::string("it failed to start");
    Workflow& wf = NewWorkflow(WorkflowKind::kScaleIn, g.spec.name);
    wf.instance = id;
    wf.zone = r.info.zone;
    wf.evidence = "warm-pool standby is broken (" + why + ")";
    r.workflow = wf.id;
    r.role = InstanceRole::kRetiring;
    g.standby_retiring.insert(wf.id);
    Account(r);
    Record(EventKind::kDecision, "warm_pool.drop", g.spec.name, r.info.zone,
           id, "terminating a broken warm-pool standby: " + why,
           "warm_pool", {{"workflow", wf.id}});
    wf.deadline = loop_.Now();
    Enter(wf, WorkflowState::kAwaitingApproval);
    ScheduleDecisions();
  }
  if (wp.min_size <= 0 || loop_.Now() < g.warm_pool_after) return;
  int max_prepared =
      wp.max_prepared > 0
          ? wp.max_prepared
          : wp.min_size * static_cast<int>(g.spec.zones.size());
  std::map<std::string, int> have;
  int prepared = 0;
  for (const auto& [zone, c] : g.zones) {
    have[zone] += c.standby;
    prepared += c.standby;
  }
  for (const auto& [wf, zone] : g.standby_launches) {
    ++have[zone];
    ++prepared;
  }
  // Level by level, so that a max_prepared below min_size per zone still
  // spreads the pool across the zones.
  std::vector<std::string> zones = LaunchableZones(g);
  for (int level = 1; level <= wp.min_size; ++level) {
    for (const auto& zone : zones) {
      if (have[zone] >= level || prepared >= max_prepared) continue;
      StartStandbyLaunch(g, zone);
      ++have[zone];
      ++prepared;
    }
  }
}

void Controller::StartStandbyLaunch(GroupRuntime& g, const std::string& zone) {
  Workflow& wf = NewWorkflow(WorkflowKind::kLaunch, g.spec.name);
  wf.zone = zone;
  wf.replacement_zone = zone;
  g.standby_launches[wf.id] = zone;
  Record(EventKind::kDecision, "warm_pool.launch", g.spec.name, zone, "",
         std::string("launching a warm-pool standby (") +
             (g.spec.warm_pool.stopped ? "stopped" : "running") + ") to keep " +
             std::to_string(g.spec.warm_pool.min_size) + " per zone",
         "warm_pool", {{"workflow", wf.id}});
  Enter(wf, WorkflowState::kLaunching);
  RunLaunch(wf);
}

void Controller::PersistStandbys(const GroupRuntime& g) {
  std::string ids;
  for (const auto& id : g.members) {
    auto it = instances_.find(id);
    if (it != instances_.end() && it->second.role == InstanceRole::kStandby) {
      ids += (ids.empty() ? "" : ",") + id;
    }
  }
  Status s = journal_->PutValue("warm_pool/" + g.spec.name, ids);
  if (!s.ok()) {
    Record(EventKind::kAlert, "journal.write_failed", g.spec.name, "", "",
           "could not journal the warm pool: " + s.ToString());
  }
}

}  // namespace lifeline
