// Rng: a small, seeded, deterministic random generator (xoshiro256**).
// Passed in wherever randomness is needed (jitter, simulated faults); never
// global. Its sequence depends only on the seed, on every platform, so a
// failing simulation seed replays exactly.
//
// Thread-safety: none; one owner.
#pragma once

#include <cstdint>

#include "core/clock.h"

namespace lifeline {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [lo, hi] (inclusive).
  int64_t UniformInt(int64_t lo, int64_t hi);
  bool Bernoulli(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller).
  double Normal(double mean, double stddev);
  // Exponential with the given mean.
  double Exponential(double mean);
  // A uniformly random duration in [lo, hi].
  Duration UniformDuration(Duration lo, Duration hi) {
    return Duration(UniformInt(lo.count(), hi.count()));
  }
  // A child generator with an independent stream (for sub-components).
  Rng Fork() { return Rng(Next()); }

 private:
  uint64_t s_[4];
};

}  // namespace lifeline
