// SimProvider: ground truth queries and bulk fleet creation for benchmarks.
#include "providers/sim/sim_ids.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {

using sim_internal::FormatSerialId;
using sim_internal::ParseSerialId;

SimTruth SimProvider::TruthAt(SimIndex i) const {
  const Instance& in = instances_[i];
  SimTruth t;
  t.id = IdOf(i);
  t.group = groups_[in.group];
  t.zone = zones_[in.zone].config.name;
  t.host = HostName(in.host);
  t.lifecycle = in.lifecycle;
  t.host_failed = hosts_[in.host].failed;
  t.crashed = in.crashed;
  t.app_hung = in.app_hung;
  t.error_ratio = ErrorRatioAt(i);
  t.latency_ms = LatencyAt(i);
  if (auto it = token_of_.find(i); it != token_of_.end()) {
    t.launched_by_token = it->second;
  }
  t.launched_at = MonoTime(Duration(in.launched_ns));
  t.state_since = MonoTime(Duration(in.since_ns));
  return t;
}

std::optional<SimTruth> SimProvider::GroundTruth(std::string_view id) const {
  std::optional<SimIndex> i = IndexOf(id);
  if (!i) return std::nullopt;
  return TruthAt(*i);
}

size_t SimProvider::Count(std::string_view zone, Lifecycle lifecycle) const {
  size_t n = 0;
  for (size_t z = 0; z < zones_.size(); ++z) {
    if (zone.empty() || zones_[z].config.name == zone) {
      n += counts_[z * 5 + static_cast<size_t>(lifecycle)];
    }
  }
  return n;
}

std::vector<std::string> SimProvider::InstanceIds(
    bool include_terminated) const {
  std::vector<std::string> out;
  for (SimIndex i = 0; i < instances_.size(); ++i) {
    if (include_terminated ||
        instances_[i].lifecycle != Lifecycle::kTerminated) {
      out.push_back(IdOf(i));
    }
  }
  return out;
}

std::optional<SimVolumeTruth> SimProvider::VolumeTruth(
    std::string_view volume_id) const {
  auto serial = ParseSerialId("vol-", volume_id);
  if (!serial || *serial > volumes_.size()) return std::nullopt;
  const VolumeRec& v = volumes_[*serial - 1];
  SimVolumeTruth t;
  t.id = std::string(volume_id);
  t.device = v.device;
  t.zone = zones_[v.zone].config.name;
  if (v.owner != kNone) t.owner = IdOf(v.owner);
  t.from_snapshot = v.from_snapshot;
  t.size_gib = v.size_gib;
  t.detachable = v.detachable;
  t.deleted = v.deleted;
  return t;
}

std::vector<std::string> SimProvider::VolumeIdsOf(
    std::string_view instance_id) const {
  std::vector<std::string> out;
  std::optional<SimIndex> i = IndexOf(instance_id);
  if (!i) return out;
  if (auto it = volumes_of_.find(*i); it != volumes_of_.end()) {
    for (uint32_t v : it->second)
      out.push_back(FormatSerialId("vol-", v + 1uLL));
  }
  return out;
}

std::vector<std::string> SimProvider::AddressesOf(
    std::string_view instance_id) const {
  std::optional<SimIndex> i = IndexOf(instance_id);
  if (!i) return {};
  auto it = addresses_of_.find(*i);
  return it == addresses_of_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<std::string> SimProvider::AddressOwner(
    std::string_view address) const {
  auto it = address_owner_.find(address);
  if (it == address_owner_.end()) return std::nullopt;
  return it->second == kNone ? std::string() : IdOf(it->second);
}

Result<SimIndex> SimProvider::PopulateFleetIndexes(
    const SimPopulateRequest& r) {
  std::string what = "PopulateFleet(" + r.group + ")";
  std::vector<uint16_t> zones;
  if (r.zones.empty()) {
    for (size_t z = 0; z < zones_.size(); ++z) {
      zones.push_back(static_cast<uint16_t>(z));
    }
  }
  for (const std::string& name : r.zones) {
    std::optional<uint16_t> z = ZoneIndex(name);
    if (!z) return InvalidArgument("sim: " + what + ": unknown zone " + name);
    zones.push_back(*z);
  }
  SimIndex first = static_cast<SimIndex>(instances_.size());
  uint32_t group = InternGroup(r.group);
  uint32_t spec = InternSpec(group, r.spec);
  instances_.reserve(instances_.size() + r.count);
  for (size_t k = 0; k < r.count; ++k) {
    uint16_t z = zones[k % zones.size()];
    uint32_t host = kNone;
    if (CheckCapacity(z, what).ok()) host = PickHost(z, kNone);
    if (host == kNone) {
      return ResourceExhausted(
          "sim: " + what + ": zone " + zones_[z].config.name +
          " out of capacity after " + std::to_string(k) + " instances");
    }
    SimIndex i = CreateInstance(group, spec, z, host, Lifecycle::kRunning);
    for (const VolumeSpec& v : r.spec.volumes) {
      volumes_.push_back(
          VolumeRec{v.device, "", i, z, v.size_gib, v.detachable, false});
      volumes_of_[i].push_back(static_cast<uint32_t>(volumes_.size() - 1));
    }
  }
  return first;
}

Result<std::vector<InstanceInfo>> SimProvider::PopulateFleet(
    const SimPopulateRequest& r) {
  Result<SimIndex> first = PopulateFleetIndexes(r);
  if (!first.ok()) return first.status();
  std::vector<InstanceInfo> out;
  out.reserve(r.count);
  for (SimIndex i = *first; i < instances_.size(); ++i)
    out.push_back(InfoAt(i));
  return out;
}

}  // namespace lifeline
