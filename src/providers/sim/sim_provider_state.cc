// SimProvider: the simulated world's bookkeeping — placement, lifecycle
// counts, status as reported, and change notification.
#include <cstdio>
#include <utility>

#include "providers/sim/sim_ids.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {

using sim_internal::FormatSerialId;
using sim_internal::ParseSerialId;

std::string SimProvider::IdOf(SimIndex index) const {
  return FormatSerialId("sim-", uint64_t{index} + 1);
}

std::optional<SimIndex> SimProvider::IndexOf(std::string_view id) const {
  auto serial = ParseSerialId("sim-", id);
  if (!serial || *serial > instances_.size()) return std::nullopt;
  return static_cast<SimIndex>(*serial - 1);
}

Result<SimIndex> SimProvider::Resolve(std::string_view id,
                                      std::string_view what) const {
  std::optional<SimIndex> i = IndexOf(id);
  if (!i) {
    return NotFound("sim: " + std::string(what) + ": no such instance");
  }
  return *i;
}

std::optional<uint16_t> SimProvider::ZoneIndex(std::string_view zone) const {
  for (size_t z = 0; z < zones_.size(); ++z) {
    if (zones_[z].config.name == zone) return static_cast<uint16_t>(z);
  }
  return std::nullopt;
}

std::string SimProvider::HostName(uint32_t host) const {
  const Zone& z = zones_[hosts_[host].zone];
  char local[16];
  std::snprintf(local, sizeof local, "-h%03u", host - z.first_host);
  return z.config.name + local;
}

std::optional<uint32_t> SimProvider::HostIndex(std::string_view host) const {
  for (const Zone& z : zones_) {
    const std::string& name = z.config.name;
    if (host.size() < name.size() + 3 || host.substr(0, name.size()) != name ||
        host.substr(name.size(), 2) != "-h") {
      continue;
    }
    uint32_t local = 0;
    std::string_view digits = host.substr(name.size() + 2);
    bool ok = digits.size() >= 3;
    for (char c : digits) {
      if (c < '0' || c > '9' || local > 1000000) ok = false;
      local = local * 10 + static_cast<uint32_t>(c - '0');
    }
    if (ok && local < static_cast<uint32_t>(z.config.hosts) &&
        HostName(z.first_host + local) == host) {
      return z.first_host + local;
    }
  }
  return std::nullopt;
}

uint32_t SimProvider::PickHost(uint16_t zone, uint32_t avoid) {
  Zone& z = zones_[zone];
  uint32_t n = static_cast<uint32_t>(z.config.hosts);
  uint32_t cap = static_cast<uint32_t>(z.config.instances_per_host);
  for (uint32_t k = 0; k < n; ++k) {
    uint32_t local = (z.cursor + k) % n;
    uint32_t h = z.first_host + local;
    if (h == avoid || hosts_[h].failed) continue;
    if (cap > 0 && hosts_[h].count >= cap) continue;
    z.cursor = (local + 1) % n;
    return h;
  }
  return kNone;
}

Status SimProvider::CheckCapacity(uint16_t zone,
                                  const std::string& what) const {
  const Zone& z = zones_[zone];
  if (z.config.zone_capacity > 0 && z.live >= z.config.zone_capacity) {
    return ResourceExhausted("sim: " + what + ": insufficient capacity");
  }
  return Status::Ok();
}

uint32_t SimProvider::InternGroup(const std::string& group) {
  if (auto it = group_index_.find(group); it != group_index_.end()) {
    return it->second;
  }
  uint32_t g = static_cast<uint32_t>(groups_.size());
  groups_.push_back(group);
  group_index_.emplace(group, g);
  return g;
}

uint32_t SimProvider::InternSpec(uint32_t group, const LaunchSpec& spec) {
  // Groups launch the same spec over and over: keep one copy per run of
  // identical specs rather than one per instance.
  auto it = last_spec_of_group_.find(group);
  if (it != last_spec_of_group_.end() && specs_[it->second] == spec) {
    return it->second;
  }
  specs_.push_back(spec);
  uint32_t s = static_cast<uint32_t>(specs_.size() - 1);
  last_spec_of_group_[group] = s;
  return s;
}

SimIndex SimProvider::CreateInstance(uint32_t group, uint32_t spec,
                                     uint16_t zone, uint32_t host,
                                     Lifecycle lifecycle) {
  int64_t now = loop_.Now().time_since_epoch().count();
  Instance in;
  in.launched_ns = now;
  in.since_ns = now;
  in.group = group;
  in.spec = spec;
  in.host = host;
  in.zone = zone;
  in.lifecycle = lifecycle;
  instances_.push_back(in);
  ++counts_[zone * 5u + static_cast<size_t>(lifecycle)];
  ++hosts_[host].count;
  ++zones_[zone].live;
  ++instances_created_;
  return static_cast<SimIndex>(instances_.size() - 1);
}

void SimProvider::SetLifecycle(SimIndex i, Lifecycle lc) {
  Instance& in = instances_[i];
  if (in.lifecycle == lc) return;
  --counts_[in.zone * 5u + static_cast<size_t>(in.lifecycle)];
  ++counts_[in.zone * 5u + static_cast<size_t>(lc)];
  if (lc == Lifecycle::kTerminated) {
    --hosts_[in.host].count;
    --zones_[in.zone].live;
  }
  in.lifecycle = lc;
  ++in.epoch;
  in.since_ns = loop_.Now().time_since_epoch().count();
}

void SimProvider::MoveToHost(SimIndex i, uint32_t host) {
  Instance& in = instances_[i];
  if (in.host == host) return;
  --hosts_[in.host].count;
  ++hosts_[host].count;
  in.host = host;
}

double SimProvider::ErrorRatioAt(SimIndex i) const {
  const Instance& in = instances_[i];
  double e = 0;
  const Zone& z = zones_[in.zone];
  if (z.degradation) e = z.degradation->error_ratio;
  if (in.degraded) e = std::max(e, degraded_.at(i).error_ratio);
  return e;
}

double SimProvider::LatencyAt(SimIndex i) const {
  const Instance& in = instances_[i];
  double l = config_.base_latency_ms;
  const Zone& z = zones_[in.zone];
  if (z.degradation) l = std::max(l, z.degradation->latency_ms);
  if (in.degraded) l = std::max(l, degraded_.at(i).latency_ms);
  return l;
}

bool SimProvider::AppAliveAt(SimIndex i) const {
  const Instance& in = instances_[i];
  return in.lifecycle == Lifecycle::kRunning && !hosts_[in.host].failed &&
         !in.crashed && !in.app_hung;
}

InstanceStatus SimProvider::StatusAt(SimIndex i) const {
  const Instance& in = instances_[i];
  InstanceStatus s;
  s.id = IdOf(i);
  s.lifecycle = in.lifecycle;
  switch (in.lifecycle) {
    case Lifecycle::kPending:
      s.system_check = CheckState::kInitializing;
      s.instance_check = CheckState::kInitializing;
      break;
    case Lifecycle::kRunning: {
      bool host_failed = hosts_[in.host].failed;
      s.system_check = host_failed ? CheckState::kImpaired : CheckState::kOk;
      s.instance_check =
          host_failed || in.crashed ? CheckState::kImpaired : CheckState::kOk;
      break;
    }
    default:
      s.system_check = CheckState::kUnknown;
      s.instance_check = CheckState::kUnknown;
  }
  return s;
}

SimProvider::Observed SimProvider::Observe(SimIndex i) const {
  return Observed{StatusAt(i), AppAliveAt(i), ErrorRatioAt(i), LatencyAt(i)};
}

bool SimProvider::Visible(SimIndex i) const {
  const Instance& in = instances_[i];
  if (in.lifecycle != Lifecycle::kTerminated) return true;
  Duration since = loop_.Now().time_since_epoch() - Duration(in.since_ns);
  return since < config_.terminated_visibility;
}

InstanceInfo SimProvider::InfoAt(SimIndex i) const {
  const Instance& in = instances_[i];
  InstanceStatus s = StatusAt(i);
  InstanceInfo info;
  info.id = std::move(s.id);
  info.group = groups_[in.group];
  info.zone = zones_[in.zone].config.name;
  info.host = HostName(in.host);
  info.lifecycle = in.lifecycle;
  info.system_check = s.system_check;
  info.instance_check = s.instance_check;
  if (auto v = volumes_of_.find(i); v != volumes_of_.end()) {
    for (uint32_t vol : v->second) {
      info.volumes.push_back(Volume{FormatSerialId("vol-", vol + 1uLL),
                                    volumes_[vol].device,
                                    volumes_[vol].detachable});
    }
  }
  if (auto a = addresses_of_.find(i); a != addresses_of_.end()) {
    info.addresses = a->second;
  }
  info.tags = specs_[in.spec].tags;
  if (!info.group.empty()) info.tags[std::string(kGroupTag)] = info.group;
  if (auto t = token_of_.find(i); t != token_of_.end()) {
    info.launch_token = t->second;
    info.tags[std::string(kTokenTag)] = t->second;
  }
  Duration age = loop_.Now().time_since_epoch() - Duration(in.launched_ns);
  info.launch_time = loop_.clock().WallNow() -
                     std::chrono::duration_cast<WallTime::duration>(age);
  return info;
}

void SimProvider::Notify(SimIndex i, const Observed& before) {
  Observed after = Observe(i);
  if (after.status.lifecycle != before.status.lifecycle ||
      after.status.system_check != before.status.system_check ||
      after.status.instance_check != before.status.instance_check) {
    Push(after.status);
  }
  if (truth_listener_ &&
      (after.alive != before.alive || after.error_ratio != before.error_ratio ||
       after.latency_ms != before.latency_ms ||
       after.status.lifecycle != before.status.lifecycle)) {
    truth_listener_(after.status.id);
  }
}

void SimProvider::MutateWhere(
    const std::function<bool(const Instance&)>& affected,
    const std::function<void()>& change) {
  std::vector<std::pair<SimIndex, Observed>> before;
  for (SimIndex i = 0; i < instances_.size(); ++i) {
    const Instance& in = instances_[i];
    if (in.lifecycle != Lifecycle::kTerminated && affected(in)) {
      before.emplace_back(i, Observe(i));
    }
  }
  change();
  for (const auto& [i, observed] : before) Notify(i, observed);
}

void SimProvider::Push(InstanceStatus status) {
  if (!sink_) return;
  if (pending_pushes_.empty()) {
    // One posted task delivers everything that changed in this step.
    loop_.Post([alive = std::weak_ptr<bool>(alive_), this] {
      auto a = alive.lock();
      if (a && *a) FlushPushes();
    });
  }
  pending_pushes_.push_back(std::move(status));
}

void SimProvider::FlushPushes() {
  std::vector<InstanceStatus> batch;
  batch.swap(pending_pushes_);
  for (const InstanceStatus& s : batch) {
    if (sink_) sink_(s);
  }
}

void SimProvider::TerminateNow(SimIndex i, bool by_api) {
  terminate_log_.push_back(
      SimTerminateRecord{IdOf(i), loop_.Now(), by_api, TruthAt(i)});
  Mutate(i, [&](Instance& in) {
    in.crashed = false;
    in.app_hung = false;
    in.boot_to_stopped = false;
    if (in.degraded) {
      degraded_.erase(i);
      in.degraded = false;
    }
    SetLifecycle(i, Lifecycle::kTerminated);
  });
  // Root volumes go with the instance; detachable data volumes survive,
  // detached. Elastic addresses stay allocated, unattached.
  if (auto v = volumes_of_.find(i); v != volumes_of_.end()) {
    for (uint32_t vol : v->second) {
      volumes_[vol].owner = kNone;
      if (!volumes_[vol].detachable) volumes_[vol].deleted = true;
    }
    volumes_of_.erase(v);
  }
  if (auto a = addresses_of_.find(i); a != addresses_of_.end()) {
    for (const std::string& address : a->second) {
      address_owner_.find(address)->second = kNone;
    }
    addresses_of_.erase(a);
  }
}

}  // namespace lifeline
