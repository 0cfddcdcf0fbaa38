// B9: one zone (a third of the group) goes silent — its heartbeats stop
// reaching Lifeline although the instances are fine — and, separately,
// every zone goes silent. Figures: detection -> autoshift decision
// (p50/p99), and healthy instances terminated (target 0 in both).
//
// Warm pools: crash -> replacement promoted, without a pool (cold launch),
// with a stopped pool and with a running pool, in the sim provider's
// simulated time (EC2-like latencies: launch ~1s, boot ~20s, start ~2s).
//
// Everything runs in simulated time: the figures are the controller's
// decisions, not this machine's speed.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/report.h"
#include "zones/zone_scenarios.h"

namespace {

using lifeline::Duration;
using lifeline::ToMillis;

constexpr const char* kZones[] = {"sim-1a", "sim-1b", "sim-1c"};

int RunB9(int seeds) {
  std::vector<double> to_shift_ms, silence_to_detect_ms;
  int missed = 0, wrong_zone = 0, terminated_one = 0;
  for (int s = 0; s < seeds; ++s) {
    lifeline::ZoneSilenceOptions o;
    o.zone = kZones[s % 3];
    o.observe = std::chrono::minutes(2);
    auto r = lifeline::RunZoneSilence(o, 1000 + s);
    if (!r.ok()) {
      std::fprintf(stderr, "B9 seed %d: %s\n", s,
                   r.status().ToString().c_str());
      return 1;
    }
    terminated_one += r->healthy_terminated;
    if (!r->shifted) {
      ++missed;
      continue;
    }
    if (r->shifted_zone != o.zone) ++wrong_zone;
    to_shift_ms.push_back(ToMillis(r->detection_to_shift));
    silence_to_detect_ms.push_back(ToMillis(r->silence_to_detection));
  }
  int terminated_all = 0, shifted_all = 0;
  for (int s = 0; s < seeds / 3 + 1; ++s) {
    lifeline::ZoneSilenceOptions o;
    o.zone = "";
    o.observe = std::chrono::minutes(5);
    auto r = lifeline::RunZoneSilence(o, 2000 + s);
    if (!r.ok()) return 1;
    terminated_all += r->healthy_terminated;
    shifted_all += r->shifted;
  }
  lifeline::bench::ReportLatency("B9", "one_zone_detection_to_shift",
                                 to_shift_ms, "ms");
  lifeline::bench::Report("B9", "one_zone_silence_to_detection_p50",
                          lifeline::bench::Percentile(silence_to_detect_ms, 50),
                          "ms");
  lifeline::bench::Report("B9", "one_zone_not_shifted", missed, "count");
  lifeline::bench::Report("B9", "one_zone_wrong_zone_shifted", wrong_zone,
                          "count");
  lifeline::bench::Report("B9", "one_zone_healthy_terminated", terminated_one,
                          "count");
  lifeline::bench::Report("B9", "all_zones_healthy_terminated", terminated_all,
                          "count");
  lifeline::bench::Report("B9", "all_zones_shifts_started", shifted_all,
                          "count");
  return 0;
}

int RunWarmPool(int samples) {
  struct Case {
    const char* name;
    int min_size;
    bool stopped;
  };
  const Case cases[] = {
      {"cold", 0, true}, {"warm_stopped", 1, true}, {"warm_running", 1, false}};
  double cold_p50 = 0;
  for (const Case& c : cases) {
    lifeline::ReplacementLatencyOptions o;
    o.warm_pool.min_size = c.min_size;
    o.warm_pool.stopped = c.stopped;
    o.samples = samples;
    auto r = lifeline::MeasureReplacementLatencies(o, 42);
    if (!r.ok()) {
      std::fprintf(stderr, "warm pool %s: %s\n", c.name,
                   r.status().ToString().c_str());
      return 1;
    }
    std::vector<double> ms;
    for (Duration d : *r) ms.push_back(ToMillis(d));
    double p50 = lifeline::bench::Percentile(ms, 50);
    std::string metric = std::string("replacement_") + c.name;
    if (c.min_size == 0) {
      cold_p50 = p50;
      lifeline::bench::Report("zones-warm-pool", metric + "_p50", p50, "ms");
    } else {
      lifeline::bench::Report("zones-warm-pool", metric + "_p50", p50, "ms",
                              cold_p50);
    }
    lifeline::bench::Report("zones-warm-pool", metric + "_p99",
                            lifeline::bench::Percentile(ms, 99), "ms");
    lifeline::bench::Report("zones-warm-pool", metric + "_samples",
                            static_cast<double>(ms.size()), "count");
  }
  return 0;
}

}  // namespace

int main() {
  std::printf("# B9 and warm pools: simulated time, sim provider\n");
  if (int rc = RunB9(60); rc != 0) return rc;
  return RunWarmPool(30);
}
