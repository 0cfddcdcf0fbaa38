#include "providers/sim/sim_config.h"

#include <array>
#include <string>
#include <utility>

namespace lifeline {

namespace {
constexpr std::array<std::pair<SimOp, std::string_view>, kSimOpCount> kOps{{
    {SimOp::kListZones, "ListZones"},
    {SimOp::kLaunch, "Launch"},
    {SimOp::kBoot, "Boot"},
    {SimOp::kTerminate, "Terminate"},
    {SimOp::kReboot, "Reboot"},
    {SimOp::kStop, "Stop"},
    {SimOp::kStart, "Start"},
    {SimOp::kRecover, "Recover"},
    {SimOp::kDescribeStatus, "DescribeStatus"},
    {SimOp::kListInstances, "ListInstances"},
    {SimOp::kSnapshotVolumes, "SnapshotVolumes"},
    {SimOp::kAttachVolume, "AttachVolume"},
    {SimOp::kDetachVolume, "DetachVolume"},
    {SimOp::kMoveAddress, "MoveAddress"},
}};
}  // namespace

std::string_view ToString(SimOp op) {
  for (const auto& [value, name] : kOps) {
    if (value == op) return name;
  }
  return "unknown";
}

SimConfig DefaultSimConfig() {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  SimConfig c;
  for (const char* zone : {"sim-1a", "sim-1b", "sim-1c"}) {
    c.zones.push_back(SimZoneConfig{zone, 16, 0, 0});
  }
  auto set = [&c](SimOp op, Duration base, Duration jitter) {
    c.latency_of(op) = SimLatency{base, jitter};
  };
  set(SimOp::kListZones, milliseconds(50), milliseconds(50));
  set(SimOp::kLaunch, milliseconds(800), milliseconds(400));
  set(SimOp::kBoot, seconds(15), seconds(10));
  set(SimOp::kTerminate, seconds(1), seconds(2));
  set(SimOp::kReboot, seconds(20), seconds(20));
  set(SimOp::kStop, seconds(10), seconds(10));
  set(SimOp::kStart, seconds(1), seconds(2));
  set(SimOp::kRecover, seconds(45), seconds(30));
  set(SimOp::kDescribeStatus, milliseconds(50), milliseconds(100));
  set(SimOp::kListInstances, milliseconds(100), milliseconds(100));
  set(SimOp::kSnapshotVolumes, seconds(5), seconds(10));
  set(SimOp::kAttachVolume, seconds(1), seconds(2));
  set(SimOp::kDetachVolume, seconds(1), seconds(2));
  set(SimOp::kMoveAddress, milliseconds(500), milliseconds(500));
  return c;
}

Status ValidateSimConfig(const SimConfig& config) {
  if (config.zones.empty()) return InvalidArgument("sim config: no zones");
  for (size_t i = 0; i < config.zones.size(); ++i) {
    const SimZoneConfig& z = config.zones[i];
    if (z.name.empty()) {
      return InvalidArgument("sim config: zone #" + std::to_string(i) +
                             ": empty name");
    }
    for (size_t j = 0; j < i; ++j) {
      if (config.zones[j].name == z.name) {
        return InvalidArgument("sim config: zone " + z.name + ": duplicate");
      }
    }
    if (z.hosts <= 0) {
      return InvalidArgument("sim config: zone " + z.name +
                             ": hosts must be "
                             "positive, got " +
                             std::to_string(z.hosts));
    }
    if (z.instances_per_host < 0 || z.zone_capacity < 0) {
      return InvalidArgument("sim config: zone " + z.name +
                             ": negative capacity");
    }
  }
  for (size_t op = 0; op < kSimOpCount; ++op) {
    const SimLatency& l = config.latency[op];
    if (l.base.count() < 0 || l.jitter.count() < 0) {
      return InvalidArgument("sim config: latency of " +
                             std::string(ToString(static_cast<SimOp>(op))) +
                             ": negative");
    }
  }
  return Status::Ok();
}

}  // namespace lifeline
