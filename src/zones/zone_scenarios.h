// Measured zone scenarios in simulated time, shared by the tests and the
// benchmarks (bench/zones_*.cc): each builds its own simulated cloud,
// controller, heartbeat network and load reports, runs the scenario, and
// returns the figures.
//
// Thread-safety: none; each call owns everything it uses.
#pragma once

#include <vector>

#include "core/status.h"
#include "model/group_spec.h"
#include "zones/autoshift.h"

namespace lifeline {

struct ReplacementLatencyOptions {
  int desired = 6;
  WarmPoolSpec warm_pool;  // min_size 0: no pool (cold launches)
  int samples = 1;
};

// Crash -> replacement promoted (the group is back to full serving
// capacity), one crash at a time in rotating zones; the pool refills
// between samples. kInternal if a replacement never finishes.
Result<std::vector<Duration>> MeasureReplacementLatencies(
    const ReplacementLatencyOptions& options, uint64_t seed);
// The first sample only.
Result<Duration> MeasureReplacementLatency(
    const ReplacementLatencyOptions& options, uint64_t seed);

struct ZoneSilenceOptions {
  int per_zone = 4;  // three zones
  // Silence one zone ("sim-1a", ...), or "" for every zone at once.
  std::string zone = "sim-1a";
  AutoshiftConfig autoshift;
  Duration observe = std::chrono::minutes(5);
};

struct ZoneSilenceResult {
  bool shifted = false;
  std::string shifted_zone;
  // Silence began -> the first instance of the zone declared failed
  // (detection), and detection -> the autoshift decision.
  Duration silence_to_detection{};
  Duration detection_to_shift{};
  // Instances terminated although their application was in fact alive.
  int healthy_terminated = 0;
};

// Heartbeats from the zone stop reaching Lifeline (an observer-side
// partition: the instances themselves are fine) and the scenario runs for
// `observe`.
Result<ZoneSilenceResult> RunZoneSilence(const ZoneSilenceOptions& options,
                                         uint64_t seed);

}  // namespace lifeline
