// SimProvider: fault injection and healing. Each fault changes the world at
// once; status pushes and truth notifications follow from the change.
#include "providers/sim/sim_provider.h"

namespace lifeline {

std::string_view ToString(CrashKind k) {
  switch (k) {
    case CrashKind::kUnresponsive:
      return "unresponsive";
    case CrashKind::kStopped:
      return "stopped";
  }
  return "unknown";
}

namespace {
Status UnknownZone(std::string_view op, std::string_view zone) {
  return NotFound("sim: " + std::string(op) + "(" + std::string(zone) +
                  "): no such zone");
}
std::string What(std::string_view op, std::string_view arg) {
  return std::string(op) + "(" + std::string(arg) + ")";
}
}  // namespace

std::vector<std::string> SimProvider::HostNames(std::string_view zone) const {
  std::vector<std::string> out;
  std::optional<uint16_t> z = ZoneIndex(zone);
  if (!z) return out;
  for (int h = 0; h < zones_[*z].config.hosts; ++h) {
    out.push_back(HostName(zones_[*z].first_host + static_cast<uint32_t>(h)));
  }
  return out;
}

void SimProvider::SetHostFailed(uint32_t host, bool failed) {
  if (hosts_[host].failed == failed) return;
  MutateWhere([host](const Instance& in) { return in.host == host; },
              [this, host, failed] { hosts_[host].failed = failed; });
}

Status SimProvider::FailHost(std::string_view host) {
  std::optional<uint32_t> h = HostIndex(host);
  if (!h) return NotFound("sim: " + What("FailHost", host) + ": no such host");
  SetHostFailed(*h, true);
  return Status::Ok();
}

Status SimProvider::RepairHost(std::string_view host) {
  std::optional<uint32_t> h = HostIndex(host);
  if (!h) {
    return NotFound("sim: " + What("RepairHost", host) + ": no such host");
  }
  SetHostFailed(*h, false);
  return Status::Ok();
}

Status SimProvider::FailHostOf(std::string_view id) {
  Result<SimIndex> i = Resolve(id, What("FailHostOf", id));
  if (!i.ok()) return i.status();
  SetHostFailed(instances_[*i].host, true);
  return Status::Ok();
}

Status SimProvider::FailZone(std::string_view zone) {
  std::optional<uint16_t> z = ZoneIndex(zone);
  if (!z) return UnknownZone("FailZone", zone);
  MutateWhere([z](const Instance& in) { return in.zone == *z; },
              [this, z] {
                Zone& zn = zones_[*z];
                zn.failed = true;
                for (int h = 0; h < zn.config.hosts; ++h) {
                  hosts_[zn.first_host + static_cast<uint32_t>(h)].failed =
                      true;
                }
              });
  return Status::Ok();
}

Status SimProvider::RecoverZone(std::string_view zone) {
  std::optional<uint16_t> z = ZoneIndex(zone);
  if (!z) return UnknownZone("RecoverZone", zone);
  MutateWhere([z](const Instance& in) { return in.zone == *z; },
              [this, z] {
                Zone& zn = zones_[*z];
                zn.failed = false;
                for (int h = 0; h < zn.config.hosts; ++h) {
                  hosts_[zn.first_host + static_cast<uint32_t>(h)].failed =
                      false;
                }
              });
  return Status::Ok();
}

Status SimProvider::SetCapacityShortage(std::string_view zone, bool shortage) {
  std::optional<uint16_t> z = ZoneIndex(zone);
  if (!z) return UnknownZone("SetCapacityShortage", zone);
  zones_[*z].shortage = shortage;
  return Status::Ok();
}

Status SimProvider::DegradeZone(std::string_view zone,
                                const SimDegradation& d) {
  std::optional<uint16_t> z = ZoneIndex(zone);
  if (!z) return UnknownZone("DegradeZone", zone);
  MutateWhere([z](const Instance& in) { return in.zone == *z; },
              [this, z, d] { zones_[*z].degradation = d; });
  return Status::Ok();
}

Status SimProvider::HealZone(std::string_view zone) {
  std::optional<uint16_t> z = ZoneIndex(zone);
  if (!z) return UnknownZone("HealZone", zone);
  MutateWhere([z](const Instance& in) { return in.zone == *z; },
              [this, z] { zones_[*z].degradation.reset(); });
  return Status::Ok();
}

Status SimProvider::CrashInstance(std::string_view id, CrashKind kind) {
  std::string what = What("CrashInstance", id);
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  Lifecycle lc = instances_[*i].lifecycle;
  if (lc != Lifecycle::kRunning) {
    return FailedPrecondition("sim: " + what + ": instance is " +
                              std::string(ToString(lc)));
  }
  Mutate(*i, [&](Instance& in) {
    if (kind == CrashKind::kUnresponsive) {
      in.crashed = true;
    } else {
      in.app_hung = false;
      SetLifecycle(*i, Lifecycle::kStopped);
    }
  });
  return Status::Ok();
}

Status SimProvider::HangApplication(std::string_view id) {
  std::string what = What("HangApplication", id);
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  Lifecycle lc = instances_[*i].lifecycle;
  if (lc != Lifecycle::kRunning) {
    return FailedPrecondition("sim: " + what + ": instance is " +
                              std::string(ToString(lc)));
  }
  Mutate(*i, [](Instance& in) { in.app_hung = true; });
  return Status::Ok();
}

Status SimProvider::HealInstance(std::string_view id) {
  Result<SimIndex> i = Resolve(id, What("HealInstance", id));
  if (!i.ok()) return i.status();
  Mutate(*i, [](Instance& in) {
    in.crashed = false;
    in.app_hung = false;
  });
  return Status::Ok();
}

Status SimProvider::DegradeInstance(std::string_view id, double error_ratio,
                                    double latency_ms) {
  std::string what = What("DegradeInstance", id);
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  if (error_ratio < 0 || error_ratio > 1 || latency_ms < 0) {
    return InvalidArgument("sim: " + what +
                           ": error ratio must be in [0, 1] and latency >= 0");
  }
  if (instances_[*i].lifecycle == Lifecycle::kTerminated) {
    return FailedPrecondition("sim: " + what + ": instance is terminated");
  }
  Mutate(*i, [&](Instance& in) {
    if (error_ratio == 0 && latency_ms == 0) {
      degraded_.erase(*i);
      in.degraded = false;
    } else {
      degraded_[*i] = Degradation{error_ratio, latency_ms};
      in.degraded = true;
    }
  });
  return Status::Ok();
}

Status SimProvider::TerminateBehindBack(std::string_view id) {
  std::string what = What("TerminateBehindBack", id);
  Result<SimIndex> i = Resolve(id, what);
  if (!i.ok()) return i.status();
  if (instances_[*i].lifecycle == Lifecycle::kTerminated) {
    return FailedPrecondition("sim: " + what + ": instance is terminated");
  }
  TerminateNow(*i, /*by_api=*/false);
  return Status::Ok();
}

void SimProvider::SetApiFaults(const SimApiFaults& faults) {
  api_faults_.fill(faults);
}

void SimProvider::SetApiFaults(SimOp op, const SimApiFaults& faults) {
  api_faults_[static_cast<size_t>(op)] = faults;
}

Status SimProvider::CreateAddress(const std::string& address,
                                  std::string_view owner_id) {
  std::string what = "CreateAddress(" + address + ")";
  if (address_owner_.count(address)) {
    return AlreadyExists("sim: " + what + ": already allocated");
  }
  uint32_t owner = kNone;
  if (!owner_id.empty()) {
    Result<SimIndex> i = Resolve(owner_id, what);
    if (!i.ok()) return i.status();
    if (instances_[*i].lifecycle == Lifecycle::kTerminated) {
      return FailedPrecondition("sim: " + what + ": instance " +
                                std::string(owner_id) + " is terminated");
    }
    owner = *i;
    addresses_of_[owner].push_back(address);
  }
  address_owner_.emplace(address, owner);
  return Status::Ok();
}

}  // namespace lifeline
