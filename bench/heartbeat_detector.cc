// Detector benchmarks: B3 (bytes per instance at 10 M), B5 (silent death ->
// declared failed, simulated time), B7 (false positives under loss and
// jitter, simulated time), B12 (timing wheel re-arm cost and lateness).
// Run: build-release/bin/bench_heartbeat_detector [b3|b5|b7|b12 ...]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <vector>

#include "bench/heartbeat_sim.h"
#include "bench/report.h"
#include "core/clock.h"
#include "core/rng.h"
#include "heartbeat/detector.h"
#include "heartbeat/timing_wheel.h"

namespace lifeline::bench {
namespace {

using std::chrono::milliseconds;
namespace hb = heartbeat;

// CPU time this thread has used (to tell lateness caused by the code from
// time the shared box did not run the thread).
double ThreadCpuMillis() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

double WallSeconds(const RealClock& c, MonoTime since) {
  return ToSeconds(c.Now() - since);
}

void B3() {
  constexpr size_t kN = 10'000'000;
  RealClock wall;
  MonoTime start = wall.Now();
  long rss_before = ResidentBytes();
  SimClock clock;
  hb::FailureDetector det(hb::DetectorConfig{}, clock.Now());
  det.Reserve(kN);
  char id[32];
  for (size_t i = 0; i < kN; ++i) {
    std::snprintf(id, sizeof id, "i-%012zx", i);  // 14 bytes, EC2-like
    (void)det.Track(id, 0, clock.Now());
  }
  long rss_after = ResidentBytes();
  Report("B3", "detector_bytes_per_instance_10M",
         static_cast<double>(det.MemoryBytes()) / kN, "B");
  Report("B3", "detector_rss_per_instance_10M",
         static_cast<double>(rss_after - rss_before) / kN, "B");
  Report("B3", "track_10M_seconds", WallSeconds(wall, start), "s");
}

void B5() {
  // Silent death after 40 simulated minutes of clean heartbeats at h=100ms;
  // cold_start: the whole fleet (and so its group) is that old; young: 100
  // of the 1000 instances were replaced that long before (restarted into
  // a group with 40 minutes of history), figures for those 100 only.
  struct Case {
    const char* name;
    double loss;
    int jitter;
    Duration warm;
    Duration young_age = Duration::zero();
  };
  using std::chrono::minutes;
  using std::chrono::seconds;
  for (Case c :
       {Case{"clean", 0, 0, minutes(40)},
        Case{"jitter20pm20", 0, 40, minutes(40)},
        Case{"loss1pct_jitter", 0.01, 40, minutes(40)},
        Case{"cold_start_10s", 0, 0, seconds(10)},
        Case{"cold_start_1s", 0, 0, seconds(1)},
        Case{"young_10s_clean", 0, 0, minutes(40), seconds(10)},
        Case{"young_1s_clean", 0, 0, minutes(40), seconds(1)},
        Case{"young_10s_jitter20pm20", 0, 40, minutes(40), seconds(10)}}) {
    std::vector<std::future<SimResult>> parts;
    for (uint64_t seed : {11, 12}) {
      SimParams p;
      p.instances = 1000;
      p.loss = c.loss;
      p.jitter_ms = c.jitter;
      p.run = c.warm;
      p.kill_after = std::chrono::seconds(20);
      p.seed = seed;
      if (c.young_age > Duration::zero()) {
        p.young = 100;
        p.young_age = c.young_age;
        p.state_interval = true;
      }
      parts.push_back(std::async(std::launch::async, RunFleet, p));
    }
    std::vector<double> from_last, from_death;
    uint64_t false_failed = 0;
    for (auto& f : parts) {
      SimResult r = f.get();
      const std::vector<double>& last = c.young_age > Duration::zero()
                                            ? r.detect_young_from_last_ms
                                            : r.detect_from_last_ms;
      from_last.insert(from_last.end(), last.begin(), last.end());
      from_death.insert(from_death.end(), r.detect_from_death_ms.begin(),
                        r.detect_from_death_ms.end());
      false_failed += r.false_failed;
    }
    std::string m = std::string("last_hb_to_failed_") + c.name;
    ReportLatency("B5", m, from_last, "ms");
    Report("B5", std::string("death_to_failed_p99_") + c.name,
           Percentile(from_death, 99), "ms");
    Report("B5", std::string("false_failed_") + c.name,
           static_cast<double>(false_failed), "count");
  }
}

void B7() {
  struct Case {
    const char* name;
    double loss, enter, exit;
    int instances;
    Duration run;
    Duration h;
    Duration replace_every = Duration::zero();
  };
  // The 5 % case covers 100 k instance-hours (3.6 G heartbeats, a few
  // minutes on two cores); the others are sized to stay under a minute.
  const Case cases[] = {
      {"loss5_jitter20pm20_h100ms", 0.05, 0, 1, 25000, std::chrono::hours(4),
       milliseconds(100)},
      {"bursty_h100ms", 0.01, 0.01, 0.4, 3000, std::chrono::hours(2),
       milliseconds(100)},
      {"loss20_jitter_h100ms", 0.20, 0, 1, 3000, std::chrono::hours(2),
       milliseconds(100)},
      {"loss5_jitter20pm20_h1s", 0.05, 0, 1, 30000, std::chrono::hours(2),
       std::chrono::seconds(1)},
      // Always young: every instance replaced (new id, new sequence) every
      // minute, so each of the ~600 k lives is under 60 s old.
      {"loss5_jitter20pm20_young60s_h100ms", 0.05, 0, 1, 5000,
       std::chrono::hours(2), milliseconds(100), std::chrono::seconds(60)},
      {"bursty_young60s_h100ms", 0.01, 0.01, 0.4, 3000, std::chrono::hours(2),
       milliseconds(100), std::chrono::seconds(60)},
  };
  for (const Case& c : cases) {
    RealClock wall;
    MonoTime start = wall.Now();
    std::vector<std::future<SimResult>> parts;
    for (uint64_t seed : {21, 22}) {
      SimParams p;
      p.instances = c.instances / 2;
      p.h = c.h;
      p.loss = c.loss;
      p.burst_enter = c.enter;
      p.burst_exit = c.exit;
      p.jitter_ms = 40;
      p.run = c.run;
      p.kill_after = std::chrono::seconds(60);
      p.seed = seed;
      p.advance_every = milliseconds(5);
      p.config.expected_interval = c.h;
      p.fixed_timeout = 3 * c.h;
      p.replace_every = c.replace_every;
      p.state_interval = c.replace_every > Duration::zero();
      parts.push_back(std::async(std::launch::async, RunFleet, p));
    }
    SimResult sum;
    for (auto& f : parts) {
      SimResult r = f.get();
      sum.replacements += r.replacements;
      sum.instance_hours += r.instance_hours;
      sum.false_failed += r.false_failed;
      sum.false_suspect += r.false_suspect;
      sum.fixed_timeout_fp += r.fixed_timeout_fp;
      sum.normal_phi_fp += r.normal_phi_fp;
      sum.detect_from_last_ms.insert(sum.detect_from_last_ms.end(),
                                     r.detect_from_last_ms.begin(),
                                     r.detect_from_last_ms.end());
    }
    std::string n = c.name;
    Report("B7", "instance_hours_" + n, sum.instance_hours, "h");
    if (sum.replacements > 0) {
      Report("B7", "replacements_" + n, static_cast<double>(sum.replacements),
             "count");
    }
    Report("B7", "false_failed_" + n, static_cast<double>(sum.false_failed),
           "count");
    Report("B7", "false_failed_per_instance_hour_" + n,
           static_cast<double>(sum.false_failed) / sum.instance_hours, "1/h");
    Report("B7", "false_suspect_per_instance_hour_" + n,
           static_cast<double>(sum.false_suspect) / sum.instance_hours, "1/h");
    Report("B7", "baseline_fixed_timeout_3h_fp_" + n,
           static_cast<double>(sum.fixed_timeout_fp), "count");
    Report("B7", "baseline_normal_phi8_fp_" + n,
           static_cast<double>(sum.normal_phi_fp), "count");
    ReportLatency("B7", "detection_from_last_hb_" + n, sum.detect_from_last_ms,
                  "ms");
    Report("B7", "wall_seconds_" + n, WallSeconds(wall, start), "s");
  }
}

void B12() {
  constexpr uint32_t kN = 10'000'000;
  RealClock clock;
  Rng rng(5);
  // ns per re-arm: 10 M entries, re-armed in random order.
  {
    MonoTime origin = clock.Now();
    hb::TimingWheel w(milliseconds(1), 4096, origin);
    w.Resize(kN);
    for (uint32_t i = 0; i < kN; ++i)
      w.Schedule(i, origin + milliseconds(1000 + i % 2000));
    std::vector<uint32_t> order(kN);
    std::vector<uint32_t> delay(kN);
    for (uint32_t i = 0; i < kN; ++i) {
      order[i] = static_cast<uint32_t>(rng.UniformInt(0, kN - 1));
      delay[i] = static_cast<uint32_t>(rng.UniformInt(100, 3000));
    }
    MonoTime start = clock.Now();
    for (uint32_t k = 0; k < kN; ++k) {
      w.Schedule(order[k], origin + milliseconds(delay[k]));
    }
    double ns = static_cast<double>((clock.Now() - start).count()) / kN;
    Report("B12", "rearm_ns_10M", ns, "ns");
  }
  // Lateness: 10 M armed, 1 M re-arms per second of real time for 5 s,
  // the wheel advanced as fast as the loop turns; lateness = firing wall
  // time - deadline. Deadlines lie 1..6.5 s after arming starts, so none is
  // already due when the measured loop begins (arming takes ~0.5 s; the
  // previous harness armed from 0.5 s and counted the arming backlog as
  // lateness). A shared box deschedules the thread now and then: turns are
  // timed against the thread's CPU clock, and lateness is reported over all
  // expiries and over those fired in turns the thread ran through.
  {
    std::vector<uint16_t> offset_ms(kN);
    for (uint32_t i = 0; i < kN; ++i) {
      offset_ms[i] = static_cast<uint16_t>(rng.UniformInt(1000, 6500));
    }
    MonoTime origin = clock.Now();
    hb::TimingWheel w(milliseconds(1), 4096, origin);
    w.Resize(kN);
    std::vector<MonoTime> due(kN);
    for (uint32_t i = 0; i < kN; ++i) {
      due[i] = origin + milliseconds(offset_ms[i]);
      w.Schedule(i, due[i]);
    }
    offset_ms = {};
    MonoTime loop_start = clock.Now();
    Report("B12", "arm_10M_seconds", ToSeconds(loop_start - origin), "s");
    std::vector<double> late_ms, late_on_cpu_ms;
    late_ms.reserve(kN);
    late_on_cpu_ms.reserve(kN);
    std::vector<double> turn_ms;
    uint64_t rearmed = 0, off_cpu_turns = 0;
    double off_cpu_ms = 0;
    MonoTime end = loop_start + std::chrono::seconds(5);
    size_t fired_before = 0;
    bool prev_descheduled = false;
    for (MonoTime now = clock.Now(); now < end;) {
      double cpu0 = ThreadCpuMillis();
      uint64_t target =
          static_cast<uint64_t>(ToSeconds(now - loop_start) * 1e6);
      for (; rearmed < target; ++rearmed) {
        uint32_t i = static_cast<uint32_t>(rng.UniformInt(0, kN - 1));
        due[i] = now + milliseconds(rng.UniformInt(100, 3000));
        w.Schedule(i, due[i]);
      }
      w.Advance(
          now,
          [&](uint32_t i) {
            late_ms.push_back(ToMillis(clock.Now() - due[i]));
          },
          [&](uint32_t i) { __builtin_prefetch(&due[i]); });
      MonoTime after = clock.Now();
      double wall = ToMillis(after - now);
      double lost = wall - (ThreadCpuMillis() - cpu0);
      turn_ms.push_back(wall);
      // Expiries of a turn in which, or just before which, the thread was
      // descheduled waited for the scheduler, not for the wheel.
      bool descheduled = lost > 0.2;
      if (descheduled) {
        ++off_cpu_turns;
        off_cpu_ms += lost;
      }
      if (!descheduled && !prev_descheduled) {
        late_on_cpu_ms.insert(late_on_cpu_ms.end(),
                              late_ms.begin() + fired_before, late_ms.end());
      }
      fired_before = late_ms.size();
      prev_descheduled = descheduled;
      now = after;
    }
    Report("B12", "rearms", static_cast<double>(rearmed), "count");
    ReportLatency("B12", "expiry_lateness", late_ms, "ms");
    ReportLatency("B12", "expiry_lateness_on_cpu_turns", late_on_cpu_ms, "ms");
    ReportLatency("B12", "loop_turn", turn_ms, "ms");
    Report("B12", "turns_descheduled", static_cast<double>(off_cpu_turns),
           "count");
    Report("B12", "descheduled_ms_total", off_cpu_ms, "ms");
  }
}

}  // namespace
}  // namespace lifeline::bench

int main(int argc, char** argv) {
  auto want = [&](const char* name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], name) == 0) return true;
    }
    return false;
  };
  std::printf("# bench_heartbeat_detector: B3 B5 B7 B12\n");
  if (want("b12")) lifeline::bench::B12();
  if (want("b5")) lifeline::bench::B5();
  if (want("b7")) lifeline::bench::B7();
  if (want("b3")) lifeline::bench::B3();
  return 0;
}
