// The replace rung, make-before-break: snapshot, launch (from a warm pool
// when one has a standby), wait for readiness, move volumes and addresses,
// then terminate the old instance.
#include <algorithm>
#include <cctype>

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

void Controller::StartReplace(Workflow& wf) {
  const GroupSpec& spec = *group(wf.group);
  auto it = instances_.find(wf.instance);
  bool wants_snapshot =
      std::any_of(spec.launch.volumes.begin(), spec.launch.volumes.end(),
                  [](const VolumeSpec& v) { return v.snapshot_on_replace; });
  bool exists = it != instances_.end() &&
                it->second.info.lifecycle != Lifecycle::kTerminated;
  if (wants_snapshot && exists && wf.snapshots.empty()) {
    Enter(wf, WorkflowState::kSnapshotting);
    std::string id = wf.instance;
    auto snaps = std::make_shared<std::vector<Snapshot>>();
    Call(
        wf, "SnapshotVolumes(" + id + ")",
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
  // Detachable volumes the old instance holds move to the replacement
  // (MoveResources) when it is in the same zone: launching a fresh one on
  // the same device would leave no place to attach them.
  if (auto old = instances_.find(wf.instance);
      old != instances_.end() && old->second.info.zone == zone) {
    auto moves_here = [&](const VolumeSpec& v) {
      for (const auto& held : old->second.info.volumes) {
        if (held.detachable && held.device == v.device) return true;
      }
      return false;
    };
    std::erase_if(req.spec.volumes, moves_here);
  }
  req.idempotency_token = wf.LaunchToken();
  for (const auto& s : wf.snapshots) {
    if (!s.id.empty()) req.volume_snapshots[s.device] = s.id;
  }
  auto launched = std::make_shared<InstanceInfo>();
  ++stats_.launches;
  Call(
      wf,
      "Launch(" + wf.group + ", " + zone + ", token " + req.idempotency_token +
          ")",
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
  Record(
      EventKind::kObservation, "replacement.ready", wf.group,
      wf.replacement_zone, wf.replacement,
      "replacement " + wf.replacement + " for " + wf.instance + " is healthy",
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
    Call(
        wf, "Stop(" + id + ") to fence it",
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
    moves->push_back(
        {"DetachVolume(" + v.id + ")", [this, v](Provider::DoneStatus d) {
           provider_.DetachVolume(v.id, std::move(d));
         }});
    moves->push_back({"AttachVolume(" + v.id + " -> " + to + ")",
                      [this, v, to](Provider::DoneStatus d) {
                        provider_.AttachVolume(v.id, to, v.device,
                                               std::move(d));
                      }});
  }
  auto next = std::make_shared<std::function<void(Workflow&, size_t)>>();
  *next = [this, moves,
           weak_next = std::weak_ptr<std::function<void(Workflow&, size_t)>>(
               next)](Workflow& w, size_t i) {
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
  if (rep != instances_.end() &&
      rep->second.role == InstanceRole::kReplacement) {
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
  Call(
      wf, "Terminate(" + id + ")",
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
         "replacement " + wf.replacement +
             " did not become healthy in time; "
             "terminating it and trying elsewhere",
         "replacement_timeout", {{"workflow", wf.id}});
  Enter(wf, WorkflowState::kCleaningUp);
  std::string id = wf.replacement;
  if (auto r = instances_.find(id); r != instances_.end()) {
    r->second.terminated_by_us = true;
  }
  ++stats_.terminates;
  Call(
      wf, "Terminate(" + id + ") (failed replacement)",
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
  Call(
      wf, "Start(" + id + ") (warm-pool standby)",
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
