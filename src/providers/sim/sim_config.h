// Configuration of the simulated cloud: zones, hosts, capacity, and the
// simulated latency of every operation.
//
// Plain values. DefaultSimConfig() gives three zones of modest size and
// EC2-like latencies; tests usually start from it and adjust.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline {

// Every kind of work the simulated cloud times. API operations plus the
// background transitions that follow them (boot, stop).
enum class SimOp {
  kListZones,
  kLaunch,
  kBoot,  // pending -> running after a launch or start
  kTerminate,
  kReboot,
  kStop,
  kStart,
  kRecover,
  kDescribeStatus,
  kListInstances,
  kSnapshotVolumes,
  kAttachVolume,
  kDetachVolume,
  kMoveAddress,
};
inline constexpr size_t kSimOpCount = 14;
std::string_view ToString(SimOp op);

// A latency distribution: uniform in [base, base + jitter].
struct SimLatency {
  Duration base{0};
  Duration jitter{0};
};

struct SimZoneConfig {
  std::string name;
  int hosts = 16;
  // Instances one host can carry; 0 = unlimited.
  int instances_per_host = 0;
  // Instances the whole zone can carry; 0 = unlimited (then only hosts
  // limit it).
  int64_t zone_capacity = 0;
};

struct SimConfig {
  std::vector<SimZoneConfig> zones;
  // Indexed by SimOp. kBoot is the time from the launch (or start) response
  // to running.
  std::array<SimLatency, kSimOpCount> latency{};
  // How long terminated instances stay visible to DescribeStatus({}) and
  // truth listings, like EC2 keeps them for about an hour. Explicit ids are
  // always answered (unknown or terminated -> kTerminated).
  Duration terminated_visibility = std::chrono::hours(1);
  // Application latency an instance reports when nothing degrades it.
  double base_latency_ms = 20;

  SimLatency& latency_of(SimOp op) { return latency[static_cast<size_t>(op)]; }
  const SimLatency& latency_of(SimOp op) const {
    return latency[static_cast<size_t>(op)];
  }
};

// Three zones "sim-1a", "sim-1b", "sim-1c" of 16 unlimited hosts each;
// launch ~1s to pending, boot ~20s, terminate ~2s, reboot ~30s, stop ~15s,
// start ~2s, recover ~60s, describe ~100ms, snapshot ~10s.
SimConfig DefaultSimConfig();

// kInvalidArgument naming the first problem: no zones, a duplicate or empty
// zone name, a zone without hosts, negative capacities or latencies.
Status ValidateSimConfig(const SimConfig& config);

}  // namespace lifeline
