// B3, whole daemon (BENCHMARKS.md): resident memory per instance of
// lifelined's core (Daemon: controller, store, durable history, sim
// provider) tracking a simulated fleet polled at 1 Hz.
//
// For each fleet size (default 100000 and 1000000; or argv[1..]) a child
// process reads its own RSS, builds a Daemon on the sim provider with the
// fleet pre-populated (adopted at start), waits until it is ready and three
// status polls more have passed, and reads its RSS again:
//   BENCH B3 daemon_rss_per_instance <bytes> B instances=N rss_mib=...
// bytes/instance = (RSS at steady state - RSS before the daemon) / N; it
// includes the simulated cloud's own record of every instance (the sim
// provider lives in the daemon), so it is an upper bound for lifelined
// against a real provider. A second child measures the simulated cloud
// alone (the same SimProvider, populated, no daemon):
//   BENCH B3 sim_provider_rss_per_instance <bytes> B instances=N
// and the difference of the two is the daemon's own share.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "config/config_loader.h"
#include "core/real_loop.h"
#include "daemon/daemon.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {
namespace {

// VmRSS of this process, in bytes (0 if unknown).
uint64_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
    }
  }
  return 0;
}

std::string Yaml(const std::string& dir, size_t n) {
  std::string count = std::to_string(n);
  return "daemon: {state_dir: " + dir +
         ", systemd_notify: false, log_level: warn}\n"
         "provider:\n"
         "  kind: sim\n"
         "  sim:\n"
         "    zones:\n"
         "      - {name: sim-1a, hosts: 4096}\n"
         "      - {name: sim-1b, hosts: 4096}\n"
         "      - {name: sim-1c, hosts: 4096}\n"
         "    latency: {describe_status: 1ms, list_instances: 5ms,\n"
         "              list_zones: 1ms}\n"
         "    populate: [{group: fleet, count: " +
         count +
         "}]\n"
         "controller: {status_poll_interval: 1s, reconcile_interval: 10s,\n"
         "             status_batch: 1000}\n"
         "history: {memory_capacity: 10000}\n"
         "groups:\n"
         "  - {name: fleet, desired: " +
         count + ", max: " + count +
         ", zones: [sim-1a, sim-1b, sim-1c],\n"
         "     launch: {image: img-1}}\n";
}

// The simulated cloud alone, populated as the daemon's is (child process).
int MeasureSim(size_t n) {
  uint64_t before = RssBytes();
  auto config = ParseConfig(Yaml("/nonexistent", n), "bench.yaml");
  if (!config.ok()) return 1;
  RealClock clock;
  RealLoop loop(clock);
  SimProvider sim(loop, config->provider.sim.seed, config->provider.sim.config);
  SimPopulateRequest req = config->provider.sim.populate.at(0);
  req.spec = config->groups.at(0).launch;
  req.zones = config->groups.at(0).zones;
  auto made = sim.PopulateFleet(req);
  if (!made.ok() || made->size() != n) return 1;
  made->clear();
  made->shrink_to_fit();
  uint64_t after = RssBytes();
  std::printf("BENCH B3 sim_provider_rss_per_instance %.0f B instances=%zu\n",
              static_cast<double>(after - before) / static_cast<double>(n), n);
  std::fflush(stdout);
  return 0;
}

// Runs in a child process; prints the BENCH line. Returns the exit code.
int Measure(size_t n) {
  uint64_t before = RssBytes();
  std::string dir = std::filesystem::temp_directory_path().string() +
                    "/bench_daemon_rss_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto config = ParseConfig(Yaml(dir, n), "bench.yaml");
  if (!config.ok()) {
    std::fprintf(stderr, "config: %s\n", config.status().ToString().c_str());
    return 1;
  }
  RealClock clock;
  auto log = DaemonLog::ToStderr(clock, LogFormat::kText, "warn");
  auto start = std::chrono::steady_clock::now();
  auto d = Daemon::Create(std::move(config).value(), *log);
  if (!d.ok() || !(*d)->Start().ok()) {
    std::fprintf(stderr, "daemon did not start\n");
    return 1;
  }
  Daemon& daemon = **d;
  // Ready: adoption done and the first full status view is in. Polled
  // once a second: this is a measuring program, not a unit test.
  while (!daemon.Ready()) {
    if (std::chrono::steady_clock::now() - start > std::chrono::minutes(10)) {
      std::fprintf(stderr, "not ready after 10 minutes\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double ready_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // 3 more polls
  auto active = daemon.RunOnLoop([&] {
    int a = 0;
    for (const auto& [z, c] : daemon.controller().ZoneCountsOf("fleet")) {
      a += c.active;
    }
    return a;
  });
  uint64_t after = RssBytes();
  daemon.Stop();
  std::filesystem::remove_all(dir);
  if (!active.ok() || static_cast<size_t>(*active) != n) {
    std::fprintf(stderr, "tracking %d of %zu instances\n",
                 active.ok() ? *active : -1, n);
    return 1;
  }
  double per = static_cast<double>(after - before) / static_cast<double>(n);
  std::printf(
      "BENCH B3 daemon_rss_per_instance %.0f B instances=%zu "
      "rss_mib=%.1f ready_s=%.2f target_bytes=1024\n",
      per, n, static_cast<double>(after) / (1 << 20), ready_s);
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {100000, 1000000};
  if (argc > 1) {
    sizes.clear();
    for (int i = 1; i < argc; ++i)
      sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  }
  std::printf(
      "# B3 whole daemon: RSS per instance, sim provider, 1 Hz status polls\n");
  std::fflush(stdout);
  int rc = 0;
  for (size_t n : sizes) {
    for (auto* measure : {&lifeline::Measure, &lifeline::MeasureSim}) {
      pid_t pid = ::fork();
      if (pid == 0) std::_Exit(measure(n));
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = 1;
    }
  }
  return rc;
}
