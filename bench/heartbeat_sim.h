// A fast fleet simulation around FailureDetector for the B5/B7 benchmarks:
// every instance sends every h from its own phase; each heartbeat is lost
// (independently, or in Gilbert-Elliott bursts) or arrives after a uniform
// delay in [0, jitter]. Time moves in 1 ms steps; the detector is advanced
// every `advance_every`. Baseline detectors (a fixed timeout and a normal-
// distribution phi as in Akka/Cassandra) judge the same arrivals.
// Instances can be replaced (untracked, and a new id with a new sequence
// tracked, as the recovery ladder does) to measure young instances.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"
#include "heartbeat/detector.h"

namespace lifeline::bench {

struct SimParams {
  int instances = 1000;
  Duration h = std::chrono::milliseconds(100);
  double loss = 0;
  double burst_enter = 0, burst_exit = 1;  // Gilbert-Elliott
  int jitter_ms = 0;                       // uniform [0, jitter_ms]
  Duration run = std::chrono::minutes(10);
  Duration kill_after = Duration::zero();  // >0: all die at run end + random
  uint64_t seed = 1;
  Duration advance_every = std::chrono::milliseconds(1);
  heartbeat::DetectorConfig config;
  Duration fixed_timeout = std::chrono::milliseconds(300);
  double normal_phi = 8;
  // >0: every instance is replaced this often (staggered), so the fleet
  // is always young.
  Duration replace_every = Duration::zero();
  // The first `young` instances are replaced `young_age` before the run
  // ends: at death they are that old, in a group with `run` of history.
  int young = 0;
  Duration young_age = Duration::zero();
  bool state_interval = false;  // entries carry h (Lifeline's senders do)
};

struct SimResult {
  uint64_t heartbeats_sent = 0;
  double instance_hours = 0;
  uint64_t false_failed = 0;   // failed while alive
  uint64_t false_suspect = 0;  // suspect while alive
  uint64_t fixed_timeout_fp = 0;
  uint64_t normal_phi_fp = 0;
  std::vector<double> detect_from_last_ms;   // declared failed - last arrival
  std::vector<double> detect_from_death_ms;  // declared failed - death
  std::vector<double> detect_young_from_last_ms;  // the `young` ones only
  uint64_t replacements = 0;
};

inline SimResult RunFleet(const SimParams& p) {
  using std::chrono::milliseconds;
  SimResult res;
  SimClock clock;
  const MonoTime t0 = clock.Now();
  heartbeat::FailureDetector det(p.config, t0);
  det.Reserve(static_cast<size_t>(p.instances));
  Rng rng(p.seed);
  const int h_ms = static_cast<int>(p.h / milliseconds(1));
  std::vector<std::vector<uint32_t>> by_phase(static_cast<size_t>(h_ms));
  std::vector<uint32_t> index(static_cast<size_t>(p.instances));
  for (int i = 0; i < p.instances; ++i) {
    std::string id = "i-" + std::to_string(i);
    (void)det.Track(id, 0, t0);
    index[static_cast<size_t>(i)] = det.Find(id);
    by_phase[static_cast<size_t>(rng.UniformInt(0, h_ms - 1))].push_back(
        static_cast<uint32_t>(i));
  }
  const size_t n = static_cast<size_t>(p.instances);
  std::vector<uint64_t> seq(n, 1000), base(n, 0);
  std::vector<int64_t> replace_ms(n, -1);
  std::vector<std::string> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = "i-" + std::to_string(i);
  const int64_t every_ms = p.replace_every / milliseconds(1);
  for (size_t i = 0; i < n; ++i) {
    if (every_ms > 0) replace_ms[i] = rng.UniformInt(1, every_ms);
    if (static_cast<int>(i) < p.young)
      replace_ms[i] = p.run / milliseconds(1) - p.young_age / milliseconds(1);
  }
  std::vector<uint8_t> bad(n, 0), dead(n, 0);
  std::vector<int64_t> last_ms(n, -1), death_ms(n, -1);
  std::vector<float> mean(n, static_cast<float>(h_ms)), var(n, 0);
  constexpr int kRing = 256;
  struct Arrival {
    uint32_t i;
    uint64_t seq;
  };
  std::vector<std::vector<Arrival>> ring(kRing);
  heartbeat::DetectorOutput out;
  heartbeat::HeartbeatEntry e;
  if (p.state_interval)
    e.interval_us = static_cast<uint32_t>(p.h / std::chrono::microseconds(1));
  const int64_t run_ms = p.run / milliseconds(1);
  const int64_t kill_ms =
      p.kill_after > Duration::zero() ? p.kill_after / milliseconds(1) : -1;
  const int64_t end_ms = kill_ms >= 0 ? run_ms + kill_ms : run_ms;
  const int64_t adv = std::max<int64_t>(1, p.advance_every / milliseconds(1));
  // z with -log10(P(X > mean + z*sd)) = normal_phi: solve by bisection.
  double zlo = 0, zhi = 20;
  for (int k = 0; k < 100; ++k) {
    double mid = (zlo + zhi) / 2;
    double tail = 0.5 * std::erfc(mid / std::sqrt(2.0));
    (-std::log10(tail) < p.normal_phi ? zlo : zhi) = mid;
  }
  const double z_phi = zlo;
  const int64_t fixed_ms = p.fixed_timeout / milliseconds(1);

  if (kill_ms >= 0) {
    for (size_t i = 0; i < n; ++i)
      death_ms[i] = run_ms + rng.UniformInt(0, h_ms - 1);
  }
  for (int64_t ms = 0; ms <= end_ms; ++ms) {
    MonoTime now = t0 + milliseconds(ms);
    for (uint32_t i : by_phase[static_cast<size_t>(ms % h_ms)]) {
      if (death_ms[i] >= 0 && ms >= death_ms[i]) {
        dead[i] = 1;
        continue;
      }
      if (replace_ms[i] >= 0 && ms >= replace_ms[i]) {
        (void)det.Untrack(ids[i]);
        ids[i] = "i-" + std::to_string(i) + "." + std::to_string(ms);
        (void)det.Track(ids[i], 0, now);
        index[i] = det.Find(ids[i]);
        seq[i] += 1'000'000;
        base[i] = seq[i];
        last_ms[i] = -1;
        ++res.replacements;
        replace_ms[i] = every_ms > 0 ? ms + every_ms : -1;
      }
      uint64_t s = ++seq[i];
      ++res.heartbeats_sent;
      bool lost = false;
      if (p.burst_enter > 0) {
        bad[i] = bad[i] ? !rng.Bernoulli(p.burst_exit)
                        : rng.Bernoulli(p.burst_enter);
        lost = bad[i];
      }
      if (!lost && p.loss > 0) lost = rng.Bernoulli(p.loss);
      if (lost) continue;
      int64_t at = ms + (p.jitter_ms > 0 ? rng.UniformInt(0, p.jitter_ms) : 0);
      ring[static_cast<size_t>(at % kRing)].push_back(Arrival{i, s});
    }
    auto& bucket = ring[static_cast<size_t>(ms % kRing)];
    for (const Arrival& a : bucket) {
      if (a.seq <= base[a.i]) continue;  // sent by a replaced instance
      e.seq = a.seq;
      det.Observe(index[a.i], e, 0, now, &out);
      int64_t& last = last_ms[a.i];
      if (last >= 0) {
        double gap = static_cast<double>(ms - last);
        if (ms - last > fixed_ms) ++res.fixed_timeout_fp;
        double sd = std::max(std::sqrt(static_cast<double>(var[a.i])), 10.0);
        if (gap > mean[a.i] + z_phi * sd) ++res.normal_phi_fp;
        double d = gap - mean[a.i];
        mean[a.i] += static_cast<float>(d / 16);
        var[a.i] += static_cast<float>((d * d - var[a.i]) / 16);
      }
      last = ms;
    }
    bucket.clear();
    if (ms % adv == 0) {
      det.AdvanceTo(now, &out);
      for (const auto& t : out.transitions) {
        size_t i = std::stoul(t.instance_id.substr(2));
        bool alive = !dead[i];
        if (t.health == AppHealth::kFailed) {
          if (alive) {
            ++res.false_failed;
          } else {
            res.detect_from_last_ms.push_back(
                static_cast<double>(ms - last_ms[i]));
            res.detect_from_death_ms.push_back(
                static_cast<double>(ms - death_ms[i]));
            if (static_cast<int>(i) < p.young)
              res.detect_young_from_last_ms.push_back(
                  static_cast<double>(ms - last_ms[i]));
          }
        } else if (t.health == AppHealth::kSuspect && alive) {
          ++res.false_suspect;
        }
      }
      out.clear();
    }
  }
  res.instance_hours =
      static_cast<double>(p.instances) * ToSeconds(p.run) / 3600.0;
  return res;
}

}  // namespace lifeline::bench
