#include "testing/sim_heartbeats.h"

namespace lifeline {

SimHeartbeats::SimHeartbeats(EventLoop& loop, SimProvider& provider,
                             Controller& controller, SimHeartbeatConfig config)
    : loop_(loop), provider_(provider), controller_(controller),
      config_(config) {
  provider_.SetTruthListener([this](const std::string& id) {
    if (tracked_.count(id)) Update(id);
  });
  controller_.SetInstanceObserver(this);
}

void SimHeartbeats::OnInstanceAdded(const InstanceRecord& rec,
                                    const GroupSpec& spec) {
  if (!spec.check_application) return;
  Tracked& t = tracked_[rec.info.id];
  t.zone = rec.info.zone;
  t.grace = spec.grace_period;
  Update(rec.info.id);
}

void SimHeartbeats::OnInstanceRemoved(const std::string& id) {
  tracked_.erase(id);
}

bool SimHeartbeats::Audible(const std::string& id, const Tracked& t) const {
  if (partitioned_.count("") || partitioned_.count(t.zone)) return false;
  auto truth = provider_.GroundTruth(id);
  return truth && truth->app_alive();
}

void SimHeartbeats::Emit(const std::string& id, AppHealth h,
                         const std::string& source,
                         const std::string& reason) {
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return;
  it->second.state = h;
  AppHealthTransition tr;
  tr.instance_id = id;
  tr.health = h;
  tr.at = loop_.Now();
  tr.source = source;
  tr.reason = reason;
  controller_.OnAppHealth(tr);
}

void SimHeartbeats::Update(const std::string& id) {
  Tracked& t = tracked_[id];
  bool audible = Audible(id, t);
  uint64_t epoch = ++t.epoch;
  auto later = [this, id, epoch](Duration d, std::function<void(Tracked&)> fn) {
    Arm(id, epoch, d, std::move(fn));
  };
  if (audible) {
    later(config_.first_heartbeat, [this, id](Tracked& x) {
      x.heard = true;
      if (x.agent_failing) {
        Emit(id, AppHealth::kFailed, "agent", "agent reports failing");
      } else if (x.state != AppHealth::kOk) {
        Emit(id, AppHealth::kOk, "heartbeat", "heartbeats arrive");
      }
    });
  } else if (t.heard) {
    later(config_.suspect_after, [this, id](Tracked&) {
      Emit(id, AppHealth::kSuspect, "heartbeat", "heartbeats late");
    });
    later(config_.fail_after, [this, id](Tracked& x) {
      x.heard = false;
      Emit(id, AppHealth::kFailed, "heartbeat",
           "no heartbeat for " + FormatDuration(config_.fail_after));
    });
  } else if (t.state == AppHealth::kUnknown) {
    // Never heard from: the detector's grace before the first heartbeat.
    later(t.grace, [this, id](Tracked&) {
      Emit(id, AppHealth::kFailed, "heartbeat",
           "no first heartbeat within the grace period");
    });
  }
}

void SimHeartbeats::Arm(const std::string& id, uint64_t epoch, Duration d,
                        std::function<void(Tracked&)> fn) {
  MonoTime due = loop_.Now() + d;
  std::weak_ptr<bool> alive = alive_;
  loop_.RunAt(due, [this, alive, id, epoch, d, due, fn] {
    if (!alive.lock()) return;
    auto it = tracked_.find(id);
    if (it == tracked_.end() || it->second.epoch != epoch) return;
    // The detector's own thread stalled (its timer fired late): silence
    // during the stall says nothing about the instance, so the deadline is
    // extended instead of declaring a failure (B8).
    if (loop_.Now() - due > config_.stall_threshold) {
      ++stall_extensions_;
      Arm(id, epoch, d, fn);
      return;
    }
    fn(it->second);
  });
}

void SimHeartbeats::PartitionZone(const std::string& zone) {
  partitioned_.insert(zone);
  for (auto& [id, t] : tracked_) {
    if (zone.empty() || t.zone == zone) Update(id);
  }
}

void SimHeartbeats::HealPartition(const std::string& zone) {
  partitioned_.erase(zone);
  for (auto& [id, t] : tracked_) {
    if (zone.empty() || t.zone == zone) Update(id);
  }
}

void SimHeartbeats::ReportFailing(const std::string& id, bool failing) {
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return;
  it->second.agent_failing = failing;
  if (!failing) it->second.state = AppHealth::kUnknown;
  Update(id);
}

}  // namespace lifeline
