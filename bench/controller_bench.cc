// B10: mass failure of 10 k of 1 M instances on the sim provider — recovery
//      decisions per second, and detection -> command latency (wall clock:
//      from the status push reaching the controller to the provider call).
// B14: whole-fleet simulation speed — simulated instance-hours per wall
//      second for a 1 M-instance fleet with background faults.
// Usage: bench_controller [instances] [failures] [simulated_hours]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <utility>

#include "bench/report.h"
#include "controller/controller.h"
#include "core/sim_loop.h"
#include "provider/forwarding_provider.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {
namespace {

using WallClock = std::chrono::steady_clock;  // the benchmark's own stopwatch

// Forwards to the sim provider and stamps, in wall time, when each status
// push reaches the controller and when the controller issues a command.
class TimingProvider final : public ForwardingProvider {
 public:
  explicit TimingProvider(SimProvider& p) : ForwardingProvider(p) {}
  std::unordered_map<std::string, WallClock::time_point> detected, commanded;
  bool stamping = false;

  std::string_view name() const override { return "timing"; }
  void Reboot(const std::string& id, DoneStatus d) override {
    Stamp(id);
    ForwardingProvider::Reboot(id, std::move(d));
  }
  void Recover(const std::string& id, DoneStatus d) override {
    Stamp(id);
    ForwardingProvider::Recover(id, std::move(d));
  }
  void SetStatusSink(StatusSink sink) override {
    ForwardingProvider::SetStatusSink([this, sink](const InstanceStatus& s) {
      if (stamping) detected.emplace(s.id, WallClock::now());
      sink(s);
    });
  }

 private:
  void Stamp(const std::string& id) {
    if (stamping) commanded.emplace(id, WallClock::now());
  }
};

SimConfig FleetConfig() {
  SimConfig c = DefaultSimConfig();
  for (auto& z : c.zones) z.hosts = 2000;
  return c;
}

GroupSpec FleetGroup(size_t n) {
  GroupSpec g;
  g.name = "fleet";
  g.desired = static_cast<int>(n);
  g.min = 0;
  g.max = static_cast<int>(2 * n);
  g.zones = {"sim-1a", "sim-1b", "sim-1c"};
  g.launch.image = "img-1";
  g.grace_period = std::chrono::seconds(60);
  // Actuation is rate-limited separately; B10 measures decisions.
  g.safety.actions_per_minute = 1e9;
  g.safety.burst = 1e9;
  g.safety.max_in_recovery = 1 << 30;
  g.safety.max_in_recovery_ratio = 1.0;
  return g;
}

ControllerConfig FleetControllerConfig() {
  ControllerConfig c;
  c.status_poll_interval = Duration::zero();  // the sim pushes changes
  c.reconcile_interval = std::chrono::minutes(10);
  c.inventory_interval = Duration::zero();  // no address bookkeeping here
  c.max_in_flight_operations = 1 << 30;
  c.safety.fleet_actions_per_minute = 1e9;
  c.safety.fleet_burst = 1e9;
  c.safety.zone_actions_per_minute = 1e9;
  c.safety.zone_burst = 1e9;
  c.safety.cold_start_grace = std::chrono::seconds(1);
  return c;
}

double Seconds(WallClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void B10(size_t instances, size_t failures) {
  SimClock clock;
  SimLoop loop(clock);
  SimProvider cloud(loop, 1, FleetConfig());
  TimingProvider timing(cloud);
  MemoryHistory history(200000);
  SimPopulateRequest pop;
  pop.group = "fleet";
  pop.count = instances;
  auto t0 = WallClock::now();
  if (!cloud.PopulateFleetIndexes(pop).ok()) {
    std::fprintf(stderr, "B10: populate failed\n");
    return;
  }
  Controller controller(loop, timing, history, FleetControllerConfig());
  (void)controller.ApplyGroup(FleetGroup(instances));
  controller.Start();
  loop.RunFor(std::chrono::seconds(90));  // adoption, cold start, grace
  auto t1 = WallClock::now();
  std::printf("# B10: %zu instances adopted in %.2fs wall\n",
              controller.instances().size(), Seconds(t1 - t0));

  uint64_t decisions_before = controller.stats().decisions;
  // The stopwatch's own bookkeeping stays out of the measured window.
  timing.detected.reserve(2 * failures);
  timing.commanded.reserve(2 * failures);
  timing.stamping = true;
  for (size_t k = 0; k < failures; ++k) {
    (void)cloud.CrashInstance(cloud.IdOf(static_cast<SimIndex>(
        (k * 7919) % instances)));
  }
  auto t2 = WallClock::now();
  loop.RunPosted();  // status pushes -> health -> decisions -> commands
  loop.RunFor(std::chrono::milliseconds(1));
  auto t3 = WallClock::now();
  timing.stamping = false;
  uint64_t decisions = controller.stats().decisions - decisions_before;
  double secs = Seconds(t3 - t2);
  bench::Report("B10", "recovery_decisions_per_s", decisions / secs,
                "decisions/s");
  std::vector<double> lat;
  for (const auto& [id, when] : timing.commanded) {
    auto d = timing.detected.find(id);
    if (d != timing.detected.end()) {
      lat.push_back(std::chrono::duration<double, std::micro>(when - d->second)
                        .count());
    }
  }
  bench::ReportLatency("B10", "detection_to_command", lat, "us");
  bench::Report("B10", "commands_issued",
                static_cast<double>(timing.commanded.size()), "count");
  std::printf("# B10: %llu decisions for %zu failures in %.3fs wall\n",
              static_cast<unsigned long long>(decisions), failures, secs);
}

void B14(size_t instances, double hours) {
  SimClock clock;
  SimLoop loop(clock);
  SimProvider cloud(loop, 2, FleetConfig());
  MemoryHistory history(100000);
  SimPopulateRequest pop;
  pop.group = "fleet";
  pop.count = instances;
  if (!cloud.PopulateFleetIndexes(pop).ok()) return;
  ControllerConfig cc = FleetControllerConfig();
  cc.safety.cold_start_grace = std::chrono::seconds(30);
  GroupSpec g = FleetGroup(instances);
  g.safety.actions_per_minute = 600;
  g.safety.burst = 100;
  Controller controller(loop, cloud, history, cc);
  (void)controller.ApplyGroup(g);
  controller.Start();
  loop.RunFor(std::chrono::minutes(2));
  // Background faults: one crash per 1,000 instance-hours, one host failure
  // per 100,000 instance-hours (spread evenly through the run).
  Rng rng(3);
  double crash_per_hour = instances / 1000.0;
  auto t0 = WallClock::now();
  MonoTime end = loop.Now() + std::chrono::duration_cast<Duration>(
                                  std::chrono::duration<double, std::ratio<3600>>(hours));
  Duration step = std::chrono::seconds(10);
  double per_step = crash_per_hour * ToSeconds(step) / 3600.0;
  double carry = 0;
  uint64_t faults = 0;
  while (loop.Now() < end) {
    carry += per_step;
    while (carry >= 1) {
      carry -= 1;
      SimIndex i = static_cast<SimIndex>(rng.UniformInt(0, static_cast<int64_t>(cloud.instance_count()) - 1));
      if (cloud.CrashInstance(cloud.IdOf(i)).ok()) ++faults;
      if (rng.Bernoulli(0.01)) (void)cloud.FailHostOf(cloud.IdOf(i));
    }
    loop.RunFor(step);
  }
  double wall = Seconds(WallClock::now() - t0);
  double instance_hours = instances * hours;
  bench::Report("B14", "sim_instance_hours_per_wall_s", instance_hours / wall,
                "instance-h/s");
  std::printf(
      "# B14: %zu instances, %.2f simulated hours, %llu faults, %llu "
      "recoveries succeeded, %.2fs wall\n",
      instances, hours, static_cast<unsigned long long>(faults),
      static_cast<unsigned long long>(controller.stats().recoveries_succeeded),
      wall);
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  size_t instances = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
  size_t failures = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10000;
  double hours = argc > 3 ? std::strtod(argv[3], nullptr) : 1.0;
  lifeline::B10(instances, failures);
  lifeline::B14(instances, hours);
  long rss = lifeline::bench::ResidentBytes();
  std::printf("# bench_controller peak-ish RSS %.1f MiB\n", rss / 1048576.0);
  return 0;
}
