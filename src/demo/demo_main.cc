// lifeline-demo: a simulated fleet failing and healing, in simulated time.
//
// Runs the real controller core against the simulated cloud, injects a
// timeline of faults, and prints what Lifeline observes, decides and does.
// It is what `make run` shows until the daemon runs local processes.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "core/sim_loop.h"
#include "providers/sim/sim_provider.h"
#include "testing/sim_heartbeats.h"

namespace lifeline {
namespace {

struct Step {
  Duration at;
  std::string what;
  std::function<void()> act;
};

int Main(int argc, char** argv) {
  CLI::App app{
      "lifeline-demo: a simulated fleet of instances failing and healing.\n"
      "Runs Lifeline's controller core against the simulated cloud in\n"
      "simulated time and prints every observation, decision and action."};
  uint64_t seed = 42;
  int per_zone = 4;
  bool verbose = false;
  app.add_option("--seed", seed, "simulation seed (same seed, same story)");
  app.add_option("--per-zone", per_zone, "instances per zone (3 zones)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("-v,--verbose", verbose, "also print every provider call");
  CLI11_PARSE(app, argc, argv);

  SimClock clock;
  SimLoop loop(clock);
  SimProvider cloud(loop, seed, DefaultSimConfig());
  MemoryHistory history;
  ControllerConfig config;
  config.seed = seed;
  Controller controller(loop, cloud, history, config);
  SimHeartbeats heartbeats(loop, cloud, controller);

  history.AddListener([&](const HistoryEvent& e) {
    bool noisy = e.type.rfind("action.", 0) == 0 ||
                 e.type == "capacity.launch" || e.type == "launch.succeeded" ||
                 e.type == "instance.suspect";
    if (noisy && !verbose) return;
    std::printf("%s  %-24s %-11s %s%s\n", FormatWallTime(e.at).substr(11, 12).c_str(),
                e.type.c_str(), e.instance.c_str(), e.message.c_str(),
                e.rule.empty() ? "" : ("  [" + e.rule + "]").c_str());
  });

  GroupSpec web;
  web.name = "web";
  web.desired = 3 * per_zone;
  web.min = 0;
  web.max = 6 * per_zone;
  web.zones = {"sim-1a", "sim-1b", "sim-1c"};
  web.launch.image = "img-web-1";
  web.launch.instance_type = "m5.large";
  web.check_application = true;
  web.grace_period = std::chrono::seconds(60);
  web.ladder.application = {
      {RecoveryAction::kReboot, 1, std::chrono::hours(1), std::chrono::minutes(2)},
      {RecoveryAction::kReplace, 2, std::chrono::hours(1), std::chrono::minutes(10)}};
  if (Status s = controller.ApplyGroup(web); !s.ok()) {
    std::fprintf(stderr, "lifeline-demo: %s\n", s.ToString().c_str());
    return 1;
  }
  controller.Start();

  auto pick = [&](size_t i) {
    auto ids = cloud.InstanceIds(false);
    return ids.empty() ? std::string() : ids[i % ids.size()];
  };
  std::string hung;
  using std::chrono::minutes;
  using std::chrono::seconds;
  std::vector<Step> timeline = {
      {minutes(3), "a host fails under one instance",
       [&] { (void)cloud.FailHostOf(pick(0)); }},
      {minutes(8), "an instance's kernel panics",
       [&] { (void)cloud.CrashInstance(pick(1)); }},
      {minutes(13), "an application hangs (process up, no heartbeats) and "
                    "keeps hanging after every restart",
       [&] {
         hung = pick(2);
         (void)cloud.HangApplication(hung);
       }},
      {minutes(30), "someone terminates an instance behind Lifeline's back",
       [&] { (void)cloud.TerminateBehindBack(pick(3)); }},
      {minutes(35), "zone sim-1b runs out of capacity and loses an instance",
       [&] {
         (void)cloud.SetCapacityShortage("sim-1b", true);
         for (const auto& id : cloud.InstanceIds(false)) {
           if (cloud.GroundTruth(id)->zone == "sim-1b") {
             (void)cloud.TerminateBehindBack(id);
             break;
           }
         }
       }},
      {minutes(45), "Lifeline loses every heartbeat at once (its own network "
                    "breaks): nothing must be destroyed",
       [&] { heartbeats.PartitionZone(""); }},
      {minutes(55), "the monitoring network heals",
       [&] { heartbeats.HealPartition(""); }},
  };

  std::printf("lifeline-demo: group 'web', %d instances in 3 zones, seed %llu "
              "(simulated time)\n\n",
              web.desired, static_cast<unsigned long long>(seed));
  MonoTime start = loop.Now();
  for (const Step& step : timeline) {
    // Keep the hung application hung across reboots until it is replaced.
    while (loop.Now() < start + step.at) {
      loop.RunFor(std::chrono::milliseconds(50));
      if (!hung.empty()) {
        auto t = cloud.GroundTruth(hung);
        if (t && t->lifecycle == Lifecycle::kRunning && !t->app_hung &&
            !t->host_failed && !t->crashed) {
          (void)cloud.HangApplication(hung);
        }
        if (!t || t->lifecycle == Lifecycle::kTerminated) hung.clear();
      }
    }
    std::printf("\n%s  >>> FAULT: %s\n", FormatWallTime(clock.WallNow()).substr(11, 12).c_str(),
                step.what.c_str());
    step.act();
  }
  loop.RunFor(minutes(10));

  const ControllerStats& st = controller.stats();
  int healthy = 0, active = 0;
  for (const auto* r : controller.GroupInstances("web")) {
    if (r->role != InstanceRole::kActive) continue;
    ++active;
    if (!r->verdict.unhealthy) ++healthy;
  }
  size_t healthy_terminated = 0;
  for (const auto& t : cloud.terminate_log()) {
    if (t.by_api && t.before.healthy()) ++healthy_terminated;
  }
  std::printf(
      "\nsummary after %s simulated: %d/%d instances active and healthy; "
      "reboots %llu, recovers %llu, launches %llu, terminates %llu; "
      "recoveries succeeded %llu, failed %llu; safety deferrals %llu; "
      "healthy instances terminated by Lifeline: %zu\n",
      FormatDuration(loop.Now() - start).c_str(), healthy, web.desired,
      (unsigned long long)st.reboots, (unsigned long long)st.recovers,
      (unsigned long long)st.launches, (unsigned long long)st.terminates,
      (unsigned long long)st.recoveries_succeeded,
      (unsigned long long)st.recoveries_failed,
      (unsigned long long)st.deferrals, healthy_terminated);
  return healthy == web.desired && healthy_terminated == 0 ? 0 : 1;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) { return lifeline::Main(argc, argv); }
