#include "controller/controller.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace lifeline {

namespace {
void AddCounts(ZoneCounts& c, const InstanceRecord::Counted& what, int sign) {
  c.active += sign * what.active;
  c.unhealthy += sign * what.unhealthy;
  c.silent += sign * what.silent;
  c.app_ok += sign * what.app_ok;
  c.standby += sign * what.standby;
}
}  // namespace

std::string_view ToString(InstanceRole r) {
  switch (r) {
    case InstanceRole::kActive:
      return "active";
    case InstanceRole::kReplacement:
      return "replacement";
    case InstanceRole::kRetiring:
      return "retiring";
    case InstanceRole::kStandby:
      return "standby";
  }
  return "unknown";
}

Controller::Controller(EventLoop& loop, Provider& provider, History& history,
                       ControllerConfig config, Journal* journal)
    : loop_(loop),
      provider_(provider),
      history_(history),
      config_(config),
      journal_(journal ? journal : &own_journal_),
      rng_(config.seed),
      governor_(loop.clock(), config.safety),
      ops_(loop, config.max_in_flight_operations),
      alive_(std::make_shared<bool>(true)) {}

Controller::~Controller() {
  *alive_ = false;
  for (auto& [id, wf] : workflows_) {
    if (wf.timer != EventLoop::kNoTimer) loop_.Cancel(wf.timer);
  }
}

Controller::GroupRuntime* Controller::Runtime(const std::string& group) {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

void Controller::Record(
    EventKind kind, std::string type, const std::string& group,
    const std::string& zone, const std::string& instance, std::string message,
    std::string rule,
    std::vector<std::pair<std::string, std::string>> evidence) {
  HistoryEvent e;
  e.at = loop_.clock().WallNow();
  e.kind = kind;
  e.type = std::move(type);
  e.group = group;
  e.zone = zone;
  e.instance = instance;
  e.message = std::move(message);
  e.rule = std::move(rule);
  e.evidence = std::move(evidence);
  if (kind == EventKind::kAlert && alert_hook_) {
    history_.Append(e);
    alert_hook_(e);
  } else {
    history_.Append(std::move(e));
  }
}

// ---- start-up ---------------------------------------------------------------

void Controller::Start() {
  if (started_) return;
  started_ = true;
  governor_.NoteStarted();
  std::weak_ptr<bool> alive = alive_;

  // Freeze switches survive restarts.
  if (auto v = journal_->GetValue("freeze/fleet"); v.ok()) {
    governor_.SetFleetFrozen(*v == "on");
  }
  for (auto& [name, g] : groups_) {
    if (auto v = journal_->GetValue("freeze/group/" + name); v.ok()) {
      governor_.SetGroupFrozen(name, *v == "on");
    }
  }

  // Never reuse a workflow id (launch tokens derive from it).
  if (auto v = journal_->GetValue("workflow_id_floor"); v.ok()) {
    unsigned long long floor = std::strtoull(v->c_str(), nullptr, 10);
    if (floor > next_workflow_) next_workflow_ = floor;
  } else if (config_.first_workflow_id > next_workflow_) {
    next_workflow_ = config_.first_workflow_id;
  }
  // Resume journaled workflows.
  auto loaded = journal_->Load();
  if (!loaded.ok()) {
    Record(
        EventKind::kAlert, "journal.unreadable", "", "", "",
        "could not load the workflow journal: " + loaded.status().ToString());
  } else {
    for (Workflow& w : *loaded) {
      if (!groups_.count(w.group)) {
        Record(EventKind::kObservation, "workflow.dropped", w.group, w.zone,
               w.instance,
               "journaled workflow " + w.id + " belongs to unknown group " +
                   w.group + "; dropped");
        (void)journal_->Remove(w.id);
        continue;
      }
      // Keep ids unique after restart.
      unsigned long long n = 0;
      if (std::sscanf(w.id.c_str(), "wf-%llu", &n) == 1 &&
          n >= next_workflow_) {
        next_workflow_ = n + 1;
      }
      w.created = w.state_since = loop_.Now();
      std::string id = w.id;
      workflows_.emplace(id, std::move(w));
      const Workflow& w2 = workflows_[id];
      if (w2.kind == WorkflowKind::kRecovery && w2.approved) {
        ++groups_[w2.group].in_recovery;
      }
      if (w2.kind == WorkflowKind::kLaunch) {
        ++groups_[w2.group].zones[w2.zone].launching;
      }
    }
  }

  pending_adoptions_ = 0;
  for (auto& [name, g] : groups_) {
    ++pending_adoptions_;
    Adopt(name);
  }
  if (pending_adoptions_ == 0) {
    ready_ = true;
    if (config_.status_poll_interval == Duration::zero()) {
      governor_.NoteFreshEvidence();
    }
  }

  provider_.SetStatusSink([this, alive](const InstanceStatus& s) {
    if (alive.lock()) OnProviderStatus(s);
  });
  if (config_.status_poll_interval > Duration::zero()) {
    loop_.RunAfter(config_.status_poll_interval, [this, alive] {
      if (alive.lock()) PollStatus();
    });
  }
  if (config_.reconcile_interval > Duration::zero()) {
    loop_.RunAfter(config_.reconcile_interval, [this, alive] {
      if (alive.lock()) ReconcileTick();
    });
  }
  if (config_.inventory_interval > Duration::zero()) {
    loop_.RunAfter(config_.inventory_interval, [this, alive] {
      if (alive.lock()) InventoryTick();
    });
  }
}

void Controller::ReconcileTick() {
  for (auto& [name, g] : groups_) ScheduleReconcile(name);
  std::weak_ptr<bool> alive = alive_;
  loop_.RunAfter(config_.reconcile_interval, [this, alive] {
    if (alive.lock()) ReconcileTick();
  });
}

void Controller::Adopt(const std::string& group) {
  std::weak_ptr<bool> alive = alive_;
  provider_.ListInstances(group, [this, alive,
                                  group](Result<std::vector<InstanceInfo>> r) {
    if (!alive.lock()) return;
    GroupRuntime* g = Runtime(group);
    if (g == nullptr) return;
    if (!r.ok()) {
      Record(EventKind::kObservation, "adoption.failed", group, "", "",
             "listing the group's instances failed: " + r.status().ToString() +
                 "; retrying");
      loop_.RunAfter(std::chrono::seconds(5), [this, alive, group] {
        if (alive.lock() && Runtime(group)) Adopt(group);
      });
      return;
    }
    // Instances launched by journaled workflows are replacements, not
    // capacity, until their workflow promotes them. Warm-pool standbys are
    // journaled by id.
    std::set<std::string> standbys;
    if (auto v = journal_->GetValue("warm_pool/" + group); v.ok()) {
      std::string ids = *v;
      for (size_t at = 0; at < ids.size();) {
        size_t comma = std::min(ids.find(',', at), ids.size());
        standbys.insert(ids.substr(at, comma - at));
        at = comma + 1;
      }
    }
    int adopted = 0;
    WallTime wall_now = loop_.clock().WallNow();
    for (const InstanceInfo& info : *r) {
      if (info.lifecycle == Lifecycle::kTerminated) continue;
      if (instances_.count(info.id)) continue;
      Duration age =
          std::chrono::duration_cast<Duration>(wall_now - info.launch_time);
      if (age < Duration::zero()) age = Duration::zero();
      // Who owns it: a journaled workflow may be acting on it (its subject)
      // or may have launched it (a replacement not yet promoted).
      InstanceRole role = standbys.count(info.id) ? InstanceRole::kStandby
                                                  : InstanceRole::kActive;
      std::string owner;
      for (auto& [id, wf] : workflows_) {
        if (wf.group != group) continue;
        bool launched_by = wf.replacement == info.id ||
                           (!info.launch_token.empty() &&
                            info.launch_token == wf.LaunchToken());
        if (launched_by && wf.kind == WorkflowKind::kRecovery) {
          bool promoted = wf.state == WorkflowState::kTerminatingOld;
          role = promoted ? InstanceRole::kActive : InstanceRole::kReplacement;
          if (!promoted) owner = id;
          wf.replacement = info.id;
        } else if (wf.kind != WorkflowKind::kLaunch && wf.instance == info.id) {
          owner = id;
          bool retiring = wf.kind == WorkflowKind::kScaleIn ||
                          wf.state == WorkflowState::kTerminatingOld;
          if (retiring) role = InstanceRole::kRetiring;
        }
      }
      InstanceRecord& rec = AddInstance(info, role, loop_.Now() - age, owner);
      // Lifeline has not heard from it in this life: the application gets
      // the group's grace period to be heard from before silence counts
      // (its provider checks count at once).
      rec.adopted_at = loop_.Now();
      Reevaluate(rec);
      ++adopted;
    }
    g->adopted = true;
    LoadLeftAddresses(*g);
    Record(EventKind::kObservation, "group.adopted", group, "", "",
           "found " + std::to_string(adopted) + " existing instance(s)");
    // Resume workflows of this group now that instances are known.
    for (auto& [id, wf] : workflows_) {
      if (wf.group == group) {
        Record(EventKind::kDecision, "workflow.resumed", wf.group, wf.zone,
               wf.instance,
               "resuming " + std::string(ToString(wf.kind)) + " " + id +
                   " at " + std::string(ToString(wf.state)));
        Step(wf);
      }
    }
    ScheduleReconcile(group);
    if (pending_adoptions_ > 0 && --pending_adoptions_ == 0) {
      ready_ = true;
      if (config_.status_poll_interval == Duration::zero()) {
        governor_.NoteFreshEvidence();
      } else {
        PollStatus();
      }
    }
  });
}

// ---- instances and accounting ----------------------------------------------

InstanceRecord& Controller::AddInstance(const InstanceInfo& info,
                                        InstanceRole role, MonoTime launched_at,
                                        const std::string& workflow) {
  InstanceRecord& rec = instances_[info.id];
  rec.info = info;
  rec.workflow = workflow;
  rec.info.tags.clear();  // the group's spec holds them; keep records small
  rec.role = role;
  rec.launched_at = launched_at;
  GroupRuntime* g = Runtime(info.group);
  if (g) {
    g->members.insert(info.id);
    if (observer_) observer_->OnInstanceAdded(rec, g->spec);
  }
  Reevaluate(rec);
  return rec;
}

void Controller::RemoveInstance(const std::string& id) {
  auto it = instances_.find(id);
  if (it == instances_.end()) return;
  InstanceRecord& rec = it->second;
  if (GroupRuntime* g = Runtime(rec.info.group)) {
    if (rec.counted.in) {
      AddCounts(g->zones[rec.info.zone], rec.counted, -1);
      AddCounts(fleet_zones_[rec.info.zone], rec.counted, -1);
    }
    g->members.erase(id);
  }
  if (observer_) observer_->OnInstanceRemoved(id);
  instances_.erase(it);
  ScheduleEvaluation();
}

void Controller::Account(InstanceRecord& rec) {
  GroupRuntime* g = Runtime(rec.info.group);
  InstanceRecord::Counted now;
  if (g) {
    now.in = true;
    now.active = rec.role == InstanceRole::kActive;
    now.unhealthy = now.active && rec.verdict.unhealthy;
    now.silent = now.active && (rec.verdict.unhealthy || rec.verdict.suspect);
    now.app_ok = now.active && rec.app == AppHealth::kOk;
    now.standby = rec.role == InstanceRole::kStandby;
  }
  const InstanceRecord::Counted& was = rec.counted;
  if (was.in == now.in && was.active == now.active &&
      was.unhealthy == now.unhealthy && was.silent == now.silent &&
      was.app_ok == now.app_ok && was.standby == now.standby) {
    return;
  }
  if (g) {
    for (ZoneCounts* c :
         {&g->zones[rec.info.zone], &fleet_zones_[rec.info.zone]}) {
      AddCounts(*c, was, -1);
      AddCounts(*c, now, +1);
    }
  }
  rec.counted = now;
  ScheduleEvaluation();
}

HealthInputs Controller::InputsFor(const InstanceRecord& rec) const {
  HealthInputs in;
  in.lifecycle = rec.info.lifecycle;
  in.system_check = rec.info.system_check;
  in.instance_check = rec.info.instance_check;
  in.app = rec.app;
  in.app_source = rec.app_source;
  in.app_reason = rec.app_reason;
  in.operator_healthy = rec.operator_healthy;
  in.operator_reason = rec.operator_reason;
  in.terminated_by_us = rec.terminated_by_us;
  in.stopped_by_us = rec.stopped_by_us;
  auto it = groups_.find(rec.info.group);
  if (it != groups_.end()) {
    const GroupSpec& spec = it->second.spec;
    in.in_grace = loop_.Now() < std::max(rec.launched_at, rec.restarted_at) +
                                    spec.grace_period;
    in.in_app_grace = loop_.Now() < rec.adopted_at + spec.grace_period;
    in.check_system = spec.check_system;
    in.check_instance = spec.check_instance;
    in.check_application = spec.check_application;
  }
  if (rec.role == InstanceRole::kStandby) {
    // A standby serves nothing: kept stopped (or idle) on purpose, and its
    // application is not expected to be heard from until it is used.
    in.stopped_by_us = true;
    in.check_application = false;
  }
  return in;
}

void Controller::Reevaluate(InstanceRecord& rec) {
  HealthInputs in = InputsFor(rec);
  HealthVerdict v = EvaluateHealth(in);
  bool was_unhealthy = rec.verdict.unhealthy;
  bool was_suspect = rec.verdict.suspect;
  rec.verdict = v;
  if (v.unhealthy && !was_unhealthy) {
    rec.unhealthy_since = loop_.Now();
    Record(EventKind::kObservation, "instance.unhealthy", rec.info.group,
           rec.info.zone, rec.info.id, v.evidence, "",
           {{"failure", std::string(ToString(v.kind))},
            {"signals",
             [&] {
               std::string s;
               for (const auto& x : v.signals) s += (s.empty() ? "" : ",") + x;
               return s;
             }()},
            {"role", std::string(ToString(rec.role))}});
  } else if (!v.unhealthy && was_unhealthy) {
    Record(EventKind::kObservation, "instance.healthy", rec.info.group,
           rec.info.zone, rec.info.id, "instance is healthy again");
  } else if (v.suspect && !was_suspect) {
    Record(EventKind::kObservation, "instance.suspect", rec.info.group,
           rec.info.zone, rec.info.id, v.evidence);
  }
  // A failure seen during the grace period is looked at again when the
  // grace period ends.
  if ((in.in_grace || in.in_app_grace) && !v.unhealthy) {
    HealthInputs no_grace = in;
    no_grace.in_grace = false;
    no_grace.in_app_grace = false;
    if (EvaluateHealth(no_grace).unhealthy) {
      auto it = groups_.find(rec.info.group);
      MonoTime end =
          std::max({rec.launched_at, rec.restarted_at, rec.adopted_at}) +
          it->second.spec.grace_period;
      std::weak_ptr<bool> alive = alive_;
      std::string id = rec.info.id;
      loop_.RunAt(end, [this, alive, id] {
        if (!alive.lock()) return;
        auto r = instances_.find(id);
        if (r != instances_.end()) Reevaluate(r->second);
      });
    }
  }
  Account(rec);
  if (!rec.workflow.empty()) {
    OnHealthChangedDuringWorkflow(rec);
  } else if (v.unhealthy && rec.role == InstanceRole::kActive) {
    StartRecovery(rec);
  } else if (v.unhealthy && rec.role == InstanceRole::kStandby) {
    // A broken standby is simply dropped; the pool refills.
    ScheduleReconcile(rec.info.group);
  } else if (rec.role == InstanceRole::kActive) {
    // A rebalance launch that is ready lets its step retire an instance.
    auto g = groups_.find(rec.info.group);
    if (g != groups_.end() && g->second.rebalance_new.count(rec.info.id) &&
        ReadyForService(in)) {
      ScheduleReconcile(rec.info.group);
    }
  }
}

// ---- signals ----------------------------------------------------------------

void Controller::OnProviderStatusAsked(const InstanceStatus& s,
                                       MonoTime asked) {
  auto it = instances_.find(s.id);
  if (it == instances_.end() || it->second.status_seen_at > asked) return;
  OnProviderStatus(s);
}

void Controller::OnProviderStatus(const InstanceStatus& s) {
  auto it = instances_.find(s.id);
  if (it == instances_.end()) return;
  InstanceRecord& rec = it->second;
  rec.status_seen_at = loop_.Now();
  if (rec.info.lifecycle == s.lifecycle &&
      rec.info.system_check == s.system_check &&
      rec.info.instance_check == s.instance_check) {
    return;
  }
  rec.info.lifecycle = s.lifecycle;
  rec.info.system_check = s.system_check;
  rec.info.instance_check = s.instance_check;
  Reevaluate(rec);
}

void Controller::OnAppHealth(const AppHealthTransition& t) {
  auto it = instances_.find(t.instance_id);
  if (it == instances_.end()) return;
  InstanceRecord& rec = it->second;
  if (rec.app == t.health && rec.app_source == t.source) return;
  rec.app = t.health;
  rec.app_source = t.source;
  rec.app_reason = t.reason;
  rec.app_since = loop_.Now();
  if (t.health == AppHealth::kSuspect ||
      (t.health == AppHealth::kFailed && t.source == "heartbeat")) {
    RequestStatusCheck(rec);
  }
  Reevaluate(rec);
}

void Controller::RequestStatusCheck(InstanceRecord& rec) {
  if (config_.suspect_check_interval <= Duration::zero()) return;
  const MonoTime now = loop_.Now();
  if (rec.status_checked_at != MonoTime{} &&
      now - rec.status_checked_at < config_.suspect_check_interval) {
    // Too soon after the last one: one more when the interval ends, so the
    // newest reason to look is not lost.
    if (rec.status_check_deferred) return;
    rec.status_check_deferred = true;
    std::weak_ptr<bool> alive = alive_;
    std::string id = rec.info.id;
    loop_.RunAfter(rec.status_checked_at + config_.suspect_check_interval - now,
                   [this, alive, id] {
                     if (!alive.lock()) return;
                     auto it = instances_.find(id);
                     if (it == instances_.end()) return;
                     it->second.status_check_deferred = false;
                     RequestStatusCheck(it->second);
                   });
    return;
  }
  rec.status_checked_at = now;
  status_checks_.push_back(rec.info.id);
  if (status_check_busy_) return;
  status_check_busy_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.Post([this, alive] {
    if (alive.lock()) FlushStatusChecks();
  });
}

void Controller::FlushStatusChecks() {
  if (status_checks_.empty()) {
    status_check_busy_ = false;
    return;
  }
  std::vector<std::string> batch;
  const size_t n = std::min(status_checks_.size(), config_.status_batch);
  batch.assign(status_checks_.begin(), status_checks_.begin() + n);
  status_checks_.erase(status_checks_.begin(), status_checks_.begin() + n);
  ++stats_.status_checks;
  std::weak_ptr<bool> alive = alive_;
  const MonoTime asked = loop_.Now();
  provider_.DescribeStatus(
      batch, [this, alive, asked](Result<std::vector<InstanceStatus>> r) {
        if (!alive.lock()) return;
        if (!r.ok()) {
          Record(EventKind::kObservation, "provider.status_failed", "", "", "",
                 "DescribeStatus of suspect instances failed: " +
                     r.status().ToString());
        } else {
          for (const auto& s : *r) OnProviderStatusAsked(s, asked);
        }
        FlushStatusChecks();  // the next batch, or idle
      });
}

void Controller::OnLoadReport(const LoadReport& r) {
  auto it = instances_.find(r.instance_id);
  if (it == instances_.end()) return;
  it->second.error_ratio = r.error_ratio;
  it->second.latency_ms = r.latency_ms;
}

void Controller::OnLoopStall(Duration gap) {
  governor_.NoteStall(gap);
  Record(EventKind::kAlert, "lifeline.stalled", "", "", "",
         "Lifeline's loop did not run for " + FormatDuration(gap) +
             "; destructive actions wait until evidence is fresh again",
         "stall", {{"gap", FormatDuration(gap)}});
}

void Controller::PollStatus() {
  std::weak_ptr<bool> alive = alive_;
  std::vector<std::string> ids;
  ids.reserve(instances_.size());
  for (const auto& [id, rec] : instances_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());  // deterministic batches
  auto remaining = std::make_shared<size_t>(0);
  auto failed = std::make_shared<bool>(false);
  size_t batches =
      (ids.size() + config_.status_batch - 1) / config_.status_batch;
  *remaining = batches;
  auto done_all = [this, alive, failed] {
    if (!alive.lock()) return;
    if (!*failed && ready_) governor_.NoteFreshEvidence();
    loop_.RunAfter(config_.status_poll_interval, [this, alive] {
      if (alive.lock()) PollStatus();
    });
  };
  if (batches == 0) {
    done_all();
    return;
  }
  for (size_t b = 0; b < batches; ++b) {
    std::vector<std::string> batch(
        ids.begin() + b * config_.status_batch,
        ids.begin() + std::min(ids.size(), (b + 1) * config_.status_batch));
    const MonoTime asked = loop_.Now();
    provider_.DescribeStatus(
        batch, [this, alive, remaining, failed, done_all,
                asked](Result<std::vector<InstanceStatus>> r) {
          if (!alive.lock()) return;
          if (!r.ok()) {
            *failed = true;
            Record(EventKind::kObservation, "provider.status_failed", "", "",
                   "", "DescribeStatus failed: " + r.status().ToString());
          } else {
            for (const auto& s : *r) OnProviderStatusAsked(s, asked);
          }
          if (--*remaining == 0) done_all();
        });
  }
}

void Controller::ScheduleEvaluation() {
  if (evaluation_posted_) return;
  evaluation_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.Post([this, alive] {
    if (!alive.lock()) return;
    evaluation_posted_ = false;
    EvaluateSafety();
  });
}

void Controller::EvaluateSafety() {
  for (auto& [name, g] : groups_) {
    int total = 0, silent = 0;
    for (const auto& [zone, c] : g.zones) {
      total += c.active;
      silent += c.silent;
    }
    governor_.UpdateGroupHealth(name, total, silent);
  }
  for (const auto& [zone, c] : fleet_zones_) {
    governor_.UpdateZoneHealth(zone, c.active, c.silent);
  }
  std::vector<SafetyAlert> alerts = governor_.Evaluate();
  // Panic entered or left changes what capacity the groups hold back.
  if (!alerts.empty()) {
    for (auto& [name, g] : groups_) ScheduleReconcile(name);
  }
  for (const SafetyAlert& a : alerts) {
    Record(EventKind::kAlert, "safety." + a.type,
           a.scope == "group" ? a.name : "", a.scope == "zone" ? a.name : "",
           "", a.reason, a.type.substr(0, a.type.find('.')),
           {{"scope", a.scope}, {"name", a.name}});
  }
}

// ---- commands ---------------------------------------------------------------

Status Controller::ApplyGroup(const GroupSpec& spec, const std::string& actor) {
  LIFELINE_RETURN_IF_ERROR(spec.Validate());
  auto [it, created] = groups_.try_emplace(spec.name);
  GroupRuntime& g = it->second;
  bool changed = created || !(g.spec == spec);
  g.spec = spec;
  governor_.SetGroupPolicy(spec.name, spec.safety);
  if (changed) {
    Record(EventKind::kAudit, created ? "group.created" : "group.updated",
           spec.name, "", "",
           std::string(created ? "group created" : "group updated") +
               ": desired " + std::to_string(spec.desired) + " in " +
               std::to_string(spec.zones.size()) + " zone(s)",
           "", {{"actor", actor}});
  }
  if (created && started_) {
    if (auto v = journal_->GetValue("freeze/group/" + spec.name); v.ok()) {
      governor_.SetGroupFrozen(spec.name, *v == "on");
    }
    Adopt(spec.name);
  } else if (started_ && g.adopted) {
    for (const auto& id : g.members) Reevaluate(instances_[id]);
    ScheduleReconcile(spec.name);
  }
  return Status::Ok();
}

Status Controller::DeleteGroup(const std::string& name,
                               const std::string& actor) {
  GroupRuntime* g = Runtime(name);
  if (!g) return NotFound("group " + name + " does not exist");
  if (!g->members.empty()) {
    return FailedPrecondition("group " + name + " still has " +
                              std::to_string(g->members.size()) +
                              " instance(s); set its desired capacity to 0 "
                              "and wait for them to terminate first");
  }
  for (const auto& [id, wf] : workflows_) {
    if (wf.group == name) {
      return FailedPrecondition("group " + name + " has workflow " + id +
                                " in flight");
    }
  }
  groups_.erase(name);
  governor_.RemoveGroup(name);
  Record(EventKind::kAudit, "group.deleted", name, "", "", "group deleted", "",
         {{"actor", actor}});
  return Status::Ok();
}

Status Controller::SetDesiredCapacity(const std::string& group, int desired,
                                      const std::string& actor) {
  GroupRuntime* g = Runtime(group);
  if (!g) return NotFound("group " + group + " does not exist");
  if (desired < g->spec.min || desired > g->spec.max) {
    return InvalidArgument("desired capacity " + std::to_string(desired) +
                           " for group " + group + " is outside [min " +
                           std::to_string(g->spec.min) + ", max " +
                           std::to_string(g->spec.max) + "]");
  }
  int before = g->spec.desired;
  g->spec.desired = desired;
  Record(EventKind::kAudit, "group.desired_changed", group, "", "",
         "desired capacity " + std::to_string(before) + " -> " +
             std::to_string(desired),
         "", {{"actor", actor}});
  ScheduleReconcile(group);
  return Status::Ok();
}

Status Controller::SetInstanceHealth(const std::string& id,
                                     std::optional<bool> healthy,
                                     const std::string& reason,
                                     const std::string& actor) {
  auto it = instances_.find(id);
  if (it == instances_.end()) {
    return NotFound("instance " + id + " is not managed by Lifeline");
  }
  InstanceRecord& rec = it->second;
  rec.operator_healthy = healthy;
  rec.operator_reason = reason;
  Record(EventKind::kAudit, "instance.health_set", rec.info.group,
         rec.info.zone, id,
         std::string("health set to ") +
             (healthy ? (*healthy ? "healthy" : "unhealthy") : "automatic") +
             (reason.empty() ? "" : ": " + reason),
         "", {{"actor", actor}});
  Reevaluate(rec);
  return Status::Ok();
}

Status Controller::SetFleetFrozen(bool frozen, const std::string& reason,
                                  const std::string& actor) {
  LIFELINE_RETURN_IF_ERROR(
      journal_->PutValue("freeze/fleet", frozen ? "on" : "off"));
  governor_.SetFleetFrozen(frozen);
  Record(EventKind::kAudit, frozen ? "freeze.on" : "freeze.off", "", "", "",
         std::string("fleet-wide freeze ") + (frozen ? "on" : "off") +
             (reason.empty() ? "" : ": " + reason),
         "freeze", {{"actor", actor}});
  if (!frozen) ScheduleDecisions();
  return Status::Ok();
}

Status Controller::SetGroupFrozen(const std::string& group, bool frozen,
                                  const std::string& reason,
                                  const std::string& actor) {
  if (!Runtime(group)) return NotFound("group " + group + " does not exist");
  LIFELINE_RETURN_IF_ERROR(
      journal_->PutValue("freeze/group/" + group, frozen ? "on" : "off"));
  governor_.SetGroupFrozen(group, frozen);
  Record(EventKind::kAudit, frozen ? "freeze.on" : "freeze.off", group, "", "",
         std::string("group freeze ") + (frozen ? "on" : "off") +
             (reason.empty() ? "" : ": " + reason),
         "freeze", {{"actor", actor}});
  if (!frozen) ScheduleDecisions();
  return Status::Ok();
}

void Controller::SetShiftedZones(const std::string& group,
                                 std::set<std::string> zones) {
  GroupRuntime* g = Runtime(group);
  if (!g || g->shifted == zones) return;
  g->shifted = std::move(zones);
  ScheduleReconcile(group);
  ScheduleDecisions();
}

// ---- queries ----------------------------------------------------------------

std::vector<std::string> Controller::GroupNames() const {
  std::vector<std::string> out;
  for (const auto& [name, g] : groups_) out.push_back(name);
  return out;
}

const GroupSpec* Controller::group(const std::string& name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second.spec;
}

const InstanceRecord* Controller::instance(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

std::vector<const InstanceRecord*> Controller::GroupInstances(
    const std::string& name) const {
  std::vector<const InstanceRecord*> out;
  auto it = groups_.find(name);
  if (it == groups_.end()) return out;
  for (const auto& id : it->second.members) out.push_back(&instances_.at(id));
  std::sort(out.begin(), out.end(),
            [](const InstanceRecord* a, const InstanceRecord* b) {
              return a->info.id < b->info.id;
            });
  return out;
}

std::map<std::string, ZoneCounts> Controller::ZoneCountsOf(
    const std::string& name) const {
  auto it = groups_.find(name);
  if (it == groups_.end()) return {};
  return it->second.zones;
}

const std::set<std::string>& Controller::ShiftedZones(
    const std::string& name) const {
  static const std::set<std::string> kNone;
  auto it = groups_.find(name);
  return it == groups_.end() ? kNone : it->second.shifted;
}

int Controller::InRecovery(const std::string& name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? 0 : it->second.in_recovery;
}

Status Controller::CheckAccounting() const {
  std::map<std::string, std::map<std::string, ZoneCounts>> expect;
  for (const auto& [id, rec] : instances_) {
    auto g = groups_.find(rec.info.group);
    if (g == groups_.end()) continue;
    if (!g->second.members.count(id)) {
      return Internal("instance " + id + " missing from group members");
    }
    ZoneCounts& c = expect[rec.info.group][rec.info.zone];
    bool active = rec.role == InstanceRole::kActive;
    c.active += active;
    c.unhealthy += active && rec.verdict.unhealthy;
    c.silent += active && (rec.verdict.unhealthy || rec.verdict.suspect);
    c.app_ok += active && rec.app == AppHealth::kOk;
    c.standby += rec.role == InstanceRole::kStandby;
  }
  for (const auto& [name, g] : groups_) {
    for (const auto& [zone, c] : g.zones) {
      const ZoneCounts& e = expect[name][zone];
      if (c.active != e.active || c.unhealthy != e.unhealthy ||
          c.silent != e.silent || c.app_ok != e.app_ok ||
          c.standby != e.standby) {
        return Internal("counters of group " + name + " zone " + zone +
                        " drifted: active " + std::to_string(c.active) +
                        " vs " + std::to_string(e.active) + ", unhealthy " +
                        std::to_string(c.unhealthy) + " vs " +
                        std::to_string(e.unhealthy));
      }
    }
  }
  return Status::Ok();
}

}  // namespace lifeline
