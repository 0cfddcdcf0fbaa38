// SimProvider: construction, call plumbing (API faults, latency, completion
// timers) and the Provider entry points. The operations themselves are in
// sim_provider_ops.cc, the world's state in sim_provider_state.cc, fault
// injection and ground truth in sim_provider_faults.cc.
#include "providers/sim/sim_provider.h"

#include <utility>

namespace lifeline {

SimProvider::SimProvider(EventLoop& loop, uint64_t seed, SimConfig config)
    : loop_(loop), rng_(seed), config_(std::move(config)) {
  if (config_.zones.empty()) config_.zones.push_back(SimZoneConfig{"sim-1a"});
  for (size_t z = 0; z < config_.zones.size(); ++z) {
    SimZoneConfig& zc = config_.zones[z];
    if (zc.hosts <= 0) zc.hosts = 1;
    Zone zone;
    zone.config = zc;
    zone.first_host = static_cast<uint32_t>(hosts_.size());
    zones_.push_back(std::move(zone));
    for (int h = 0; h < zc.hosts; ++h) {
      hosts_.push_back(Host{static_cast<uint16_t>(z), false, 0});
    }
  }
  counts_.assign(zones_.size() * 5, 0);
}

SimProvider::~SimProvider() { *alive_ = false; }

Status SimProvider::Gate(SimOp op, const std::string& what) {
  ++counters_[static_cast<size_t>(op)].calls;
  if (loop_.Now() < outage_until_) {
    return Unavailable("sim: " + what + ": API outage, retry later");
  }
  const SimApiFaults& f = api_faults_[static_cast<size_t>(op)];
  if (f.throttle_rate > 0 && rng_.Bernoulli(f.throttle_rate)) {
    Status st = ResourceExhausted("sim: " + what +
                                  ": request limit exceeded, retry in " +
                                  FormatDuration(f.retry_after));
    st.set_retry_after(f.retry_after);
    return st;
  }
  if (f.unavailable_rate > 0 && rng_.Bernoulli(f.unavailable_rate)) {
    return Unavailable("sim: " + what + ": service unavailable");
  }
  return Status::Ok();
}

Duration SimProvider::SampleLatency(SimOp op) {
  const SimLatency& l = config_.latency_of(op);
  if (l.jitter.count() <= 0) return l.base;
  return l.base + rng_.UniformDuration(Duration(0), l.jitter);
}

void SimProvider::ScheduleAfter(Duration d, std::function<void()> fn) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(tasks_.size());
    tasks_.push_back(std::move(fn));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    tasks_[slot] = std::move(fn);
  }
  Enqueue(d, Work{0, 0, slot, 0, kTaskWork});
}

// Every completion and boot waits in the provider's own queue of small
// records behind a single loop timer: a million in-flight launches cost the
// loop one timer, not two million.
void SimProvider::Enqueue(Duration d, Work w) {
  w.due_ns = (loop_.Now() + d).time_since_epoch().count();
  w.seq = next_work_seq_++;
  work_.push(w);
  if (work_timer_ != EventLoop::kNoTimer && w.due_ns >= work_timer_due_) {
    return;
  }
  if (work_timer_ != EventLoop::kNoTimer) loop_.Cancel(work_timer_);
  ArmWorkTimer();
}

void SimProvider::ArmWorkTimer() {
  work_timer_due_ = work_.top().due_ns;
  work_timer_ = loop_.RunAt(MonoTime(Duration(work_timer_due_)),
                            [this, alive = std::weak_ptr<bool>(alive_)] {
                              auto a = alive.lock();
                              if (a && *a) RunDueWork();
                            });
}

void SimProvider::RunDueWork() {
  work_timer_ = EventLoop::kNoTimer;
  int64_t now = loop_.Now().time_since_epoch().count();
  while (!work_.empty() && work_.top().due_ns <= now) {
    Work w = work_.top();
    work_.pop();
    if (w.kind == kBootWork) {
      Boot(w.index, w.epoch);
      continue;
    }
    std::function<void()> fn = std::move(tasks_[w.index]);
    tasks_[w.index] = nullptr;
    free_slots_.push_back(w.index);
    fn();
  }
  if (!work_.empty() && work_timer_ == EventLoop::kNoTimer) ArmWorkTimer();
}

void SimProvider::Schedule(SimOp op, std::function<void()> fn) {
  ScheduleAfter(SampleLatency(op), std::move(fn));
}

void SimProvider::Finish(SimOp op, const Status& st) {
  SimOpCounters& c = counters_[static_cast<size_t>(op)];
  if (st.ok()) {
    ++c.succeeded;
  } else {
    ++c.failed;
  }
}

void SimProvider::ListZones(Done<std::vector<ZoneInfo>> done) {
  Status gate = Gate(SimOp::kListZones, "ListZones()");
  Schedule(SimOp::kListZones, [this, gate, done = std::move(done)] {
    Finish(SimOp::kListZones, gate);
    if (!gate.ok()) return done(gate);
    std::vector<ZoneInfo> zones;
    for (const Zone& z : zones_) zones.push_back({z.config.name, !z.failed});
    done(std::move(zones));
  });
}

void SimProvider::Launch(const LaunchRequest& request,
                         Done<InstanceInfo> done) {
  std::string what = "Launch(" + request.group + ", " + request.zone + ")";
  Status gate = Gate(SimOp::kLaunch, what);
  Duration latency = SampleLatency(SimOp::kLaunch);
  Result<SimIndex> launched =
      gate.ok() ? DoLaunch(request, what, latency) : Result<SimIndex>(gate);
  ScheduleAfter(latency, [this, launched, done = std::move(done)] {
    Finish(SimOp::kLaunch, launched.status());
    if (!launched.ok()) return done(launched.status());
    done(InfoAt(*launched));
  });
}

// The operations on one instance share a shape: gated at call time, take
// effect and answer when the latency has passed.
void SimProvider::RunInstanceOp(SimOp op, const std::string& instance_id,
                                DoneStatus done, InstanceOpFn fn) {
  std::string what = std::string(ToString(op)) + "(" + instance_id + ")";
  Status gate = Gate(op, what);
  Schedule(op, [this, op, fn, gate, instance_id, what, done = std::move(done)] {
    Status st = gate.ok() ? (this->*fn)(instance_id, what) : gate;
    Finish(op, st);
    done(st);
  });
}

void SimProvider::Terminate(const std::string& id, DoneStatus done) {
  RunInstanceOp(SimOp::kTerminate, id, std::move(done),
                &SimProvider::DoTerminate);
}
void SimProvider::Reboot(const std::string& id, DoneStatus done) {
  RunInstanceOp(SimOp::kReboot, id, std::move(done), &SimProvider::DoReboot);
}
void SimProvider::Stop(const std::string& id, DoneStatus done) {
  RunInstanceOp(SimOp::kStop, id, std::move(done), &SimProvider::DoStop);
}
void SimProvider::Start(const std::string& id, DoneStatus done) {
  RunInstanceOp(SimOp::kStart, id, std::move(done), &SimProvider::DoStart);
}
void SimProvider::Recover(const std::string& id, DoneStatus done) {
  RunInstanceOp(SimOp::kRecover, id, std::move(done), &SimProvider::DoRecover);
}

void SimProvider::DescribeStatus(const std::vector<std::string>& instance_ids,
                                 Done<std::vector<InstanceStatus>> done) {
  std::string what =
      "DescribeStatus(" + std::to_string(instance_ids.size()) + " instances)";
  Status gate = Gate(SimOp::kDescribeStatus, what);
  Schedule(SimOp::kDescribeStatus,
           [this, gate, instance_ids, done = std::move(done)] {
             Finish(SimOp::kDescribeStatus, gate);
             if (!gate.ok()) return done(gate);
             done(DoDescribe(instance_ids));
           });
}

void SimProvider::ListInstances(const std::string& group,
                                Done<std::vector<InstanceInfo>> done) {
  Status gate = Gate(SimOp::kListInstances, "ListInstances(" + group + ")");
  Schedule(SimOp::kListInstances, [this, gate, group, done = std::move(done)] {
    Finish(SimOp::kListInstances, gate);
    if (!gate.ok()) return done(gate);
    std::optional<uint32_t> wanted;
    if (!group.empty()) {
      auto it = group_index_.find(group);
      if (it == group_index_.end()) return done(std::vector<InstanceInfo>{});
      wanted = it->second;
    }
    std::vector<InstanceInfo> out;
    for (SimIndex i = 0; i < instances_.size(); ++i) {
      const Instance& in = instances_[i];
      if (in.lifecycle == Lifecycle::kTerminated) continue;
      if (wanted ? in.group != *wanted : groups_[in.group].empty()) continue;
      out.push_back(InfoAt(i));
    }
    done(std::move(out));
  });
}

void SimProvider::SnapshotVolumes(const std::string& instance_id,
                                  Done<std::vector<Snapshot>> done) {
  std::string what = "SnapshotVolumes(" + instance_id + ")";
  Status gate = Gate(SimOp::kSnapshotVolumes, what);
  Schedule(SimOp::kSnapshotVolumes,
           [this, gate, instance_id, what, done = std::move(done)] {
             Result<std::vector<Snapshot>> r =
                 gate.ok() ? DoSnapshot(instance_id, what)
                           : Result<std::vector<Snapshot>>(gate);
             Finish(SimOp::kSnapshotVolumes, r.status());
             done(std::move(r));
           });
}

void SimProvider::AttachVolume(const std::string& volume_id,
                               const std::string& instance_id,
                               const std::string& device, DoneStatus done) {
  std::string what =
      "AttachVolume(" + volume_id + ", " + instance_id + ", " + device + ")";
  Status gate = Gate(SimOp::kAttachVolume, what);
  Schedule(SimOp::kAttachVolume, [this, gate, volume_id, instance_id, device,
                                  what, done = std::move(done)] {
    Status st =
        gate.ok() ? DoAttach(volume_id, instance_id, device, what) : gate;
    Finish(SimOp::kAttachVolume, st);
    done(st);
  });
}

void SimProvider::DetachVolume(const std::string& volume_id, DoneStatus done) {
  std::string what = "DetachVolume(" + volume_id + ")";
  Status gate = Gate(SimOp::kDetachVolume, what);
  Schedule(SimOp::kDetachVolume,
           [this, gate, volume_id, what, done = std::move(done)] {
             Status st = gate.ok() ? DoDetach(volume_id, what) : gate;
             Finish(SimOp::kDetachVolume, st);
             done(st);
           });
}

void SimProvider::MoveAddress(const std::string& address,
                              const std::string& to_instance_id,
                              DoneStatus done) {
  std::string what = "MoveAddress(" + address + ", " + to_instance_id + ")";
  Status gate = Gate(SimOp::kMoveAddress, what);
  Schedule(SimOp::kMoveAddress, [this, gate, address, to_instance_id, what,
                                 done = std::move(done)] {
    Status st = gate.ok() ? DoMoveAddress(address, to_instance_id, what) : gate;
    Finish(SimOp::kMoveAddress, st);
    done(st);
  });
}

}  // namespace lifeline
