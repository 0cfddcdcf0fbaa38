#include "zones/zone_scenarios.h"

#include <memory>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "core/sim_loop.h"
#include "providers/sim/sim_provider.h"
#include "testing/sim_heartbeats.h"
#include "zones/sim_load_reporter.h"
#include "zones/zonal_shift.h"

namespace lifeline {

namespace {

const char* const kZones[] = {"sim-1a", "sim-1b", "sim-1c"};

// One simulated world with one group "web" over three zones.
struct World {
  SimClock clock;
  SimLoop loop{clock};
  SimProvider provider;
  MemoryHistory history;
  MemoryJournal journal;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<SimHeartbeats> heartbeats;
  std::unique_ptr<ZonalShiftManager> shifts;
  std::unique_ptr<SimLoadReporter> reporter;
  std::unique_ptr<AutoshiftDetector> autoshift;

  World(uint64_t seed, const GroupSpec& spec,
        std::optional<AutoshiftConfig> autoshift_config)
      : provider(loop, seed, DefaultSimConfig()) {
    ControllerConfig config;
    config.seed = seed;
    config.safety.cold_start_grace = std::chrono::seconds(30);
    controller =
        std::make_unique<Controller>(loop, provider, history, config, &journal);
    heartbeats = std::make_unique<SimHeartbeats>(loop, provider, *controller);
    (void)controller->ApplyGroup(spec);
    controller->Start();
    shifts = std::make_unique<ZonalShiftManager>(*controller);
    reporter = std::make_unique<SimLoadReporter>(*controller, provider);
    if (autoshift_config) {
      autoshift = std::make_unique<AutoshiftDetector>(*controller, *shifts,
                                                      *autoshift_config);
      autoshift->Start();
    }
  }
  ~World() {
    autoshift.reset();
    reporter.reset();
    shifts.reset();
    heartbeats.reset();
    controller.reset();
  }

  std::vector<HistoryEvent> Events(const std::string& type,
                                   WallTime since) const {
    HistoryQuery q;
    q.type_prefix = type;
    q.since = since;
    q.limit = 100000;
    return history.Query(q);
  }
};

GroupSpec Group(int desired) {
  GroupSpec g;
  g.name = "web";
  g.desired = desired;
  g.max = desired * 3;
  g.zones = {kZones[0], kZones[1], kZones[2]};
  g.launch.image = "img-1";
  g.launch.instance_type = "m5.large";
  g.check_application = true;
  g.grace_period = std::chrono::seconds(60);
  g.ladder.instance = {LadderRung{RecoveryAction::kReplace}};
  g.safety.actions_per_minute = 120;
  g.safety.burst = 20;
  return g;
}

}  // namespace

Result<std::vector<Duration>> MeasureReplacementLatencies(
    const ReplacementLatencyOptions& options, uint64_t seed) {
  GroupSpec g = Group(options.desired);
  g.warm_pool = options.warm_pool;
  World w(seed, g, std::nullopt);
  w.loop.RunFor(std::chrono::minutes(3));
  std::vector<Duration> out;
  for (int i = 0; i < options.samples; ++i) {
    std::string zone = kZones[i % 3];
    std::string victim;
    for (const auto* r : w.controller->GroupInstances("web")) {
      if (r->role == InstanceRole::kActive && r->info.zone == zone &&
          !r->verdict.unhealthy) {
        victim = r->info.id;
        break;
      }
    }
    if (victim.empty()) {
      return Internal("replacement scenario: no healthy instance in " + zone);
    }
    WallTime crashed = w.clock.WallNow();
    LIFELINE_RETURN_IF_ERROR(w.provider.CrashInstance(victim));
    std::optional<Duration> took;
    for (int step = 0; step < 600 && !took; ++step) {
      w.loop.RunFor(std::chrono::milliseconds(100));
      for (const auto& e : w.Events("recovery.succeeded", crashed)) {
        if (e.instance == victim) took = e.at - crashed;
      }
    }
    if (!took) {
      return Internal("replacement of " + victim + " did not finish in 60s");
    }
    out.push_back(*took);
    w.loop.RunFor(std::chrono::minutes(2));  // refill the pool
  }
  return out;
}

Result<Duration> MeasureReplacementLatency(
    const ReplacementLatencyOptions& options, uint64_t seed) {
  ReplacementLatencyOptions one = options;
  one.samples = 1;
  auto r = MeasureReplacementLatencies(one, seed);
  if (!r.ok()) return r.status();
  return r->front();
}

Result<ZoneSilenceResult> RunZoneSilence(const ZoneSilenceOptions& options,
                                         uint64_t seed) {
  GroupSpec g = Group(options.per_zone * 3);
  g.autoshift.enabled = true;
  World w(seed, g, options.autoshift);
  w.loop.RunFor(std::chrono::minutes(3));
  for (const char* z : kZones) {
    if (w.controller->ZoneCountsOf("web")[z].active != options.per_zone) {
      return Internal(std::string("zone silence scenario: zone ") + z +
                      " did not reach its capacity");
    }
  }
  WallTime silent = w.clock.WallNow();
  w.heartbeats->PartitionZone(options.zone);
  w.loop.RunFor(options.observe);

  ZoneSilenceResult r;
  std::optional<WallTime> detected;
  for (const auto& e : w.Events("instance.unhealthy", silent)) {
    if (options.zone.empty() || e.zone == options.zone) {
      detected = e.at;
      break;
    }
  }
  auto started = w.Events("autoshift.started", silent);
  if (!started.empty()) {
    r.shifted = true;
    r.shifted_zone = started.front().zone;
    if (detected) {
      r.silence_to_detection = *detected - silent;
      r.detection_to_shift = started.front().at - *detected;
    }
  }
  for (const auto& t : w.provider.terminate_log()) {
    if (t.by_api && t.before.app_alive()) ++r.healthy_terminated;
  }
  return r;
}

}  // namespace lifeline
