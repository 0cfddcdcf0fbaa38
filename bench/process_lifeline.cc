// Lifeline runners of the process benchmarks (see process_runners.h).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bench/process_runners.h"
#include "config/config_loader.h"
#include "daemon/daemon.h"

namespace lifeline::bench {

int FreePort(bool tcp) {
  int fd = ::socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

namespace {

void WriteKey(const std::string& path) {
  std::random_device rd;
  std::ofstream out(path);
  for (int i = 0; i < 64; ++i) out << "0123456789abcdef"[rd() % 16];
  out << "\n";
  out.close();
  ::chmod(path.c_str(), 0600);
}

}  // namespace

std::string LifelineConfig(const RunnerPaths& paths, const std::string& socket,
                           int n, std::chrono::milliseconds interval,
                           int hb_port, int api_port) {
  std::string key = paths.dir + "/hb.key";
  WriteKey(key);
  std::ostringstream y;
  y << "daemon: {state_dir: " << paths.dir
    << "/state, systemd_notify: false, log_level: warn}\n"
    << "api: {listen: 127.0.0.1:" << api_port << "}\n"
    << "provider:\n  kind: process\n"
    << "  process: {zones: [zone-a, zone-b, zone-c], terminate_grace: 1s}\n"
    << "heartbeat:\n  listen: [127.0.0.1:" << hb_port << "]\n"
    << "  interval: " << interval.count() << "ms\n"
    << "  keys: {\"1\": " << key
    << "}\n"
    // Polling /proc is the reconciliation path; exits arrive by pidfd and
    // hangs by heartbeats, so the poll stays at its default.
    << "controller: {status_poll_interval: 10s, reconcile_interval: 30s, "
       "recovery_stable: 1s}\n"
    // Rate limits are policy, not speed: raised so that they do not pace
    // the samples (each victim is distinct and spaced).
    << "safety: {cold_start_grace: 1s, fleet_actions_per_minute: 100000, "
       "fleet_burst: 10000, zone_actions_per_minute: 100000, "
       "zone_burst: 10000}\n"
    << "groups:\n  - name: bench\n    desired: " << n << "\n"
    << "    zones: [zone-a, zone-b, zone-c]\n"
    << "    launch: {command: " << paths.workload << ", args: [\"" << socket
    << "\", lifeline]}\n"
    << "    grace_period: 3s\n"
    << "    checks: {system: true, instance: true, application: true}\n"
    << "    heartbeat_key_id: \"1\"\n"
    << "    ladder:\n"
    << "      instance:\n"
    << "        - {action: reboot, max_attempts: 100, window: 1m, timeout: "
       "30s}\n"
    << "      application:\n"
    << "        - {action: reboot, max_attempts: 100, window: 1m, timeout: "
       "30s}\n"
    << "    safety: {actions_per_minute: 100000, burst: 10000, "
       "max_in_recovery: 100, max_in_recovery_ratio: 0.5}\n";
  return y.str();
}

namespace {

class LifelineInProcess final : public Runner {
 public:
  LifelineInProcess(Board& board, RunnerPaths paths,
                    std::chrono::milliseconds interval)
      : board_(board), paths_(std::move(paths)), interval_(interval) {}
  ~LifelineInProcess() override { Stop(); }

  std::string name() const override { return "lifeline"; }
  int pid() const override { return static_cast<int>(::getpid()); }

  bool Start(int n, std::chrono::seconds limit) override {
    std::filesystem::create_directories(paths_.dir);
    std::string yaml =
        LifelineConfig(paths_, board_.socket_path(), n, interval_,
                       FreePort(false), FreePort(true));
    auto config = ParseConfig(yaml, paths_.dir + "/lifeline.yaml");
    if (!config.ok()) {
      std::fprintf(stderr, "# lifeline: config: %s\n",
                   config.status().ToString().c_str());
      return false;
    }
    log_ = DaemonLog::ToStderr(clock_, LogFormat::kText, "warn");
    auto daemon = Daemon::Create(std::move(config).value(), *log_);
    if (!daemon.ok()) {
      std::fprintf(stderr, "# lifeline: %s\n",
                   daemon.status().ToString().c_str());
      return false;
    }
    daemon_ = std::move(daemon).value();
    Board* board = &board_;
    // Called on the loop thread inside the append: the moment the
    // controller declares the instance failed.
    daemon_->history().AddListener([board](const HistoryEvent& e) {
      if (e.type != "instance.unhealthy") return;
      int64_t now = MonoNs();
      std::string signals;
      for (const auto& [k, v] : e.evidence) {
        if (k == "signals") signals = v;
      }
      board->Detected(e.instance, now, signals, e.message);
    });
    Status started = daemon_->Start();
    if (!started.ok()) {
      std::fprintf(stderr, "# lifeline: start: %s\n",
                   started.ToString().c_str());
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Settled(n)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::fprintf(stderr,
                 "# lifeline: %zu of %d instances reported, not settled\n",
                 board_.Count(), n);
    return false;
  }

  void Stop() override {
    if (daemon_) {
      daemon_->Stop();
      daemon_.reset();
    }
    KillMarked(board_.socket_path());
  }

 private:
  // Every instance reported, is healthy with heartbeats flowing and past
  // its grace period (failures other than exits are ignored during it), no
  // workflow is open, and the safety governor is not holding actions back
  // after a stall of the loop (spawning many processes at start can block
  // the loop for longer than safety.stall_threshold).
  bool Settled(int n) {
    if (board_.Count() < static_cast<size_t>(n)) return false;
    auto r = daemon_->RunOnLoop([&] {
      Controller& c = daemon_->controller();
      if (!c.ready() || !c.workflows().empty() || c.governor().stalled()) {
        return false;
      }
      const GroupSpec* spec = c.group("bench");
      if (spec == nullptr) return false;
      MonoTime now = c.loop().Now();
      int ok = 0;
      for (const auto& [id, rec] : c.instances()) {
        bool in_grace = now < std::max(rec.launched_at, rec.restarted_at) +
                                  spec->grace_period;
        if (!in_grace && !rec.verdict.unhealthy && rec.app == AppHealth::kOk) {
          ++ok;
        }
      }
      return ok == n;
    });
    return r.ok() && *r;
  }

  Board& board_;
  RunnerPaths paths_;
  std::chrono::milliseconds interval_;
  RealClock clock_;
  std::unique_ptr<DaemonLog> log_;
  std::unique_ptr<Daemon> daemon_;
};

// The real lifelined binary. Settled = every instance reported, then the
// group's grace period and a margin without a new report.
class Lifelined final : public Runner {
 public:
  Lifelined(Board& board, RunnerPaths paths, std::chrono::milliseconds interval)
      : board_(board), paths_(std::move(paths)), interval_(interval) {}
  ~Lifelined() override { Stop(); }

  std::string name() const override { return "lifelined"; }
  int pid() const override { return pid_; }

  bool Start(int n, std::chrono::seconds limit) override {
    std::filesystem::create_directories(paths_.dir);
    std::string config = paths_.dir + "/lifeline.yaml";
    std::ofstream(config) << LifelineConfig(paths_, board_.socket_path(), n,
                                            interval_, FreePort(false),
                                            FreePort(true));
    pid_ = Spawn({paths_.lifelined, "--config", config},
                 paths_.dir + "/lifelined.log");
    if (!board_.WaitUntil(
            [&] {
              return board_.starts_locked().size() >= static_cast<size_t>(n);
            },
            limit)) {
      std::fprintf(stderr, "# lifelined: %zu of %d instances reported\n",
                   board_.Count(), n);
      return false;
    }
    // Past the grace period every instance has been heard from or was
    // restarted (a restart would report again): wait for a quiet spell.
    uint64_t seen = board_.reports();
    auto quiet_until =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < quiet_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (board_.reports() != seen) {
        seen = board_.reports();
        quiet_until =
            std::chrono::steady_clock::now() + std::chrono::seconds(5);
      }
    }
    return ::kill(pid_, 0) == 0;
  }

  void Stop() override {
    KillChild(pid_);
    pid_ = -1;
    KillMarked(board_.socket_path());
  }

 private:
  Board& board_;
  RunnerPaths paths_;
  std::chrono::milliseconds interval_;
  pid_t pid_ = -1;
};

}  // namespace

std::unique_ptr<Runner> MakeLifelineInProcess(
    Board& board, RunnerPaths paths, std::chrono::milliseconds interval) {
  return std::make_unique<LifelineInProcess>(board, std::move(paths), interval);
}

std::unique_ptr<Runner> MakeLifelined(Board& board, RunnerPaths paths,
                                      std::chrono::milliseconds interval) {
  return std::make_unique<Lifelined>(board, std::move(paths), interval);
}

}  // namespace lifeline::bench
