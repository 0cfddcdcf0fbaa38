// SimProvider: the API operations as they take effect in the simulated
// world. Each returns the Status its caller will see; messages read
// "sim: <Operation>(<args>): <what went wrong>".
#include <algorithm>

#include "providers/sim/sim_ids.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {

using sim_internal::FormatSerialId;
using sim_internal::ParseSerialId;

namespace {
Status StateError(const std::string& what, Lifecycle lc) {
  return FailedPrecondition("sim: " + what + ": instance is " +
                            std::string(ToString(lc)));
}
}  // namespace

Result<SimIndex> SimProvider::DoLaunch(const LaunchRequest& r,
                                       const std::string& what,
                                       Duration response) {
  if (!r.idempotency_token.empty()) {
    auto it = by_token_.find(r.idempotency_token);
    if (it != by_token_.end()) {
      const Instance& in = instances_[it->second];
      if (groups_[in.group] != r.group ||
          zones_[in.zone].config.name != r.zone ||
          !(specs_[in.spec] == r.spec)) {
        return InvalidArgument(
            "sim: " + what + ": idempotency token " + r.idempotency_token +
            " reused with different parameters (" + IdOf(it->second) + ")");
      }
      return it->second;
    }
  }
  std::optional<uint16_t> z = ZoneIndex(r.zone);
  if (!z) return InvalidArgument("sim: " + what + ": unknown zone");
  Zone& zone = zones_[*z];
  if (zone.failed) return Unavailable("sim: " + what + ": zone unavailable");
  if (zone.shortage) {
    return ResourceExhausted("sim: " + what + ": insufficient capacity");
  }
  if (zone.degradation && zone.degradation->launch_failure_rate > 0 &&
      rng_.Bernoulli(zone.degradation->launch_failure_rate)) {
    return Unavailable("sim: " + what + ": launch failed in degraded zone");
  }
  for (const auto& [device, snapshot_id] : r.volume_snapshots) {
    auto serial = ParseSerialId("snap-", snapshot_id);
    if (!serial || *serial > snapshots_.size()) {
      return NotFound("sim: " + what + ": snapshot " + snapshot_id + " for " +
                      device + " not found");
    }
  }
  LIFELINE_RETURN_IF_ERROR(CheckCapacity(*z, what));
  uint32_t host = PickHost(*z, kNone);
  if (host == kNone) {
    return ResourceExhausted("sim: " + what + ": insufficient capacity");
  }
  uint32_t group = InternGroup(r.group);
  SimIndex i = CreateInstance(group, InternSpec(group, r.spec), *z, host,
                              Lifecycle::kPending);
  instances_[i].boot_to_stopped = r.stopped;
  if (!r.idempotency_token.empty()) {
    by_token_.emplace(r.idempotency_token, i);
    token_of_.emplace(i, r.idempotency_token);
  }
  auto add_volume = [&](const std::string& device, int size, bool detachable,
                        const std::string& snapshot) {
    volumes_.push_back(
        VolumeRec{device, snapshot, i, *z, size, detachable, false});
    volumes_of_[i].push_back(static_cast<uint32_t>(volumes_.size() - 1));
  };
  for (const VolumeSpec& v : r.spec.volumes) {
    auto it = r.volume_snapshots.find(v.device);
    add_volume(v.device, v.size_gib, v.detachable,
               it == r.volume_snapshots.end() ? "" : it->second);
  }
  for (const auto& [device_name, snapshot_id] : r.volume_snapshots) {
    const std::string& device = device_name;  // a lambda cannot capture a binding
    bool in_spec =
        std::any_of(r.spec.volumes.begin(), r.spec.volumes.end(),
                    [&](const VolumeSpec& v) { return v.device == device; });
    if (in_spec) continue;
    const SnapshotRec& s = snapshots_[*ParseSerialId("snap-", snapshot_id) - 1];
    const VolumeRec& source = volumes_[s.volume];
    add_volume(device, source.size_gib, source.detachable, snapshot_id);
  }
  ArmBoot(i, response + SampleLatency(SimOp::kBoot));
  return i;
}

void SimProvider::ArmBoot(SimIndex i, Duration delay) {
  Enqueue(delay, Work{0, 0, i, instances_[i].epoch, kBootWork});
}

void SimProvider::Boot(SimIndex i, uint16_t epoch) {
  Instance& in = instances_[i];
  // A stop, termination or second start since then makes it stale.
  if (in.epoch != epoch || in.lifecycle != Lifecycle::kPending) return;
  ++counters_[static_cast<size_t>(SimOp::kBoot)].calls;
  ++counters_[static_cast<size_t>(SimOp::kBoot)].succeeded;
  Mutate(i, [&](Instance& inst) {
    Lifecycle next =
        inst.boot_to_stopped ? Lifecycle::kStopped : Lifecycle::kRunning;
    inst.boot_to_stopped = false;
    SetLifecycle(i, next);
  });
}

Status SimProvider::DoTerminate(const std::string& id,
                                const std::string& what) {
  (void)what;
  std::optional<SimIndex> i = IndexOf(id);
  // Unknown or already terminated: gone either way, which is success.
  if (!i || instances_[*i].lifecycle == Lifecycle::kTerminated) {
    return Status::Ok();
  }
  TerminateNow(*i, /*by_api=*/true);
  return Status::Ok();
}

Status SimProvider::DoReboot(const std::string& id, const std::string& what) {
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  Lifecycle lc = instances_[*i].lifecycle;
  if (lc != Lifecycle::kRunning) return StateError(what, lc);
  // A reboot restarts the guest; a broken host stays broken.
  Mutate(*i, [](Instance& in) {
    in.crashed = false;
    in.app_hung = false;
  });
  return Status::Ok();
}

Status SimProvider::DoStop(const std::string& id, const std::string& what) {
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  Lifecycle lc = instances_[*i].lifecycle;
  if (lc == Lifecycle::kTerminated) return StateError(what, lc);
  if (lc == Lifecycle::kStopped) return Status::Ok();
  Mutate(*i, [&](Instance& in) {
    in.crashed = false;
    in.app_hung = false;
    in.boot_to_stopped = false;
    SetLifecycle(*i, Lifecycle::kStopped);
  });
  return Status::Ok();
}

Status SimProvider::DoStart(const std::string& id, const std::string& what) {
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  Instance& in = instances_[*i];
  if (in.lifecycle == Lifecycle::kTerminated) {
    return StateError(what, in.lifecycle);
  }
  if (in.lifecycle != Lifecycle::kStopped) return Status::Ok();
  Zone& zone = zones_[in.zone];
  if (zone.failed) return Unavailable("sim: " + what + ": zone unavailable");
  if (zone.shortage) {
    return ResourceExhausted("sim: " + what + ": insufficient capacity");
  }
  uint32_t host = in.host;
  if (hosts_[host].failed) {
    // A stopped instance starts on whatever healthy host has room.
    host = PickHost(in.zone, in.host);
    if (host == kNone) {
      return ResourceExhausted("sim: " + what + ": insufficient capacity");
    }
  }
  Mutate(*i, [&](Instance&) {
    MoveToHost(*i, host);
    SetLifecycle(*i, Lifecycle::kPending);
  });
  ArmBoot(*i, SampleLatency(SimOp::kBoot));
  return Status::Ok();
}

Status SimProvider::DoRecover(const std::string& id, const std::string& what) {
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  Instance& in = instances_[*i];
  if (in.lifecycle != Lifecycle::kRunning) {
    return StateError(what, in.lifecycle);
  }
  if (zones_[in.zone].shortage) {
    return ResourceExhausted("sim: " + what + ": insufficient capacity");
  }
  uint32_t host = PickHost(in.zone, in.host);
  if (host == kNone) {
    if (hosts_[in.host].failed) {
      return ResourceExhausted("sim: " + what + ": no healthy host in zone " +
                               zones_[in.zone].config.name);
    }
    host = in.host;  // restart in place on its healthy host
  }
  Mutate(*i, [&](Instance& inst) {
    MoveToHost(*i, host);
    inst.crashed = false;
    inst.app_hung = false;
  });
  return Status::Ok();
}

std::vector<InstanceStatus> SimProvider::DoDescribe(
    const std::vector<std::string>& ids) {
  std::vector<InstanceStatus> out;
  if (ids.empty()) {
    out.reserve(instances_.size());
    for (SimIndex i = 0; i < instances_.size(); ++i) {
      if (Visible(i)) out.push_back(StatusAt(i));
    }
    return out;
  }
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    std::optional<SimIndex> i = IndexOf(id);
    if (i) {
      out.push_back(StatusAt(*i));
    } else {
      out.push_back(InstanceStatus{id, Lifecycle::kTerminated,
                                   CheckState::kUnknown, CheckState::kUnknown});
    }
  }
  return out;
}

Result<std::vector<Snapshot>> SimProvider::DoSnapshot(const std::string& id,
                                                      const std::string& what) {
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  if (instances_[*i].lifecycle == Lifecycle::kTerminated) {
    return StateError(what, Lifecycle::kTerminated);
  }
  std::vector<Snapshot> out;
  auto it = volumes_of_.find(*i);
  if (it == volumes_of_.end()) return out;
  for (uint32_t v : it->second) {
    snapshots_.push_back(SnapshotRec{v, volumes_[v].device});
    out.push_back(Snapshot{FormatSerialId("snap-", snapshots_.size()),
                           FormatSerialId("vol-", v + 1uLL), volumes_[v].device,
                           /*complete=*/true});
  }
  return out;
}

Status SimProvider::DoAttach(const std::string& volume_id,
                             const std::string& id, const std::string& device,
                             const std::string& what) {
  auto serial = ParseSerialId("vol-", volume_id);
  if (!serial || *serial > volumes_.size() || volumes_[*serial - 1].deleted) {
    return NotFound("sim: " + what + ": no such volume");
  }
  uint32_t v = static_cast<uint32_t>(*serial - 1);
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  if (instances_[*i].lifecycle == Lifecycle::kTerminated) {
    return StateError(what, Lifecycle::kTerminated);
  }
  VolumeRec& vol = volumes_[v];
  if (vol.zone != instances_[*i].zone) {
    return FailedPrecondition(
        "sim: " + what + ": volume is in zone " + zones_[vol.zone].config.name +
        ", instance in zone " + zones_[instances_[*i].zone].config.name);
  }
  if (vol.owner == *i && vol.device == device) return Status::Ok();
  if (vol.owner != kNone) {
    return FailedPrecondition("sim: " + what + ": volume is attached to " +
                              IdOf(vol.owner));
  }
  std::vector<uint32_t>& attached = volumes_of_[*i];
  for (uint32_t other : attached) {
    if (volumes_[other].device == device) {
      return FailedPrecondition("sim: " + what + ": device in use by " +
                                FormatSerialId("vol-", other + 1uLL));
    }
  }
  vol.owner = *i;
  vol.device = device;
  attached.push_back(v);
  return Status::Ok();
}

Status SimProvider::DoDetach(const std::string& volume_id,
                             const std::string& what) {
  auto serial = ParseSerialId("vol-", volume_id);
  if (!serial || *serial > volumes_.size() || volumes_[*serial - 1].deleted) {
    return NotFound("sim: " + what + ": no such volume");
  }
  uint32_t v = static_cast<uint32_t>(*serial - 1);
  VolumeRec& vol = volumes_[v];
  if (vol.owner == kNone) return Status::Ok();
  std::vector<uint32_t>& attached = volumes_of_[vol.owner];
  attached.erase(std::remove(attached.begin(), attached.end(), v),
                 attached.end());
  if (attached.empty()) volumes_of_.erase(vol.owner);
  vol.owner = kNone;
  return Status::Ok();
}

Status SimProvider::DoMoveAddress(const std::string& address,
                                  const std::string& id,
                                  const std::string& what) {
  auto it = address_owner_.find(address);
  if (it == address_owner_.end()) {
    return NotFound("sim: " + what + ": address not allocated");
  }
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  if (instances_[*i].lifecycle == Lifecycle::kTerminated) {
    return StateError(what, Lifecycle::kTerminated);
  }
  if (it->second == *i) return Status::Ok();
  if (it->second != kNone) {
    std::vector<std::string>& held = addresses_of_[it->second];
    held.erase(std::remove(held.begin(), held.end(), address), held.end());
    if (held.empty()) addresses_of_.erase(it->second);
  }
  it->second = *i;
  addresses_of_[*i].push_back(address);
  return Status::Ok();
}

}  // namespace lifeline
