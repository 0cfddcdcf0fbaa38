// What the simulated cloud knows that Lifeline may only infer: the ground
// truth of each instance, volume and address, and a record of every
// operation performed on it. Tests and the simulator read these to check the
// controller's view against reality.
//
// Plain values, produced on demand by SimProvider.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "model/model.h"
#include "providers/sim/sim_config.h"

namespace lifeline {

// Dense index of an instance inside the simulator; ids are derived from it
// ("sim-000001" is index 0).
using SimIndex = uint32_t;

// How an instance crashes.
enum class CrashKind {
  kUnresponsive,  // kernel panic / wedged: running, instance check impaired
  kStopped,       // the guest shut itself down: lifecycle stopped
};
std::string_view ToString(CrashKind k);

struct SimTruth {
  std::string id;
  std::string group;
  std::string zone;
  std::string host;
  Lifecycle lifecycle = Lifecycle::kPending;
  bool host_failed = false;  // its host is broken (system check impaired)
  bool crashed = false;      // instance check impaired
  bool app_hung = false;     // process runs, checks OK, heartbeats stop
  double error_ratio = 0;    // what a load report would say (0..1)
  double latency_ms = 0;
  std::string launched_by_token;  // empty for pre-populated instances
  MonoTime launched_at{};
  MonoTime state_since{};  // last lifecycle change

  // The application answers: running on a working host, not crashed, not
  // hung. This is what a heartbeat agent inside would tell.
  bool app_alive() const {
    return lifecycle == Lifecycle::kRunning && !host_failed && !crashed &&
           !app_hung;
  }
  // Alive and not degraded: terminating it would be a mistake.
  bool healthy() const { return app_alive() && error_ratio <= 0; }
};

// One termination, by Lifeline's API call or behind its back.
struct SimTerminateRecord {
  std::string id;
  MonoTime at{};
  bool by_api = true;
  SimTruth before;  // the instance's truth just before it was terminated
};

// Calls counted when made, outcomes when they complete.
struct SimOpCounters {
  uint64_t calls = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
};

struct SimVolumeTruth {
  std::string id;
  std::string device;
  std::string zone;
  std::string owner;  // instance id, empty when detached
  std::string from_snapshot;
  int size_gib = 0;
  bool detachable = false;
  bool deleted = false;  // deleted with its (terminated) instance
};

// Gray failure of a zone: what instances there report, and how often
// launches into it fail.
struct SimDegradation {
  double error_ratio = 0.05;
  double latency_ms = 500;
  double launch_failure_rate = 0.2;
};

// Control-plane faults, drawn per call from the provider's Rng.
struct SimApiFaults {
  double throttle_rate = 0;  // kResourceExhausted with retry_after
  std::chrono::milliseconds retry_after{1000};
  double unavailable_rate = 0;  // kUnavailable
};

// Request for SimProvider::PopulateFleet: running instances created at once,
// round-robin over the zones, without API calls or timers.
struct SimPopulateRequest {
  std::string group;
  LaunchSpec spec;
  std::vector<std::string> zones;  // empty: every zone
  size_t count = 0;
};

}  // namespace lifeline
